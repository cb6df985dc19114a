"""Trainable parameters of the NAS-Bench-101 network built from a cell, vectorised.

The rules are those of the official model builder (``nasbench/lib/model_builder.py``
and ``base_ops.py`` of google-research/nasbench, Ying et al., 2019), restated:

- The network is a stem (3x3 convolution from the 3 image channels to 128,
  batch normalisation, ReLU), then 3 stacks of 3 modules, each module a copy
  of the cell; before the second and third stack a 2x2 max pooling halves the
  image and the module channels double (128, 256, 512); then global average
  pooling and a dense layer to 10 classes (weights and biases).
- Every convolution has no bias and is followed by batch normalisation, whose
  scale and offset are trainable (2 per channel; the moving statistics are
  not).
- Inside a module of ``C`` output channels whose input has ``C_in``, the
  output concatenates the vertices that feed it: ``C`` is split evenly among
  them, the first ``C mod k`` of the ``k`` (in vertex order) taking one channel
  more; every other inner vertex takes the largest channel count among the
  inner vertices it feeds (``compute_vertex_channels``).
- An inner vertex fed by the module input receives a 1x1 projection (convolution
  and batch normalisation) of it to the vertex's channels; inputs from other
  vertices are truncated to the vertex's channels, with no parameters. A
  ``conv3x3-bn-relu`` vertex of ``c`` channels holds ``9 c^2 + 2 c`` parameters,
  ``conv1x1-bn-relu`` ``c^2 + 2 c``, ``maxpool3x3`` none.
- When the input feeds the output directly, a 1x1 projection of the input to
  ``C`` channels is added to the output (for a cell that is just
  ``input -> output``, it is the output).

The channel split depends on the vertex order (which vertices come first
among those feeding the output), so the count is that of the cell as given;
the NAS-Bench-101 table stores cells in an order that gives the official
count for all of its 423,624 cells.
"""

from __future__ import annotations

from collections import Counter

import numpy as np

__all__ = ["module_parameters", "network_parameters", "vertex_channels"]


def _check(adjacency: np.ndarray, n_vertices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    adjacency = np.asarray(adjacency, dtype=bool)
    n_vertices = np.asarray(n_vertices, dtype=np.int64)
    if adjacency.ndim != 3 or adjacency.shape[1] != adjacency.shape[2]:
        raise ValueError(f"adjacency must have shape (n_cells, n, n), got {adjacency.shape}")
    n_cells, n, _ = adjacency.shape
    if n_vertices.shape != (n_cells,) or (
        n_cells and (n_vertices.min() < 2 or n_vertices.max() > n)
    ):
        raise ValueError(f"n_vertices must hold {n_cells} sizes between 2 and {n}")
    return adjacency, n_vertices


def vertex_channels(
    adjacency: np.ndarray, n_vertices: np.ndarray, input_channels: int, output_channels: int
) -> np.ndarray:
    """Channels of every vertex of pruned cells inside a module, as the official builder sets them.

    Parameters
    ----------
    adjacency : ndarray of shape (n_cells, n, n)
        Upper-triangular 0/1 adjacency of pruned cells; a cell of ``v < n``
        vertices fills rows and columns ``0..v-1``.
    n_vertices : ndarray of shape (n_cells,)
        Each cell's number of vertices (its output is vertex ``n_vertices - 1``).
    input_channels, output_channels : int
        Channels of the module's input and output.

    Returns
    -------
    ndarray of shape (n_cells, n), int64
        0 for padding.

    Examples
    --------
    >>> import numpy as np
    >>> chain = np.array([[[0, 1, 1, 0], [0, 0, 0, 1], [0, 0, 0, 1], [0, 0, 0, 0]]])
    >>> vertex_channels(chain, np.array([4]), 64, 129).tolist()  # 129 = 65 + 64
    [[64, 65, 64, 129]]
    """
    adjacency, n_vertices = _check(adjacency, n_vertices)
    n_cells, n, _ = adjacency.shape
    cells, position = np.arange(n_cells), np.arange(n)
    output = n_vertices - 1
    inner = (position >= 1) & (position < output[:, None])
    feeds = adjacency[cells, :, output] & inner
    fan_in = np.maximum(feeds.sum(axis=1), 1)
    share, extra = output_channels // fan_in, output_channels % fan_in
    first = np.cumsum(feeds, axis=1) <= extra[:, None]  # the first `extra` get one more
    channels = np.where(feeds, share[:, None] + first, 0)
    for v in range(n - 2, 0, -1):  # the others: most channels among the inner vertices they feed
        fed = np.where(adjacency[:, v] & inner, channels, 0).max(axis=1)
        channels[:, v] = np.where(inner[:, v] & ~feeds[:, v], fed, channels[:, v])
    channels[:, 0] = input_channels
    channels[cells, output] = output_channels
    return channels


def module_parameters(
    adjacency: np.ndarray,
    kernel_sizes: np.ndarray,
    n_vertices: np.ndarray,
    input_channels: int,
    output_channels: int,
) -> np.ndarray:
    """Trainable parameters of one module built from each pruned cell.

    Parameters
    ----------
    adjacency : ndarray of shape (n_cells, n, n)
        As for :func:`vertex_channels`.
    kernel_sizes : ndarray of shape (n_cells, n)
        Per vertex, the side of its convolution (3 for ``conv3x3-bn-relu``, 1
        for ``conv1x1-bn-relu``) or 0 for an op without parameters
        (``maxpool3x3``, and the input and output).
    n_vertices : ndarray of shape (n_cells,)
    input_channels, output_channels : int

    Returns
    -------
    ndarray of shape (n_cells,), int64

    Examples
    --------
    >>> import numpy as np
    >>> skip = np.array([[[0, 1], [0, 0]]])  # input -> output: one 1x1 projection
    >>> module_parameters(skip, np.zeros((1, 2), int), np.array([2]), 16, 32).tolist()
    [576]
    """
    adjacency, n_vertices = _check(adjacency, n_vertices)
    kernel_sizes = np.asarray(kernel_sizes, dtype=np.int64)
    n_cells, n, _ = adjacency.shape
    output = n_vertices - 1
    inner = (np.arange(n) >= 1) & (np.arange(n) < output[:, None])
    channels = vertex_channels(adjacency, n_vertices, input_channels, output_channels)
    batch_norm = 2 * channels
    projected = adjacency[:, 0] & inner  # 1x1 projections of the input
    parameters = np.where(projected, input_channels * channels + batch_norm, 0).sum(axis=1)
    convolved = inner & (kernel_sizes > 0)
    ops = kernel_sizes**2 * channels**2 + batch_norm
    parameters += np.where(convolved, ops, 0).sum(axis=1)
    skip = adjacency[np.arange(n_cells), 0, output]
    parameters += skip * (input_channels * output_channels + 2 * output_channels)
    return parameters


def network_parameters(
    adjacency: np.ndarray,
    kernel_sizes: np.ndarray,
    n_vertices: np.ndarray,
    *,
    stem_channels: int = 128,
    n_stacks: int = 3,
    n_modules: int = 3,
    n_classes: int = 10,
    image_channels: int = 3,
) -> np.ndarray:
    """Trainable parameters of the NAS-Bench-101 network built from each pruned cell.

    Parameters
    ----------
    adjacency, kernel_sizes, n_vertices
        As for :func:`module_parameters`.
    stem_channels, n_stacks, n_modules, n_classes, image_channels : int
        The network's layout; the defaults are NAS-Bench-101's (CIFAR-10).

    Returns
    -------
    ndarray of shape (n_cells,), int64

    Examples
    --------
    >>> import numpy as np
    >>> skip = np.array([[[0, 1], [0, 0]]])
    >>> network_parameters(skip, np.zeros((1, 2), int), np.array([2])).tolist()
    [882570]
    """
    modules: Counter[tuple[int, int]] = Counter()  # (input, output channels) -> how many
    module_input, channels = stem_channels, stem_channels
    for stack in range(n_stacks):
        if stack > 0:
            channels *= 2
        for _ in range(n_modules):
            modules[module_input, channels] += 1
            module_input = channels
    stem = 3 * 3 * image_channels * stem_channels + 2 * stem_channels
    total = np.full(len(n_vertices), stem + channels * n_classes + n_classes, dtype=np.int64)
    for (module_input, module_output), count in modules.items():
        total += count * module_parameters(
            adjacency, kernel_sizes, n_vertices, module_input, module_output
        )
    return total
