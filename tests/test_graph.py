"""The relation graph: blockwise exact kNN, kernel weights, normalised adjacency."""

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from sklearn.neighbors import NearestNeighbors

from skassess.assessor._graph import (
    ExactIndex,
    adjacency_matrix,
    attach,
    degrees,
    kernel_bandwidth,
    kernel_weights,
    knn_graph,
    neighbor_index,
    normalized_adjacency,
    to_torch_sparse,
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


def test_kernel_weights_follow_the_gaussian_formula():
    distances = np.array([[0.5, 1.0], [2.0, 4.0]])
    sigma = kernel_bandwidth(distances, kernel_width=0.5)
    assert sigma == pytest.approx(0.5 * 1.875)
    weights = kernel_weights(distances, sigma)
    np.testing.assert_allclose(weights, np.exp(-(distances**2) / (2 * sigma**2)), rtol=1e-6)
    assert weights.dtype == np.float32
    thresholded = kernel_weights(distances, sigma, distance_threshold=1.0)
    np.testing.assert_array_equal(thresholded[distances > 1.0], 0.0)
    np.testing.assert_array_equal(thresholded[distances <= 1.0], weights[distances <= 1.0])


def test_zero_bandwidth_keeps_only_zero_length_edges():
    assert kernel_bandwidth(np.zeros((3, 0))) == 0.0
    np.testing.assert_array_equal(kernel_weights([[0.0, 1.0]], 0.0), [[1.0, 0.0]])


def _dense_adjacency(indices, weights):
    dense = np.zeros((len(indices), len(indices)))
    for i, (row, row_weights) in enumerate(zip(indices, weights, strict=True)):
        for j, w in zip(row, row_weights, strict=True):
            dense[i, j] = max(dense[i, j], w)
    return np.maximum(dense, dense.T)


def test_adjacency_is_the_max_symmetrisation(rows):
    indices, distances = knn_graph(rows[:40], 4)
    weights = kernel_weights(distances, kernel_bandwidth(distances))
    adjacency = adjacency_matrix(indices, weights)
    assert isinstance(adjacency, sp.csr_array)
    assert adjacency.dtype == np.float32
    np.testing.assert_allclose(adjacency.toarray(), _dense_adjacency(indices, weights), rtol=1e-6)
    assert (adjacency != adjacency.T).nnz == 0
    assert adjacency.diagonal().sum() == 0


def test_adjacency_drops_zero_weight_edges():
    adjacency = adjacency_matrix([[1], [0], [1]], [[0.0], [0.0], [1.0]])
    assert adjacency.nnz == 2
    with pytest.raises(ValueError, match="same shape"):
        adjacency_matrix([[1], [0]], [[1.0, 1.0], [1.0, 1.0]])


def test_normalized_adjacency_matches_dense_reference(rows):
    indices, distances = knn_graph(rows[:40], 4)
    weights = kernel_weights(distances, kernel_bandwidth(distances, 0.7))
    adjacency = adjacency_matrix(indices, weights)
    dense = adjacency.toarray().astype(np.float64) + np.eye(40)
    inv_sqrt_degree = 1 / np.sqrt(dense.sum(axis=1))
    expected = inv_sqrt_degree[:, None] * dense * inv_sqrt_degree[None, :]

    normalized = normalized_adjacency(adjacency)
    assert normalized.dtype == np.float32
    np.testing.assert_allclose(normalized.toarray(), expected, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(degrees(adjacency), dense.sum(axis=1), rtol=1e-6)
    # sqrt(degree) is an eigenvector with eigenvalue 1, the spectrum is in [-1, 1]
    root_degree = np.sqrt(degrees(adjacency))
    np.testing.assert_allclose(normalized @ root_degree, root_degree, rtol=1e-5)
    eigenvalues = np.linalg.eigvalsh(normalized.toarray().astype(np.float64))
    assert eigenvalues.max() == pytest.approx(1.0, abs=1e-5)
    assert eigenvalues.min() >= -1.0 - 1e-5


def test_isolated_nodes_keep_their_self_loop():
    adjacency = adjacency_matrix(np.zeros((3, 0), dtype=int), np.zeros((3, 0)))
    np.testing.assert_array_equal(normalized_adjacency(adjacency).toarray(), np.eye(3))
    without_loops = normalized_adjacency(adjacency, self_loops=False)
    assert without_loops.nnz == 0


def test_to_torch_sparse_matches_dense(rows):
    indices, distances = knn_graph(rows[:30], 3)
    graph = normalized_adjacency(adjacency_matrix(indices, kernel_weights(distances, 1.0)))
    tensor = to_torch_sparse(graph)
    assert tensor.layout == torch.sparse_csr
    assert tensor.dtype == torch.float32
    np.testing.assert_array_equal(tensor.to_dense().numpy(), graph.toarray())
    features = torch.randn(30, 4, generator=torch.Generator().manual_seed(0))
    np.testing.assert_allclose(
        torch.sparse.mm(tensor, features).numpy(), graph @ features.numpy(), rtol=1e-5, atol=1e-6
    )


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
    from skassess.assessor import _graph
    from skassess.utils.neighbors import InvertedFileIndex

    assert isinstance(neighbor_index(rows), ExactIndex)
    assert isinstance(neighbor_index(rows, algorithm="ivf", random_state=0), InvertedFileIndex)
    # pretend that 203 rows are many and 5 queries few
    monkeypatch.setattr(_graph, "_AUTO_EXACT_MAX_ROWS", 200)
    monkeypatch.setattr(_graph, "_AUTO_EXACT_MAX_QUERIES", 5)
    assert isinstance(neighbor_index(rows, random_state=0), InvertedFileIndex)
    exact, _ = knn_graph(rows, 4, algorithm="exact")
    np.testing.assert_array_equal(knn_graph(rows, 4, rows=np.arange(5))[0], exact[:5])
    calls = []
    monkeypatch.setattr(_graph, "neighbor_index", lambda *a, **k: calls.append(k) or 1 / 0)
    with pytest.raises(ZeroDivisionError):
        knn_graph(rows, 4, rows=np.arange(6))  # six queries: the inverted file
    assert calls[0]["algorithm"] == "ivf"


def test_ivf_graph_finds_nearly_all_exact_neighbors(rows):
    from skassess.utils.neighbors import recall

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
