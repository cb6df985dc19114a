"""The relation graph: Gaussian kernel weights and neighbour lists over embeddings."""

import pickle

import numpy as np
import pytest
import torch

from skassess.neighbors import knn_graph
from skassess.nn import RelationGraph, kernel_bandwidth, kernel_weights


@pytest.fixture
def rows():
    return np.random.RandomState(0).normal(size=(203, 6)).astype(np.float32)


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


def test_graph_of_every_row_is_the_knn_graph_with_kernel_weights(rows):
    graph = RelationGraph(4, kernel_width=0.5).fit(rows)
    indices, distances = knn_graph(rows, 4)
    np.testing.assert_array_equal(graph.indices_.numpy(), indices)
    assert graph.bandwidth_ == pytest.approx(kernel_bandwidth(distances, 0.5))
    np.testing.assert_allclose(graph.weights_.numpy(), kernel_weights(distances, graph.bandwidth_))
    neighbours, weights = graph.neighbourhood(torch.tensor([5, 0]))
    np.testing.assert_array_equal(neighbours.numpy(), rows[indices[[5, 0]]])
    assert weights.shape == (2, 4)


def test_graph_of_some_rows_gives_them_their_full_graph_neighbourhood(rows):
    labeled = np.array([3, 150, 77])
    full = RelationGraph(5).fit(rows, reference_rows=labeled)
    partial = RelationGraph(5).fit(rows, rows=labeled, reference_rows=labeled)
    assert not partial.is_full and full.is_full
    assert partial.bandwidth_ == pytest.approx(full.bandwidth_)
    for got, expected in zip(
        partial.neighbourhood(torch.tensor([77, 3])),
        full.neighbourhood(torch.tensor([77, 3])),
        strict=True,
    ):
        np.testing.assert_array_equal(got.numpy(), expected.numpy())
    with pytest.raises(ValueError, match="no neighbourhood"):
        partial.neighbourhood(torch.tensor([4]))
    with pytest.raises(ValueError, match="rows=None"):
        partial.attach(rows[:1])


def test_bandwidth_comes_from_the_reference_rows(rows):
    reference = np.arange(10)
    graph = RelationGraph(3, kernel_width=2.0).fit(rows, reference_rows=reference)
    _, distances = knn_graph(rows, 3)
    assert graph.bandwidth_ == pytest.approx(2.0 * distances[reference].mean(), rel=1e-6)


def test_attach_finds_a_training_row_at_distance_zero_and_is_row_independent(rows):
    graph = RelationGraph(3).fit(rows)
    neighbours, weights = graph.attach(rows[[7, 8]])
    np.testing.assert_array_equal(neighbours[0, 0].numpy(), rows[7])
    assert weights[0, 0] == 1.0
    alone, alone_weights = graph.attach(rows[[8]])
    np.testing.assert_array_equal(alone.numpy(), neighbours[1:].numpy())
    np.testing.assert_array_equal(alone_weights.numpy(), weights[1:].numpy())


def test_tiny_inputs_use_fewer_neighbours():
    graph = RelationGraph(10).fit(np.zeros((3, 2)))
    assert graph.n_neighbors_ == 2
    single = RelationGraph(10).fit(np.ones((1, 2)))
    assert single.n_neighbors_ == 0
    neighbours, weights = single.attach(np.zeros((1, 2)))
    assert neighbours.shape == (1, 0, 2) and weights.shape == (1, 0)


def test_pickle_keeps_the_embeddings_once(rows):
    graph = RelationGraph(3).fit(rows)
    restored = pickle.loads(pickle.dumps(graph))
    np.testing.assert_array_equal(restored.embeddings_.numpy(), rows)
    assert np.shares_memory(restored.embeddings_.numpy(), restored._points)
    expected = graph.attach(rows[:4] + 0.1)
    for got, want in zip(restored.attach(rows[:4] + 0.1), expected, strict=True):
        np.testing.assert_array_equal(got.numpy(), want.numpy())
