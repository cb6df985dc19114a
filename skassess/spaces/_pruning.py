"""Pruning: keep only the vertices that lie on a path from the input to the output.

NAS-Bench-101's ``ModelSpec`` prunes every cell before anything else: a vertex
that the input cannot reach computes nothing the network uses, and a vertex
that cannot reach the output contributes nothing to it. Both are dropped with
their edges. A cell whose output the input cannot reach prunes to nothing.
"""

from __future__ import annotations

import numpy as np

__all__ = ["on_path", "on_path_batch"]


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
