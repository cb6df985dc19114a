"""Pruning: keep only the vertices that lie on a path from the input to the output.

NAS-Bench-101's ``ModelSpec`` prunes every cell before anything else: a vertex
that the input cannot reach computes nothing the network uses, and a vertex
that cannot reach the output contributes nothing to it. Both are dropped with
their edges. A cell whose output the input cannot reach prunes to nothing.
"""

from __future__ import annotations

import numpy as np

__all__ = ["kept_first", "on_path", "on_path_batch", "prune_edges"]


def on_path(matrix: np.ndarray) -> np.ndarray:
    """Boolean mask of the vertices on some input -> output path of one cell.

    Parameters
    ----------
    matrix : ndarray of shape (n_vertices, n_vertices)
        Upper-triangular adjacency matrix; vertex 0 is the input, the last
        vertex the output.

    Returns
    -------
    ndarray of shape (n_vertices,), bool
        All False when no path joins the input to the output.

    Examples
    --------
    >>> import numpy as np
    >>> on_path(np.array([[0, 1, 1, 0], [0, 0, 0, 1], [0, 0, 0, 0], [0, 0, 0, 0]])).tolist()
    [True, True, False, True]
    """
    return on_path_batch(np.asarray(matrix)[None])[0]


def on_path_batch(adjacency: np.ndarray) -> np.ndarray:
    """:func:`on_path` for a batch of cells with the same number of vertices.

    Parameters
    ----------
    adjacency : ndarray of shape (n_cells, n_vertices, n_vertices)

    Returns
    -------
    ndarray of shape (n_cells, n_vertices), bool
    """
    edges = np.asarray(adjacency, dtype=bool)
    n_cells, n, _ = edges.shape
    # Upper-triangular: one sweep in vertex order settles reachability.
    from_input = np.zeros((n_cells, n), dtype=bool)
    from_input[:, 0] = True
    for j in range(1, n):
        from_input[:, j] = (from_input[:, :j] & edges[:, :j, j]).any(axis=1)
    to_output = np.zeros((n_cells, n), dtype=bool)
    to_output[:, n - 1] = True
    for i in range(n - 2, -1, -1):
        to_output[:, i] = (to_output[:, i + 1 :] & edges[:, i, i + 1 :]).any(axis=1)
    keep = from_input & to_output
    keep[~keep[:, 0]] = False  # no path: nothing is kept, not even the endpoints
    return keep


def prune_edges(adjacency: np.ndarray, removable: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pruned edges and kept vertices of a batch of cells with the same number of vertices.

    Parameters
    ----------
    adjacency : ndarray of shape (n_cells, n, n)
    removable : ndarray of shape (n_cells, n), bool
        Vertices whose op computes nothing (NAS-Bench-201's ``none``): they
        and their edges go before the paths are traced.

    Returns
    -------
    edges : ndarray of shape (n_cells, n, n), bool
        The edges between kept vertices, in their original positions.
    keep : ndarray of shape (n_cells, n), bool
        :func:`on_path_batch` of what remains.

    Examples
    --------
    >>> import numpy as np
    >>> matrix = np.array([[[0, 1, 1, 0], [0, 0, 0, 1], [0, 0, 0, 0], [0, 0, 0, 0]]])
    >>> edges, keep = prune_edges(matrix, np.zeros((1, 4), dtype=bool))
    >>> keep.tolist(), int(edges.sum())
    ([[True, True, False, True]], 2)
    """
    edges = np.asarray(adjacency, dtype=bool)
    if removable.any():
        edges = edges & ~(removable[:, :, None] | removable[:, None, :])
    keep = on_path_batch(edges)
    return edges & (keep[:, :, None] & keep[:, None, :]), keep


def kept_first(
    edges: np.ndarray, ops: np.ndarray, keep: np.ndarray, size: int
) -> tuple[np.ndarray, np.ndarray]:
    """Move each cell's kept vertices to the front, in their order, padded to ``size``.

    Parameters
    ----------
    edges : ndarray of shape (n_cells, n, n), bool
        Pruned edges (none touch a dropped vertex).
    ops : ndarray of shape (n_cells, n), int
    keep : ndarray of shape (n_cells, n), bool
    size : int
        Vertices of the result; at least the most any cell keeps.

    Returns
    -------
    edges : ndarray of shape (n_cells, size, size), bool
    ops : ndarray of shape (n_cells, size), int64
        ``-1`` after each cell's last kept vertex.

    Examples
    --------
    >>> import numpy as np
    >>> edges = np.zeros((1, 3, 3), dtype=bool)
    >>> edges[0, 0, 2] = True
    >>> _, ops = kept_first(edges, np.array([[0, 5, 4]]), np.array([[True, False, True]]), 3)
    >>> ops.tolist()
    [[0, 4, -1]]
    """
    n_cells, n = keep.shape
    m = min(n, size)
    order = np.argsort(~keep, axis=1, kind="stable")[:, :m]
    moved = np.take_along_axis(edges, order[:, :, None], axis=1)
    compact = np.zeros((n_cells, size, size), dtype=bool)
    compact[:, :m, :m] = np.take_along_axis(moved, order[:, None, :], axis=2)
    compact_ops = np.full((n_cells, size), -1, dtype=np.int64)
    kept = np.take_along_axis(np.asarray(ops, dtype=np.int64), order, axis=1)
    compact_ops[:, :m] = np.where(np.arange(m) < keep.sum(axis=1)[:, None], kept, -1)
    return compact, compact_ops
