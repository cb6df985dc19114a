"""Checks and the exact re-ranking shared by the exact and inverted-file searches."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike


def rerank_exactly(
    queries: np.ndarray,
    references: np.ndarray,
    candidates: np.ndarray,
    n_neighbors: int,
    own: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray]:
    """The ``n_neighbors`` candidates nearest by float64 distance, computed row by row.

    Candidates of -1 (not found) count as infinitely far; a row left with
    fewer than ``n_neighbors`` real candidates is searched exhaustively
    (excluding the reference ``own[i]`` for query ``i`` when ``own`` is given).
    """
    missing = candidates < 0
    # sorted, so that stable sorting breaks distance ties by the lower index
    candidates = np.sort(np.where(missing, np.iinfo(np.int64).max, candidates), axis=1)
    missing = candidates == np.iinfo(np.int64).max
    safe = np.where(missing, 0, candidates)
    difference = references[safe].astype(np.float64) - queries[:, None, :]
    exact = np.sqrt(np.einsum("ijk,ijk->ij", difference, difference))
    exact[missing] = np.inf
    order = np.argsort(exact, axis=1, kind="stable")[:, :n_neighbors]
    indices = np.take_along_axis(candidates, order, axis=1)
    distances = np.take_along_axis(exact, order, axis=1)
    for row in np.flatnonzero(np.isinf(distances).any(axis=1)):  # tiny indices only
        everything = np.sqrt(((references - queries[row]) ** 2).sum(axis=1, dtype=np.float64))
        if own is not None:
            everything[own[row]] = np.inf
        ranked = np.argsort(everything, kind="stable")[:n_neighbors]
        indices[row], distances[row] = ranked, everything[ranked]
    return indices, distances.astype(np.float32)


def as_2d_float(X: ArrayLike, name: str) -> np.ndarray:
    """``X`` as a 2-D float32 or float64 array of finite values (not copied if it is one)."""
    X = np.asarray(X)
    if X.dtype not in (np.float32, np.float64):
        X = X.astype(np.float64)
    if X.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array, got shape {X.shape}")
    if not np.isfinite(X).all():
        raise ValueError(f"{name} contains NaN or infinity")
    return X


def check_n_neighbors(n_neighbors: int, n_available: int, *, exclude_self: bool) -> None:
    """Require ``0 <= n_neighbors <= n_available`` (the rows a query can find)."""
    if not 0 <= n_neighbors <= n_available:
        raise ValueError(
            f"n_neighbors={n_neighbors} must be between 0 and {n_available} "
            f"(the number of {'other ' if exclude_self else ''}indexed rows)"
        )
