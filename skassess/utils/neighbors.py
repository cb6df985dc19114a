"""Approximate nearest neighbours for large pools: an inverted-file (IVF) index in torch.

The exact blockwise search of :mod:`skassess.assessor._graph` compares every
row with every other row: ``n ** 2`` distances, about 1.8e11 for the 423,624
cells of NAS-Bench-101, which takes tens of CPU minutes. An inverted file
(Sivic & Zisserman, ICCV 2003; Jegou et al., TPAMI 2011, the ``IVF-Flat``
index of faiss) cuts that by the factor ``n_lists / n_probe``:

1. k-means splits the rows into ``n_lists`` lists (Voronoi cells of the
   centroids), trained on a sample.
2. A query is compared only with the rows of the ``n_probe`` lists whose
   centroids are nearest to its own list's centroid, with dense matrix
   products, list by list, so memory stays at one list's candidates.
3. The best candidates found with float32 products are re-ranked by exact
   float64 distances, row by row: a row's neighbours and distances depend on
   the row and the index only, never on the other rows searched with it
   (which keeps ``predict`` row-independent).

The result is exact whenever ``n_probe >= n_lists`` and otherwise misses a
true neighbour now and then: :func:`recall` measures how often. All of it
runs on a GPU with ``device="cuda"``.

Examples
--------
>>> import numpy as np
>>> X = np.random.RandomState(0).normal(size=(500, 4))
>>> index = InvertedFileIndex(n_lists=10, n_probe=10, random_state=0).fit(X)
>>> indices, distances = index.kneighbors(n_neighbors=3)
>>> indices.shape, distances.dtype
((500, 3), dtype('float32'))
"""

from __future__ import annotations

import math

import numpy as np
import torch
from numpy.typing import ArrayLike

from skassess._torch import derive_seed, make_generator, resolve_device

__all__ = ["InvertedFileIndex", "recall"]

# Candidates kept per row from the float32 pass, beyond n_neighbors, for the exact re-ranking.
_EXTRA_CANDIDATES = 8


class InvertedFileIndex:
    """An inverted-file index for (approximate) k-nearest-neighbour search.

    Parameters
    ----------
    n_lists : int, default=None
        Number of k-means lists; ``None`` uses ``round(2 * sqrt(n_rows))``.
    n_probe : int, default=16
        Lists searched per query: those whose centroids are nearest to the
        centroid of the query's list. More is slower and more exact.
    n_iter : int, default=10
        k-means (Lloyd) iterations.
    training_rows_per_list : int, default=64
        k-means is trained on at most ``n_lists`` times this many rows.
    block_size : int, default=4096
        Rows per block in the k-means assignments and per chunk of a list's queries.
    random_state : int, RandomState instance or None, default=None
        Seeds the k-means sample and initialisation (through a private torch
        generator).
    device : {"cpu", "cuda", "auto"}, default="cpu"
        Where the index is trained and searched; results come back as numpy.

    Attributes
    ----------
    n_lists_ : int
    centroids_ : ndarray of shape (n_lists_, n_features), float32
        Centroids, relative to ``center_``.
    center_ : ndarray of shape (n_features,), float64
        Mean of the indexed rows; everything is centred on it.
    list_of_row_ : ndarray of shape (n_rows,), int64
        List of each indexed row.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.random.RandomState(0).normal(size=(200, 3))
    >>> index = InvertedFileIndex(n_lists=4, n_probe=4, random_state=0).fit(X)
    >>> indices, _ = index.kneighbors(X[:2] + 1e-3, n_neighbors=1)
    >>> indices.ravel().tolist()
    [0, 1]
    """

    def __init__(
        self,
        n_lists: int | None = None,
        n_probe: int = 16,
        *,
        n_iter: int = 10,
        training_rows_per_list: int = 64,
        block_size: int = 4096,
        random_state=None,
        device: str | torch.device = "cpu",
    ) -> None:
        self.n_lists = n_lists
        self.n_probe = n_probe
        self.n_iter = n_iter
        self.training_rows_per_list = training_rows_per_list
        self.block_size = block_size
        self.random_state = random_state
        self.device = device

    # ------------------------------------------------------------------ fit

    def fit(self, X: ArrayLike) -> InvertedFileIndex:
        """Train the k-means lists on ``X`` and file every row of ``X`` in its list."""
        X = _as_2d_float64(X, "X")
        if len(X) == 0:
            raise ValueError("X holds no rows")
        for name in ("n_probe", "n_iter", "training_rows_per_list", "block_size"):
            _check_positive_int(getattr(self, name), name)
        if self.n_lists is not None:
            _check_positive_int(self.n_lists, "n_lists")
        device = resolve_device(self.device)
        n_lists = self.n_lists or max(1, round(2 * math.sqrt(len(X))))
        self.n_lists_ = min(n_lists, len(X))
        self.center_ = X.mean(axis=0)
        self._X = X
        rows = torch.as_tensor(X - self.center_, dtype=torch.float32, device=device)
        generator = make_generator(derive_seed(self.random_state), device)
        centroids = self._kmeans(rows, generator)
        self.list_of_row_ = _nearest_centroid(rows, centroids, self.block_size).cpu().numpy()
        self.centroids_ = centroids.cpu().numpy()
        # rows sorted by list: list c holds self._order[self._offsets[c]:self._offsets[c + 1]]
        self._order = np.argsort(self.list_of_row_, kind="stable")
        counts = np.bincount(self.list_of_row_, minlength=self.n_lists_)
        self._offsets = np.concatenate([[0], np.cumsum(counts)])
        return self

    def _kmeans(self, rows: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        n_sample = min(len(rows), self.n_lists_ * self.training_rows_per_list)
        sample = rows[torch.randperm(len(rows), generator=generator, device=rows.device)[:n_sample]]
        centroids = sample[: self.n_lists_].clone()
        for _ in range(self.n_iter):
            assignment = _nearest_centroid(sample, centroids, self.block_size)
            sums = torch.zeros_like(centroids).index_add_(0, assignment, sample)
            counts = torch.bincount(assignment, minlength=len(centroids)).unsqueeze(1)
            # an empty list keeps its centroid (it stays empty, which is harmless)
            centroids = torch.where(counts > 0, sums / counts.clamp(min=1), centroids)
        return centroids

    # --------------------------------------------------------------- search

    def kneighbors(
        self, X: ArrayLike | None = None, n_neighbors: int = 10
    ) -> tuple[np.ndarray, np.ndarray]:
        """Each query row's ``n_neighbors`` nearest indexed rows, nearest first.

        Parameters
        ----------
        X : array-like of shape (n_queries, n_features), default=None
            Query rows. ``None`` queries the indexed rows themselves, each
            excluding itself (a duplicate of it is still found, at distance 0),
            which gives the kNN graph.
        n_neighbors : int, default=10

        Returns
        -------
        indices : ndarray of shape (n_queries, n_neighbors), int64
            Indices into the indexed rows; ties go to the lower index.
        distances : ndarray of shape (n_queries, n_neighbors), float32
            Exact Euclidean distances.
        """
        if not hasattr(self, "centroids_"):
            raise ValueError("this InvertedFileIndex is not fitted; call fit first")
        exclude_self = X is None
        queries = self._X if exclude_self else _as_2d_float64(X, "X")
        if queries.shape[1] != self._X.shape[1]:
            raise ValueError(
                f"X has {queries.shape[1]} features but the index has {self._X.shape[1]}"
            )
        n_available = len(self._X) - int(exclude_self)
        if not 0 <= n_neighbors <= n_available:
            raise ValueError(
                f"n_neighbors={n_neighbors} must be between 0 and {n_available} "
                f"(the number of {'other ' if exclude_self else ''}indexed rows)"
            )
        indices = np.zeros((len(queries), n_neighbors), dtype=np.int64)
        distances = np.zeros((len(queries), n_neighbors), dtype=np.float32)
        if n_neighbors == 0 or len(queries) == 0:
            return indices, distances

        device = resolve_device(self.device)
        centred = torch.as_tensor(queries - self.center_, dtype=torch.float32, device=device)
        n_candidates = n_neighbors + _EXTRA_CANDIDATES
        candidates = self._candidates(centred, n_candidates, exclude_self, device)
        for start in range(0, len(queries), self.block_size):
            rows = np.arange(start, min(start + self.block_size, len(queries)))
            indices[rows], distances[rows] = _rerank_exactly(
                queries[rows],
                self._X,
                candidates[rows],
                n_neighbors,
                rows if exclude_self else None,
            )
        return indices, distances

    def _candidates(
        self, centred: torch.Tensor, n_candidates: int, exclude_self: bool, device: torch.device
    ) -> np.ndarray:
        """The ``n_candidates`` best rows of each query among its probed lists (float32).

        Goes list by list: the queries that probe a list are compared with all
        of its rows in one matrix product, and each query's running best list
        is merged with what it found there. Missing candidates are -1.
        """
        centroids = torch.as_tensor(self.centroids_, device=device)
        n_probe = min(self.n_probe, self.n_lists_)
        probed = _nearest_centroids(centred, centroids, n_probe, self.block_size).cpu().numpy()
        # invert: for each list, the queries that probe it
        pair_lists = probed.ravel()
        pair_order = np.argsort(pair_lists, kind="stable")
        pair_queries = (pair_order // n_probe).astype(np.int64)
        pair_offsets = np.searchsorted(pair_lists[pair_order], np.arange(self.n_lists_ + 1))

        filed = torch.as_tensor(self._X[self._order] - self.center_, dtype=torch.float32)
        filed = filed.to(device)
        # ranking key of row r for query q: |r|^2 - 2 q.r = [q, 1] . [-2 r, |r|^2]
        filed = torch.cat([-2 * filed, (filed**2).sum(1, keepdim=True)], dim=1)
        keyed = torch.cat([centred, torch.ones(len(centred), 1, device=device)], dim=1)
        order = torch.as_tensor(self._order, device=device)
        best_score = torch.full((len(centred), n_candidates), torch.inf, device=device)
        best_index = torch.full((len(centred), n_candidates), -1, device=device)
        for list_id in range(self.n_lists_):
            first, last = self._offsets[list_id], self._offsets[list_id + 1]
            probing = pair_queries[pair_offsets[list_id] : pair_offsets[list_id + 1]]
            if first == last or len(probing) == 0:
                continue
            members = order[first:last]
            for start in range(0, len(probing), self.block_size):
                queries = torch.as_tensor(probing[start : start + self.block_size], device=device)
                scores = keyed[queries] @ filed[first:last].T
                if exclude_self:
                    scores[queries.unsqueeze(1) == members.unsqueeze(0)] = torch.inf
                merged_score = torch.cat([best_score[queries], scores], dim=1)
                merged_index = torch.cat(
                    [best_index[queries], members.expand(len(queries), -1)], dim=1
                )
                top, position = torch.topk(
                    merged_score, n_candidates, dim=1, largest=False, sorted=False
                )
                best_score[queries] = top
                best_index[queries] = torch.gather(merged_index, 1, position)
        best_index[best_score == torch.inf] = -1
        return best_index.cpu().numpy()


def recall(approximate: np.ndarray, exact: np.ndarray) -> float:
    """Fraction of the exact neighbours that an approximate search found.

    Examples
    --------
    >>> recall(np.array([[1, 2], [0, 3]]), np.array([[1, 2], [0, 2]]))
    0.75
    """
    approximate, exact = np.asarray(approximate), np.asarray(exact)
    if approximate.shape != exact.shape:
        raise ValueError(f"shapes differ: {approximate.shape} and {exact.shape}")
    if exact.size == 0:
        return 1.0
    found = sum(len(np.intersect1d(a, e)) for a, e in zip(approximate, exact, strict=True))
    return found / exact.size


def _nearest_centroid(rows: torch.Tensor, centroids: torch.Tensor, block_size: int):
    """Index of the nearest centroid of each row, computed block by block."""
    key = torch.cat([-2 * centroids, (centroids**2).sum(1, keepdim=True)], dim=1)
    parts = []
    for start in range(0, len(rows), block_size):
        block = rows[start : start + block_size]
        block = torch.cat([block, torch.ones(len(block), 1, device=block.device)], dim=1)
        parts.append((block @ key.T).argmin(dim=1))
    return torch.cat(parts)


def _nearest_centroids(
    rows: torch.Tensor, centroids: torch.Tensor, n_probe: int, block_size: int
) -> torch.Tensor:
    """The ``n_probe`` nearest centroids of each row, computed block by block."""
    key = torch.cat([-2 * centroids, (centroids**2).sum(1, keepdim=True)], dim=1)
    parts = []
    for start in range(0, len(rows), block_size):
        block = rows[start : start + block_size]
        block = torch.cat([block, torch.ones(len(block), 1, device=block.device)], dim=1)
        parts.append(torch.topk(block @ key.T, n_probe, dim=1, largest=False).indices)
    return torch.cat(parts)


def _rerank_exactly(
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
    difference = references[safe] - queries[:, None, :]
    exact = np.sqrt(np.einsum("ijk,ijk->ij", difference, difference))
    exact[missing] = np.inf
    order = np.argsort(exact, axis=1, kind="stable")[:, :n_neighbors]
    indices = np.take_along_axis(candidates, order, axis=1)
    distances = np.take_along_axis(exact, order, axis=1)
    for row in np.flatnonzero(np.isinf(distances).any(axis=1)):  # tiny indices only
        everything = np.sqrt(((references - queries[row]) ** 2).sum(axis=1))
        if own is not None:
            everything[own[row]] = np.inf
        ranked = np.argsort(everything, kind="stable")[:n_neighbors]
        indices[row], distances[row] = ranked, everything[ranked]
    return indices, distances.astype(np.float32)


def _as_2d_float64(X: ArrayLike, name: str) -> np.ndarray:
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array, got shape {X.shape}")
    if not np.isfinite(X).all():
        raise ValueError(f"{name} contains NaN or infinity")
    return X


def _check_positive_int(value, name: str) -> None:
    if not isinstance(value, int | np.integer) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
