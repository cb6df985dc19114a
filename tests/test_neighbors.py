"""Nearest-neighbour search: exact blockwise kNN, the inverted file, and the auto rule."""

import numpy as np
import pytest
from sklearn.neighbors import NearestNeighbors

from skassess.neighbors import (
    ExactIndex,
    InvertedFileIndex,
    attach,
    knn_graph,
    neighbor_index,
    recall,
)


@pytest.fixture
def rows():
    return np.random.RandomState(0).normal(size=(203, 6))


@pytest.mark.parametrize("block_size", [1, 16, 50, 203, 1000])
@pytest.mark.parametrize("n_neighbors", [1, 7])
def test_knn_graph_equals_brute_force(rows, block_size, n_neighbors):
    indices, distances = knn_graph(rows, n_neighbors, block_size=block_size)
    expected_distances, expected_indices = (
        NearestNeighbors(n_neighbors=n_neighbors, algorithm="brute").fit(rows).kneighbors()
    )
    np.testing.assert_array_equal(indices, expected_indices)
    np.testing.assert_allclose(distances, expected_distances, rtol=1e-6)
    assert indices.dtype == np.int64
    assert distances.dtype == np.float32


def test_knn_graph_excludes_self_but_not_duplicates():
    X = np.array([[0.0, 0.0], [0.0, 0.0], [3.0, 0.0], [3.0, 1.0]])
    indices, distances = knn_graph(X, 1, block_size=3)
    assert indices[:, 0].tolist() == [1, 0, 3, 2]
    assert distances[:, 0].tolist() == [0.0, 0.0, 1.0, 1.0]


def test_knn_graph_is_exact_for_far_from_origin_rows(rows):
    # float32 products lose precision far from the origin; results must not
    shifted = rows + 1e4
    indices, _ = knn_graph(shifted, 5, block_size=64)
    _, expected = NearestNeighbors(n_neighbors=5, algorithm="brute").fit(shifted).kneighbors()
    np.testing.assert_array_equal(indices, expected)


def test_knn_graph_bounds_on_neighbors(rows):
    indices, distances = knn_graph(rows[:5], 0)
    assert indices.shape == distances.shape == (5, 0)
    assert knn_graph(rows[:5], 4)[0].shape == (5, 4)
    with pytest.raises(ValueError, match="n_neighbors=5 must be between 0 and 4"):
        knn_graph(rows[:5], 5)
    with pytest.raises(ValueError, match="block_size"):
        knn_graph(rows, 2, block_size=0)
    with pytest.raises(ValueError, match="NaN"):
        knn_graph(np.array([[0.0], [np.nan]]), 1)
    with pytest.raises(ValueError, match="2-D"):
        knn_graph(np.zeros(4), 1)


@pytest.mark.parametrize("block_size", [3, 64, 4096])
def test_attach_equals_knn_against_training_rows(rows, block_size):
    X_train, X_new = rows[:150], rows[150:] + 0.1
    indices, distances = attach(X_new, X_train, 6, block_size=block_size)
    expected_distances, expected_indices = (
        NearestNeighbors(n_neighbors=6, algorithm="brute").fit(X_train).kneighbors(X_new)
    )
    np.testing.assert_array_equal(indices, expected_indices)
    np.testing.assert_allclose(distances, expected_distances, rtol=1e-6)


def test_attach_finds_a_training_row_at_distance_zero(rows):
    indices, distances = attach(rows[10:12], rows, 2)
    assert indices[:, 0].tolist() == [10, 11]
    assert distances[:, 0].tolist() == [0.0, 0.0]


def test_attach_is_row_independent(rows):
    X_train, X_new = rows[:150], rows[150:]
    indices, distances = attach(X_new, X_train, 5, block_size=16)
    one_by_one = [attach(row[None], X_train, 5, block_size=16) for row in X_new]
    np.testing.assert_array_equal(indices, np.vstack([i for i, _ in one_by_one]))
    np.testing.assert_array_equal(distances, np.vstack([d for _, d in one_by_one]))


def test_attach_checks_feature_count(rows):
    with pytest.raises(ValueError, match="X_new has 5 features but X_train has 6"):
        attach(rows[:, :5], rows, 1)


# --------------------------------------------------- selected rows, algorithms


@pytest.mark.parametrize("algorithm", ["exact", "ivf"])
def test_knn_graph_of_selected_rows_equals_those_rows_of_the_full_graph(rows, algorithm):
    selected = np.array([150, 3, 77, 3, 202])  # any order, repeats allowed
    full_indices, full_distances = knn_graph(rows, 5, algorithm="exact")
    indices, distances = knn_graph(rows, 5, rows=selected, algorithm=algorithm, random_state=0)
    if algorithm == "exact":
        np.testing.assert_array_equal(indices, full_indices[selected])
        np.testing.assert_allclose(distances, full_distances[selected], rtol=1e-6)
    else:  # approximate: real neighbours at their true distances, never the row itself
        assert not (indices == selected[:, None]).any()
        true = np.linalg.norm(rows[indices] - rows[selected][:, None, :], axis=2)
        np.testing.assert_allclose(distances, true, rtol=1e-6)
        assert (distances >= full_distances[selected] - 1e-6).all()


def test_knn_graph_rejects_bad_rows(rows):
    with pytest.raises(ValueError, match=r"rows must be in \[0, 203\)"):
        knn_graph(rows, 3, rows=[0, 203])
    with pytest.raises(ValueError, match="1-D array of row numbers"):
        knn_graph(rows, 3, rows=[0.5])


def test_unknown_algorithm_is_rejected(rows):
    with pytest.raises(ValueError, match="algorithm must be one of"):
        knn_graph(rows, 3, algorithm="annoy")
    with pytest.raises(ValueError, match="algorithm must be one of"):
        attach(rows[:2], rows, 3, algorithm="brute")


def test_auto_is_exact_for_few_rows_or_few_queries(monkeypatch, rows):
    from skassess.neighbors import _search

    assert isinstance(neighbor_index(rows), ExactIndex)
    assert isinstance(neighbor_index(rows, algorithm="ivf", random_state=0), InvertedFileIndex)
    # pretend that 203 rows are many and 5 queries few
    monkeypatch.setattr(_search, "_AUTO_EXACT_MAX_ROWS", 200)
    monkeypatch.setattr(_search, "_AUTO_EXACT_MAX_QUERIES", 5)
    assert isinstance(neighbor_index(rows, random_state=0), InvertedFileIndex)
    exact, _ = knn_graph(rows, 4, algorithm="exact")
    np.testing.assert_array_equal(knn_graph(rows, 4, rows=np.arange(5))[0], exact[:5])
    calls = []
    monkeypatch.setattr(_search, "neighbor_index", lambda *a, **k: calls.append(k) or 1 / 0)
    with pytest.raises(ZeroDivisionError):
        knn_graph(rows, 4, rows=np.arange(6))  # six queries: the inverted file
    assert calls[0]["algorithm"] == "ivf"


def test_ivf_graph_finds_nearly_all_exact_neighbors(rows):
    exact, _ = knn_graph(rows, 5, algorithm="exact")
    approximate, _ = knn_graph(rows, 5, algorithm="ivf", random_state=0)
    assert recall(approximate, exact) > 0.9


def test_exact_index_queries_equal_the_functions(rows):
    index = neighbor_index(rows, algorithm="exact")
    np.testing.assert_array_equal(index.kneighbors(n_neighbors=4)[0], knn_graph(rows, 4)[0])
    new = rows[:10] + 0.01
    np.testing.assert_array_equal(index.kneighbors(new, 4)[0], attach(new, rows, 4)[0])
    with pytest.raises(ValueError, match="cannot be used with X"):
        index.kneighbors(new, 4, rows=[0])
    with pytest.raises(ValueError, match="X has 5 features but the index has 6"):
        index.kneighbors(new[:, :5], 4)


def test_float32_rows_are_kept_without_a_copy(rows):
    X = rows.astype(np.float32)
    index = neighbor_index(X, algorithm="exact")
    assert np.shares_memory(index._X, X)
    indices, distances = index.kneighbors(n_neighbors=3)
    expected = NearestNeighbors(n_neighbors=3).fit(X.astype(np.float64)).kneighbors()
    np.testing.assert_array_equal(indices, expected[1])
    np.testing.assert_allclose(distances, expected[0], rtol=1e-6)
