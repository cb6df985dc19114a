"""Exact nearest-neighbour search, blockwise, in torch.

Distances are computed tile by tile with matrix products and reduced with
:func:`torch.topk`, so memory stays at ``block_size ** 2`` distances whatever
the number of rows, and the same code runs on a GPU. The best candidates of
each query are re-ranked by exact float64 distances, row by row, so a query's
neighbours never depend on the other queries. The cost grows with the square
of the rows: past a few thousand rows the inverted file
(:class:`~skassess.neighbors.InvertedFileIndex`) is several times faster.
"""

from __future__ import annotations

import numpy as np
import torch
from numpy.typing import ArrayLike

from skassess.neighbors._common import as_2d_float, check_n_neighbors, rerank_exactly
from skassess.utils.validation import check_int

__all__ = ["ExactIndex"]

# The tile search ranks candidates by float32 distances computed with matrix
# products; this many extra candidates per row are kept and re-ranked by exact
# float64 distances, so float32 rounding never changes which rows are chosen.
_EXTRA_CANDIDATES = 8
# Columns per group in the tile search's pruning (see _tile_topk).
_GROUP = 16


class ExactIndex:
    """Exact nearest-neighbour search over fixed rows, blockwise.

    The exact counterpart of :class:`~skassess.neighbors.InvertedFileIndex`,
    with the same ``fit``/``kneighbors`` interface. Distances are computed tile
    by tile (``block_size`` rows at a time) in float32 matrix products, and the
    best candidates of each query are re-ranked by exact float64 distances, row
    by row, so a query's neighbours never depend on the other queries.

    Parameters
    ----------
    block_size : int, default=2048
        Rows per tile: peak memory is about ``block_size ** 2`` floats.
    device : str or torch.device, default="cpu"
        Where the distances are computed.

    Examples
    --------
    >>> index = ExactIndex().fit([[0.0], [1.0], [3.0]])
    >>> index.kneighbors([[0.9]], n_neighbors=2)[0].tolist()
    [[1, 0]]
    >>> index.kneighbors(n_neighbors=1)[0].ravel().tolist()  # each row excludes itself
    [1, 0, 1]
    """

    def __init__(self, *, block_size: int = 2048, device: str | torch.device = "cpu") -> None:
        self.block_size = block_size
        self.device = device

    def fit(self, X: ArrayLike) -> ExactIndex:
        """Keep the rows to search (float32 rows stay float32, without a copy)."""
        self._X = as_2d_float(X, "X")
        return self

    @property
    def n_rows(self) -> int:
        """Number of indexed rows."""
        return len(self._X)

    def kneighbors(
        self, X: ArrayLike | None = None, n_neighbors: int = 10, *, rows: ArrayLike | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Each query's ``n_neighbors`` nearest indexed rows, nearest first.

        Parameters
        ----------
        X : array-like of shape (n_queries, n_features), default=None
            New query rows. ``None`` queries indexed rows themselves, each
            excluding itself (a duplicate of it still counts, at distance 0).
        n_neighbors : int, default=10
        rows : array-like of int, default=None
            With ``X=None``, only these indexed rows are queried (all by default).

        Returns
        -------
        indices : ndarray of shape (n_queries, n_neighbors), dtype int64
            Ties go to the lower index.
        distances : ndarray of shape (n_queries, n_neighbors), dtype float32
        """
        if X is None:
            own = check_rows(rows, self.n_rows)
            return _kneighbors(
                self._X[own], self._X, n_neighbors, self.block_size, self.device, own=own
            )
        if rows is not None:
            raise ValueError("rows selects indexed rows as queries; it cannot be used with X")
        X = as_2d_float(X, "X")
        if X.shape[1] != self._X.shape[1]:
            raise ValueError(f"X has {X.shape[1]} features but the index has {self._X.shape[1]}")
        return _kneighbors(X, self._X, n_neighbors, self.block_size, self.device, own=None)


def check_rows(rows: ArrayLike | None, n_rows: int) -> np.ndarray:
    """Row numbers as int64, all rows for ``None``; raises on out-of-range numbers."""
    if rows is None:
        return np.arange(n_rows)
    rows = np.asarray(rows)
    if rows.ndim != 1 or not (rows.size == 0 or np.issubdtype(rows.dtype, np.integer)):
        raise ValueError(f"rows must be a 1-D array of row numbers, got {rows!r}")
    rows = rows.astype(np.int64)
    if rows.size and (rows.min() < 0 or rows.max() >= n_rows):
        raise ValueError(
            f"rows must be in [0, {n_rows}), got values from {rows.min()} to {rows.max()}"
        )
    return rows


def _kneighbors(
    queries: np.ndarray,
    references: np.ndarray,
    n_neighbors: int,
    block_size: int,
    device: str | torch.device,
    *,
    own: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray]:
    """Exact kNN of ``queries`` among ``references``; see :class:`ExactIndex`.

    ``own[i]``, when given, is the reference row that query ``i`` is, which is
    not its own neighbour.
    """
    n_available = len(references) - int(own is not None)
    check_n_neighbors(n_neighbors, n_available, exclude_self=own is not None)
    check_int(block_size, "block_size")
    indices = np.empty((len(queries), n_neighbors), dtype=np.int64)
    distances = np.empty((len(queries), n_neighbors), dtype=np.float32)
    if n_neighbors == 0 or len(queries) == 0:
        return indices, distances

    device = torch.device(device)
    # Centring makes the float32 expansion |q - r|^2 = |q|^2 - 2 q.r + |r|^2
    # more accurate. |q|^2 is the same for all of a query's candidates, so
    # ranking needs only |r|^2 - 2 q.r: one matrix product of [q, 1] and
    # [-2 r, |r|^2].
    center = references.mean(axis=0, dtype=np.float64)
    ref = torch.tensor(references - center, dtype=torch.float32, device=device)
    ref = torch.cat([-2.0 * ref, (ref * ref).sum(dim=1, keepdim=True)], dim=1)
    # pad to whole groups with rows that score +inf against every query
    padding = torch.zeros(-len(ref) % _GROUP, ref.shape[1], device=device)
    padding[:, -1] = torch.inf
    ref = torch.cat([ref, padding])
    n_candidates = min(n_neighbors + _EXTRA_CANDIDATES, n_available)
    for start in range(0, len(queries), block_size):
        stop = min(start + block_size, len(queries))
        query = torch.tensor(queries[start:stop] - center, dtype=torch.float32, device=device)
        query = torch.cat([query, torch.ones(len(query), 1, device=device)], dim=1)
        own_index = None if own is None else torch.as_tensor(own[start:stop], device=device)
        candidates = _tile_topk(query, ref, n_candidates, block_size, own_index)
        block_indices, block_distances = rerank_exactly(
            queries[start:stop],
            references,
            candidates.cpu().numpy(),
            n_neighbors,
            None if own is None else own[start:stop],
        )
        indices[start:stop] = block_indices
        distances[start:stop] = block_distances
    return indices, distances


def _tile_topk(
    query: torch.Tensor,
    ref: torch.Tensor,
    n_candidates: int,
    block_size: int,
    own_index: torch.Tensor | None,
) -> torch.Tensor:
    """Indices of the ``n_candidates`` lowest-scoring references of each query row.

    Sweeps the references in tiles of ``block_size`` rows, keeping a running
    best list per query row. Selection is the costly part, so it is pruned
    twice, exactly: a tile is searched only for the query rows where it
    holds something better than the worst of their list (after the first
    tiles, a minority), and within a row only the ``n_candidates`` groups of
    ``_GROUP`` columns with the lowest minima can hold the row's best.
    """
    tile = -(-block_size // _GROUP) * _GROUP  # whole groups; ref is padded to them too
    best_score = torch.full((len(query), n_candidates), torch.inf, device=query.device)
    best_index = torch.full((len(query), n_candidates), -1, device=query.device)
    offsets = torch.arange(_GROUP, device=query.device)
    # One buffer for every tile's scores: a fresh tensor of this size per tile
    # costs more in page faults than the matrix product itself (4x on a CPU).
    buffer = torch.empty(len(query), min(tile, len(ref)), device=query.device)
    for start in range(0, len(ref), tile):
        width = min(tile, len(ref) - start)
        scores = buffer if width == buffer.shape[1] else buffer.new_empty(len(query), width)
        torch.mm(query, ref[start : start + width].T, out=scores)
        if own_index is not None:
            local = own_index - start
            is_own = (local >= 0) & (local < scores.shape[1])
            scores[is_own.nonzero().squeeze(1), local[is_own]] = torch.inf
        # group j of a tile holds the columns j, j + n_groups, j + 2 n_groups, ...
        n_groups = scores.shape[1] // _GROUP
        group_min = scores.view(len(query), _GROUP, n_groups).amin(dim=1)
        active = (group_min.amin(dim=1) < best_score.amax(dim=1)).nonzero().squeeze(1)
        if len(active) == 0:
            continue
        k = min(n_candidates, n_groups)
        _, groups = torch.topk(group_min[active], k, dim=1, largest=False, sorted=False)
        columns = (groups.unsqueeze(1) + offsets.unsqueeze(1) * n_groups).flatten(1)
        tile_score = scores[active.unsqueeze(1), columns]
        merged_score = torch.cat([best_score[active], tile_score], dim=1)
        merged_index = torch.cat([best_index[active], columns + start], dim=1)
        top_score, position = torch.topk(
            merged_score, n_candidates, dim=1, largest=False, sorted=False
        )
        best_score[active] = top_score
        best_index[active] = torch.gather(merged_index, 1, position)
    return best_index
