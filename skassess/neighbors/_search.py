"""One entry point to the nearest-neighbour searches: exact, inverted file, or ``"auto"``."""

from __future__ import annotations

import numpy as np
import torch
from numpy.typing import ArrayLike

from skassess.neighbors._common import as_2d_float, check_n_neighbors
from skassess.neighbors._exact import ExactIndex, check_rows
from skassess.neighbors._ivf import InvertedFileIndex

__all__ = ["ALGORITHMS", "attach", "knn_graph", "neighbor_index"]

#: Values of the ``algorithm`` option of the searches and of the estimators.
ALGORITHMS = ("auto", "exact", "ivf")
# "auto" searches exactly among at most this many rows, or for at most this
# many queries. Measured on NAS-Bench-101 embeddings (one thread, one call of
# 20,000 new rows): at 5,000 rows the exact graph takes 0.2 s and attaches
# 26,000 new rows/s against 62,000/s for the inverted file; at 11,000 rows
# 0.75 s and 14,000/s against 0.26 s and 60,000/s, with 99.6% of the exact
# neighbours found. A few queries among many rows (the labeled cells'
# neighbourhoods) are cheaper exactly than the inverted file's k-means: 1,000
# among 423,624 rows take 1-2 s.
_AUTO_EXACT_MAX_ROWS = 5_000
_AUTO_EXACT_MAX_QUERIES = 2_000


def neighbor_index(
    X: ArrayLike,
    *,
    algorithm: str = "auto",
    block_size: int = 2048,
    device: str | torch.device = "cpu",
    random_state: int | np.random.RandomState | None = None,
):
    """A nearest-neighbour index over the rows of ``X``, exact or approximate.

    Parameters
    ----------
    X : array-like of shape (n_rows, n_features)
        The rows to index.
    algorithm : {"auto", "exact", "ivf"}, default="auto"
        ``"exact"``: :class:`ExactIndex`. ``"ivf"``: an inverted file
        (:class:`~skassess.neighbors.InvertedFileIndex`), approximate,
        which costs 15 seconds where the exact graph of the 423,624 NAS-Bench-101
        cells costs about half an hour, and finds 98% of the exact neighbours
        there (99.3-99.7% up to 50,000 rows). ``"auto"``: exact up to 5,000
        rows, the inverted file beyond. The choice depends on the size of ``X``
        alone, so that queries stay independent of each other.
    block_size : int, default=2048
        Rows per block of the search.
    device : str or torch.device, default="cpu"
        Where the distances are computed.
    random_state : int, RandomState instance or None, default=None
        Seeds the inverted file's k-means.

    Returns
    -------
    ExactIndex or InvertedFileIndex
        Fitted; ``kneighbors(X=None, n_neighbors)`` gives the kNN graph,
        ``kneighbors(X_new, n_neighbors)`` attaches new rows.

    Examples
    --------
    >>> import numpy as np
    >>> type(neighbor_index(np.zeros((10, 2)))).__name__
    'ExactIndex'
    """
    X = as_2d_float(X, "X")
    if _resolve_algorithm(algorithm, len(X), len(X)) == "exact":
        return ExactIndex(block_size=block_size, device=device).fit(X)
    return InvertedFileIndex(random_state=random_state, device=device).fit(X)


def knn_graph(
    X: ArrayLike,
    n_neighbors: int,
    *,
    rows: ArrayLike | None = None,
    algorithm: str = "auto",
    block_size: int = 2048,
    device: str | torch.device = "cpu",
    random_state: int | np.random.RandomState | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Each row's ``n_neighbors`` nearest other rows, by Euclidean distance.

    Computed blockwise (never an ``n x n`` matrix). A row is not its own
    neighbour, but a duplicate of it is (at distance 0).

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        The rows.
    n_neighbors : int
        Neighbours per row, ``0 <= n_neighbors < n_samples``.
    rows : array-like of int, default=None
        Only the neighbourhoods of these rows (still among all rows of ``X``);
        all rows by default. Training on a few labeled rows of a large pool
        needs only theirs.
    algorithm : {"auto", "exact", "ivf"}, default="auto"
        Exact search, an inverted-file index (approximate, for large ``X``), or
        ``"auto"``: exact for at most 5,000 rows or at most 2,000 ``rows``, the
        inverted file otherwise. See :func:`neighbor_index`.
    block_size : int, default=2048
        Rows per tile of the exact search: peak memory is about
        ``block_size ** 2`` floats.
    device : str or torch.device, default="cpu"
        Where the distances are computed.
    random_state : int, RandomState instance or None, default=None
        Seeds the inverted file's k-means.

    Returns
    -------
    indices : ndarray of shape (n_rows, n_neighbors), dtype int64
        Neighbours of each row, nearest first (ties by lower index).
    distances : ndarray of shape (n_rows, n_neighbors), dtype float32
        Their distances.

    Examples
    --------
    >>> import numpy as np
    >>> indices, distances = knn_graph(np.array([[0.0, 0.0], [0.0, 1.0], [5.0, 5.0]]), 1)
    >>> indices.ravel().tolist()
    [1, 0, 1]
    >>> knn_graph(np.array([[0.0], [1.0], [5.0]]), 1, rows=[2])[0].tolist()
    [[1]]
    """
    X = as_2d_float(X, "X")
    own = check_rows(rows, len(X))
    algorithm = _resolve_algorithm(algorithm, len(own), len(X))
    if algorithm == "exact":
        index = ExactIndex(block_size=block_size, device=device).fit(X)
        return index.kneighbors(n_neighbors=n_neighbors, rows=own)
    check_n_neighbors(n_neighbors, len(X) - 1, exclude_self=True)
    index = neighbor_index(X, algorithm="ivf", device=device, random_state=random_state)
    if rows is None:
        return index.kneighbors(n_neighbors=n_neighbors)
    # the rows' own neighbourhoods: one more neighbour, then each drops itself
    indices, distances = index.kneighbors(X[own], n_neighbors=min(n_neighbors + 1, len(X)))
    return _drop_self(indices, distances, own, n_neighbors)


def attach(
    X_new: ArrayLike,
    X_train: ArrayLike,
    n_neighbors: int,
    *,
    algorithm: str = "auto",
    block_size: int = 2048,
    device: str | torch.device = "cpu",
    random_state: int | np.random.RandomState | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The ``n_neighbors`` nearest training rows of each new row.

    Used to predict inductively: each new row joins the fitted graph on its
    own, so its neighbours do not depend on the other new rows. A new row
    equal to a training row finds that row at distance 0. To attach many
    batches to the same training rows, build the index once with
    :func:`neighbor_index` and call its ``kneighbors``.

    Parameters
    ----------
    X_new : array-like of shape (n_new, n_features)
        The rows to attach.
    X_train : array-like of shape (n_train, n_features)
        The rows of the fitted graph.
    n_neighbors : int
        Neighbours per new row, ``0 <= n_neighbors <= n_train``.
    algorithm : {"auto", "exact", "ivf"}, default="auto"
        As in :func:`neighbor_index`: decided by ``n_train`` alone.
    block_size : int, default=2048
        Rows per tile, as in :func:`knn_graph`.
    device : str or torch.device, default="cpu"
        Where the distances are computed.
    random_state : int, RandomState instance or None, default=None
        Seeds the inverted file's k-means.

    Returns
    -------
    indices : ndarray of shape (n_new, n_neighbors), dtype int64
        Indices into ``X_train``, nearest first (ties by lower index).
    distances : ndarray of shape (n_new, n_neighbors), dtype float32
        Their distances.

    Examples
    --------
    >>> import numpy as np
    >>> indices, distances = attach([[0.9]], [[0.0], [1.0], [3.0]], n_neighbors=2)
    >>> indices.tolist(), distances.round(2).tolist()
    ([[1, 0]], [[0.1, 0.9]])
    """
    X_new = as_2d_float(X_new, "X_new")
    X_train = as_2d_float(X_train, "X_train")
    if X_new.shape[1] != X_train.shape[1]:
        raise ValueError(f"X_new has {X_new.shape[1]} features but X_train has {X_train.shape[1]}")
    index = neighbor_index(
        X_train,
        algorithm=algorithm,
        block_size=block_size,
        device=device,
        random_state=random_state,
    )
    return index.kneighbors(X_new, n_neighbors=n_neighbors)


def _resolve_algorithm(algorithm: str, n_queries: int, n_references: int) -> str:
    """``"exact"`` or ``"ivf"``; ``"auto"`` by the number of pairs to compare."""
    if algorithm not in ALGORITHMS:
        raise ValueError(f"algorithm must be one of {ALGORITHMS}, got {algorithm!r}")
    if algorithm != "auto":
        return algorithm
    few = n_references <= _AUTO_EXACT_MAX_ROWS or n_queries <= _AUTO_EXACT_MAX_QUERIES
    return "exact" if few else "ivf"


def _drop_self(
    indices: np.ndarray, distances: np.ndarray, own: np.ndarray, n_neighbors: int
) -> tuple[np.ndarray, np.ndarray]:
    """Remove each query's own row from its ``n_neighbors + 1`` neighbours.

    Where the own row is missing (an approximate search can rank duplicates
    of it first), the farthest neighbour goes instead.
    """
    is_own = indices == own[:, None]
    missing = ~is_own.any(axis=1)
    is_own[missing, -1] = True
    keep = ~is_own
    # exactly one False per row, so every row keeps the same number of columns
    shape = (len(indices), indices.shape[1] - 1)
    return indices[keep].reshape(shape)[:, :n_neighbors], distances[keep].reshape(shape)[
        :, :n_neighbors
    ]
