"""Scaling pieces: the inverted-file kNN index and memory-bounded prediction.

The exact blockwise kNN graph is checked against brute force in
``tests/test_neighbors.py``; here the approximate index is checked against the
same brute force, and ``predict`` against its batch size.
"""

import numpy as np
import pytest
from sklearn.neighbors import NearestNeighbors

from skassess.neighbors import InvertedFileIndex, recall


@pytest.fixture(scope="module")
def clustered():
    """Rows in 20 Gaussian blobs, the shape of a pool of architecture embeddings."""
    rng = np.random.RandomState(0)
    centers = rng.normal(scale=4.0, size=(20, 6))
    return centers[rng.randint(20, size=1500)] + rng.normal(size=(1500, 6))


@pytest.mark.parametrize("n_lists", [1, 7, 40])
def test_probing_every_list_is_exact_brute_force(clustered, n_lists):
    index = InvertedFileIndex(n_lists=n_lists, n_probe=n_lists, random_state=0).fit(clustered)
    indices, distances = index.kneighbors(n_neighbors=6)
    expected_distances, expected_indices = (
        NearestNeighbors(n_neighbors=6, algorithm="brute").fit(clustered).kneighbors()
    )
    np.testing.assert_array_equal(indices, expected_indices)
    np.testing.assert_allclose(distances, expected_distances, rtol=1e-6)
    assert indices.dtype == np.int64
    assert distances.dtype == np.float32


def test_new_queries_equal_brute_force_when_every_list_is_probed(clustered):
    train, new = clustered[:1200], clustered[1200:] + 0.05
    index = InvertedFileIndex(n_lists=12, n_probe=12, block_size=64, random_state=0).fit(train)
    indices, distances = index.kneighbors(new, n_neighbors=4)
    expected_distances, expected_indices = (
        NearestNeighbors(n_neighbors=4, algorithm="brute").fit(train).kneighbors(new)
    )
    np.testing.assert_array_equal(indices, expected_indices)
    np.testing.assert_allclose(distances, expected_distances, rtol=1e-6)


def test_few_probes_find_most_neighbors(clustered):
    _, exact = NearestNeighbors(n_neighbors=10, algorithm="brute").fit(clustered).kneighbors()
    index = InvertedFileIndex(n_lists=40, n_probe=4, random_state=0).fit(clustered)
    indices, distances = index.kneighbors(n_neighbors=10)
    assert recall(indices, exact) > 0.9
    # the neighbours it returns are real rows at their true distances, self excluded
    assert not (indices == np.arange(len(clustered))[:, None]).any()
    true = np.linalg.norm(clustered[indices] - clustered[:, None, :], axis=2)
    np.testing.assert_allclose(distances, true, rtol=1e-6)
    assert (np.diff(distances, axis=1) >= 0).all()


def test_search_is_row_independent(clustered):
    index = InvertedFileIndex(n_lists=30, n_probe=3, block_size=50, random_state=0).fit(clustered)
    queries = clustered[::7] + 0.1
    indices, distances = index.kneighbors(queries, n_neighbors=5)
    for rows in (slice(0, 1), slice(5, 40), slice(None, None, -1)):
        part_indices, part_distances = index.kneighbors(queries[rows], n_neighbors=5)
        np.testing.assert_array_equal(part_indices, indices[rows])
        np.testing.assert_array_equal(part_distances, distances[rows])


def test_same_random_state_same_index(clustered):
    first = InvertedFileIndex(n_lists=25, n_probe=2, random_state=3).fit(clustered)
    second = InvertedFileIndex(n_lists=25, n_probe=2, random_state=3).fit(clustered)
    np.testing.assert_array_equal(first.centroids_, second.centroids_)
    np.testing.assert_array_equal(first.kneighbors()[0], second.kneighbors()[0])


def test_tiny_index_still_returns_every_neighbor():
    X = np.arange(12.0).reshape(6, 2)
    # 6 lists of one row: probing one list cannot supply 5 neighbours
    indices, _ = (
        InvertedFileIndex(n_lists=6, n_probe=1, random_state=0).fit(X).kneighbors(n_neighbors=5)
    )
    for row, found in enumerate(indices):
        assert sorted(found) == [i for i in range(6) if i != row]


def test_float32_rows_are_kept_as_given_and_reranked_in_float64(clustered):
    X = clustered.astype(np.float32)
    index = InvertedFileIndex(n_lists=10, n_probe=10, random_state=0).fit(X)
    assert index._X is X  # no float64 copy of the indexed rows
    assert index.n_rows == len(X)
    indices, distances = index.kneighbors(n_neighbors=5)
    expected_distances, expected_indices = (
        NearestNeighbors(n_neighbors=5, algorithm="brute").fit(X.astype(np.float64)).kneighbors()
    )
    np.testing.assert_array_equal(indices, expected_indices)
    np.testing.assert_allclose(distances, expected_distances, rtol=1e-6)


def test_pickled_index_searches_the_same(clustered, tmp_path):
    import joblib

    index = InvertedFileIndex(n_lists=20, n_probe=3, random_state=0).fit(clustered)
    index.kneighbors(n_neighbors=4)  # builds the search cache
    assert "_cache" not in index.__getstate__()
    joblib.dump(index, tmp_path / "index.joblib")
    loaded = joblib.load(tmp_path / "index.joblib")
    for X in (None, clustered[:50] + 0.1):
        expected = index.kneighbors(X, n_neighbors=4)
        for got, want in zip(loaded.kneighbors(X, n_neighbors=4), expected, strict=True):
            np.testing.assert_array_equal(got, want)


def test_new_queries_are_searched_in_chunks_row_independently(clustered, monkeypatch):
    from skassess.neighbors import _ivf as neighbors

    index = InvertedFileIndex(n_lists=30, n_probe=4, random_state=0).fit(clustered)
    queries = clustered[::3] + 0.05
    expected = index.kneighbors(queries, n_neighbors=6)
    monkeypatch.setattr(neighbors, "_QUERY_CHUNK", 37)
    for got, want in zip(index.kneighbors(queries, n_neighbors=6), expected, strict=True):
        np.testing.assert_array_equal(got, want)


def test_spill_buffer_overflow_keeps_the_best_candidates(clustered, monkeypatch):
    from skassess.neighbors import _ivf as neighbors

    index = InvertedFileIndex(n_lists=40, n_probe=6, random_state=0).fit(clustered)
    expected = index.kneighbors(n_neighbors=8)
    # a tiny buffer overflows for most queries: the merge must lose nothing
    monkeypatch.setattr(neighbors, "_SPILL", 2)
    for got, want in zip(index.kneighbors(n_neighbors=8), expected, strict=True):
        np.testing.assert_array_equal(got, want)


def test_integer_rows_are_indexed_as_float64():
    X = np.arange(20).reshape(10, 2)
    indices, distances = (
        InvertedFileIndex(n_lists=2, n_probe=2, random_state=0).fit(X).kneighbors(n_neighbors=2)
    )
    assert indices[0].tolist() == [1, 2]
    np.testing.assert_allclose(distances[0], [np.sqrt(8), np.sqrt(32)], rtol=1e-6)


def test_index_errors(clustered):
    with pytest.raises(ValueError, match="not fitted"):
        InvertedFileIndex().kneighbors(n_neighbors=1)
    index = InvertedFileIndex(n_lists=5, random_state=0).fit(clustered[:50])
    with pytest.raises(ValueError, match="n_neighbors=50 must be between 0 and 49"):
        index.kneighbors(n_neighbors=50)
    with pytest.raises(ValueError, match="features"):
        index.kneighbors(np.zeros((2, 3)), n_neighbors=1)
    with pytest.raises(ValueError, match="n_probe must be a positive integer"):
        InvertedFileIndex(n_probe=0).fit(clustered)
    with pytest.raises(ValueError, match="NaN"):
        InvertedFileIndex().fit([[0.0], [np.nan]])


def test_recall_counts_found_neighbors():
    assert recall(np.array([[1, 2], [0, 3]]), np.array([[2, 1], [0, 2]])) == 0.75
    with pytest.raises(ValueError, match="shapes differ"):
        recall(np.zeros((2, 2)), np.zeros((2, 3)))


def _probed_brute_force(index, queries, n_neighbors):
    """Exact neighbours among the rows of each query's probed lists (float64 oracle)."""
    X = np.asarray(index._X, dtype=np.float64)
    centred = queries - index.center_
    to_centroids = ((centred[:, None, :] - index.centroids_[None]) ** 2).sum(axis=2)
    n_probe = min(index.n_probe, index.n_lists_)
    result = []
    for row, query in enumerate(queries):
        own = to_centroids[row].argmin()
        nearby = index._nearby_lists[own, 1:]
        others = nearby[np.argsort(to_centroids[row, nearby], kind="stable")[: n_probe - 1]]
        members = np.flatnonzero(np.isin(index.list_of_row_, [own, *others]))
        if len(members) < n_neighbors:  # too few: searched exhaustively
            members = np.arange(len(X))
        distance = np.linalg.norm(X[members] - query, axis=1)
        result.append(members[np.argsort(distance, kind="stable")[:n_neighbors]])
    return np.array(result)


@pytest.mark.parametrize("n_probe", [1, 3, 6])
def test_new_queries_are_the_best_rows_of_their_probed_lists(clustered, n_probe):
    train, new = clustered[:1200], clustered[1200:] + 0.05
    index = InvertedFileIndex(n_lists=40, n_probe=n_probe, random_state=0).fit(train)
    indices, _ = index.kneighbors(new, n_neighbors=7)
    expected = _probed_brute_force(index, new, 7)
    # a float32 near-tie between two centroids may pick another list now and then
    assert (indices == expected).all(axis=1).mean() >= 0.99


def test_new_queries_survive_tiny_tiles_batches_and_hit_caps(clustered, monkeypatch):
    from skassess.neighbors import _ivf as neighbors

    index = InvertedFileIndex(n_lists=30, n_probe=5, random_state=0).fit(clustered)
    queries = clustered[::2] + 0.05
    expected = index.kneighbors(queries, n_neighbors=6)
    assert recall(expected[0], _probed_brute_force(index, queries, 6)) >= 0.99
    # one tile per batch, a hit cap that sends most queries to the fallback, odd chunks
    monkeypatch.setattr(neighbors, "_TILE_BYTES", 1)
    monkeypatch.setattr(neighbors, "_MAX_HITS", 2)
    for chunk in (1, 29, 4096):
        monkeypatch.setattr(neighbors, "_QUERY_CHUNK", chunk)
        for got, want in zip(index.kneighbors(queries, n_neighbors=6), expected, strict=True):
            np.testing.assert_array_equal(got, want)


def test_new_queries_against_very_uneven_lists():
    rng = np.random.RandomState(1)
    # a dense blob (long lists), a sparse spread (lists of a row or none)
    X = np.vstack([rng.normal(scale=0.1, size=(900, 3)), rng.uniform(-20, 20, size=(60, 3))])
    index = InvertedFileIndex(n_lists=48, n_probe=48, random_state=0).fit(X)
    sizes = np.bincount(index.list_of_row_, minlength=index.n_lists_)
    assert sizes.max() > 40 and sizes.min() <= 1  # padded to 16 to 48 columns
    new = np.vstack([rng.normal(scale=0.1, size=(50, 3)), rng.uniform(-20, 20, size=(50, 3))])
    indices, distances = index.kneighbors(new, n_neighbors=12)
    expected_distances, expected_indices = (
        NearestNeighbors(n_neighbors=12, algorithm="brute").fit(X).kneighbors(new)
    )
    np.testing.assert_array_equal(indices, expected_indices)
    np.testing.assert_allclose(distances, expected_distances, rtol=1e-6)
    # few probes: still each query's best rows among its probed lists
    few = InvertedFileIndex(n_lists=48, n_probe=3, random_state=0).fit(X)
    assert recall(few.kneighbors(new, n_neighbors=12)[0], _probed_brute_force(few, new, 12)) >= 0.99


@pytest.mark.parametrize("n_probe", [1, 2])
def test_tiny_index_new_queries_still_return_every_neighbor(n_probe):
    X = np.arange(12.0).reshape(6, 2)
    index = InvertedFileIndex(n_lists=6, n_probe=n_probe, random_state=0).fit(X)
    # lists of one row: fewer rows than candidates, so the exhaustive fallback fills in
    indices, distances = index.kneighbors(X + 0.1, n_neighbors=6)
    for row, found in enumerate(indices):
        assert sorted(found) == list(range(6))
        assert found[0] == row
    assert (np.diff(distances, axis=1) >= 0).all()


# --------------------------------------------------------------- prediction


def test_gcn_predict_is_bounded_in_memory(monkeypatch, clustered):
    from skassess.assessor import TransductiveGCNRegressor, _gcn

    y = clustered[:, 0] + clustered[:, 1] ** 2
    y[300:] = np.nan
    model = TransductiveGCNRegressor(max_iter=5, random_state=0).fit(clustered[:1000], y[:1000])
    new = clustered[1000:] + 0.01
    expected = model.predict(new)

    seen = []
    original = model.graph_.index_.kneighbors  # the index fitted with the graph

    def recording_kneighbors(X_new, *args, **kwargs):
        seen.append(len(X_new))
        return original(X_new, *args, **kwargs)

    monkeypatch.setattr(model.graph_.index_, "kneighbors", recording_kneighbors)
    monkeypatch.setattr(_gcn, "_SCORE_CHUNK", 64)
    predictions = model.predict(new)
    assert max(seen) <= 64 and sum(seen) == len(new)
    np.testing.assert_allclose(predictions, expected, rtol=1e-6, atol=1e-9)
