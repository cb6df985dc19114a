"""Approximate nearest neighbours for large pools: an inverted-file (IVF) index in torch.

The exact blockwise search (:class:`~skassess.neighbors.ExactIndex`) compares every
row with every other row: ``n ** 2`` distances, about 1.8e11 for the 423,624
cells of NAS-Bench-101, which takes tens of CPU minutes. An inverted file
(Sivic & Zisserman, ICCV 2003; Jegou et al., TPAMI 2011, the ``IVF-Flat``
index of faiss) cuts that by the factor ``n_lists / n_probe``:

1. k-means splits the rows into ``n_lists`` lists (Voronoi cells of the
   centroids), trained on a sample of ``training_rows_per_list`` rows per list.
2. A query is compared only with the rows of the ``n_probe`` lists whose
   centroids are nearest to it (its own list and ``n_probe - 1`` others,
   picked among the lists nearest to its own list's centroid), with dense
   float32 matrix products. The search goes list by list so that no query
   needs a matrix product or selection of its own: first every list against
   its own queries (a top-``k`` per query, whose worst score becomes the
   query's threshold), then every list against the queries of other lists
   that probe it, keeping only the rows that beat a query's threshold (few:
   most neighbours are in the query's own list) in a small per-query spill
   buffer; a query whose buffer fills merges it into its top-``k``, which
   tightens its threshold. The result holds every probed row that ranks among
   the query's best ``n_neighbors + 8`` by float32 distance. New queries
   (``kneighbors(X_new)``) are not looped over list by list: their (query,
   probed list) pairs are tiled by list and scored with batched matrix
   products against the lists padded to a few lengths, first their own list
   (a top-``k`` and threshold), then the rows of their other lists that beat
   the threshold; the candidates are the same.
3. Those candidates are re-ranked by exact float64 distances, row by row: a
   row's neighbours and distances depend on the row and the index only, never
   on the other rows searched with it (which keeps ``predict``
   row-independent). Ties go to the lower index.

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
from collections.abc import Iterator

import numpy as np
import torch
from numpy.typing import ArrayLike
from sklearn.utils import check_random_state

from skassess._torch import resolve_device
from skassess.neighbors._common import (
    as_2d_float,
    check_n_neighbors,
    rerank_exactly,
)
from skassess.utils.validation import check_positive_int

__all__ = ["InvertedFileIndex", "recall"]

# Candidates kept per row from the float32 pass, beyond n_neighbors, for the exact re-ranking.
_EXTRA_CANDIDATES = 8
# Each list's nearest lists, among which its queries pick the ones they probe.
_MIN_NEARBY = 64
_NEARBY_PER_PROBE = 8
# Spill slots per query for rows of its other probed lists that beat its own list's candidates.
_SPILL = 32
# Rows re-ranked at once (small blocks keep the float64 temporaries in cache: 4x faster than 4,096).
_RERANK_BLOCK = 256
# Queries searched at once by kneighbors(X_new) (bounds the working memory).
_QUERY_CHUNK = 16_384
# New queries: a list's queries are scored against it in tiles of at most this many.
_TILE_QUERIES = 32
# New queries: a query whose other probed lists hold more rows than this that beat the worst of
# its own list's candidates takes every list's best candidates instead.
_MAX_HITS = 64
# New queries: score bytes per batch of tiles (bounds the working memory of one matrix product).
_TILE_BYTES = 16 * 2**20


class InvertedFileIndex:
    """An inverted-file index for (approximate) k-nearest-neighbour search.

    Parameters
    ----------
    n_lists : int, default=None
        Number of k-means lists; ``None`` uses ``round(2 * sqrt(n_rows))``.
    n_probe : int, default=8
        Lists searched per query: those whose centroids are nearest to the
        query. More is slower and more exact; on NAS-Bench-101 embeddings
        (423,624 x 32) 8 finds about 99% of the 10 nearest neighbours and 6
        about 97.5% (``benchmarks/bench_neighbors.py``).
    n_iter : int, default=6
        k-means (Lloyd) iterations.
    training_rows_per_list : int, default=32
        k-means is trained on at most ``n_lists`` times this many rows.
    block_size : int, default=4096
        Rows per block in the k-means assignments and per chunk of a list's queries.
    random_state : int, RandomState instance or None, default=None
        Seeds the k-means sample and initialisation (a permutation drawn on the
        CPU, so that the same seed gives the same start on a GPU).
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

    Notes
    -----
    The index keeps the indexed array as given when it is float32 or float64
    (no copy: do not modify it while the index is in use), plus float32 search
    keys built on the first search and left out of pickles. A pickled index is
    therefore about the size of the indexed array.

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
        n_probe: int = 8,
        *,
        n_iter: int = 6,
        training_rows_per_list: int = 32,
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
        """Train the k-means lists on ``X`` and file every row of ``X`` in its list.

        Parameters
        ----------
        X : array-like of shape (n_rows, n_features)
            The rows to index. A float32 or float64 array is kept as given (not
            copied, so do not modify it afterwards); anything else is converted
            to float64.

        Returns
        -------
        self : InvertedFileIndex
            The fitted index.
        """
        X = as_2d_float(X, "X")
        if len(X) == 0:
            raise ValueError("X holds no rows")
        for name in ("n_probe", "n_iter", "training_rows_per_list", "block_size"):
            check_positive_int(getattr(self, name), name)
        if self.n_lists is not None:
            check_positive_int(self.n_lists, "n_lists")
        device = resolve_device(self.device)
        n_lists = self.n_lists or max(1, round(2 * math.sqrt(len(X))))
        self.n_lists_ = min(n_lists, len(X))
        self.center_ = X.mean(axis=0, dtype=np.float64)
        self._X = X
        self.__dict__.pop("_cache", None)
        rows = _centred_float32(X, self.center_, device, self.block_size)
        # the sample is drawn on the CPU, so a GPU fit starts from the same rows
        order = check_random_state(self.random_state).permutation(len(X))
        centroids = self._kmeans(rows, torch.as_tensor(order, device=device))
        self.list_of_row_ = _nearest_centroid(rows, centroids, self.block_size).cpu().numpy()
        del rows
        self.centroids_ = centroids.cpu().numpy()
        # rows sorted by list: list c holds self._order[self._offsets[c]:self._offsets[c + 1]]
        self._order = np.argsort(self.list_of_row_, kind="stable")
        counts = np.bincount(self.list_of_row_, minlength=self.n_lists_)
        self._offsets = np.concatenate([[0], np.cumsum(counts)]).tolist()
        # each list's nearest lists, itself first: where its queries pick the lists they probe
        n_nearby = min(self.n_lists_, max(_MIN_NEARBY, _NEARBY_PER_PROBE * self.n_probe))
        between = torch.cdist(centroids.double(), centroids.double())
        between.fill_diagonal_(-1.0)
        nearby = torch.topk(between, n_nearby, dim=1, largest=False).indices
        self._nearby_lists = nearby.cpu().numpy()
        return self

    def _kmeans(self, rows: torch.Tensor, order: torch.Tensor) -> torch.Tensor:
        """Lloyd's k-means on the first rows of a random ``order``; they also start it."""
        n_sample = min(len(rows), self.n_lists_ * self.training_rows_per_list)
        sample = rows[order[:n_sample]]
        centroids = sample[: self.n_lists_].clone()
        for _ in range(self.n_iter):
            assignment = _nearest_centroid(sample, centroids, self.block_size)
            sums = torch.zeros_like(centroids).index_add_(0, assignment, sample)
            counts = torch.bincount(assignment, minlength=len(centroids)).unsqueeze(1)
            # an empty list keeps its centroid (it stays empty, which is harmless)
            centroids = torch.where(counts > 0, sums / counts.clamp(min=1), centroids)
        return centroids

    @property
    def n_rows(self) -> int:
        """Number of indexed rows."""
        if not hasattr(self, "centroids_"):
            raise ValueError("this InvertedFileIndex is not fitted; call fit first")
        return len(self._X)

    def __getstate__(self) -> dict:
        """Pickle without the search cache (rebuilt on first use)."""
        state = self.__dict__.copy()
        state.pop("_cache", None)
        return state

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
            Neighbours per query row.

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
        queries = self._X if exclude_self else as_2d_float(X, "X")
        if queries.shape[1] != self._X.shape[1]:
            raise ValueError(
                f"X has {queries.shape[1]} features but the index has {self._X.shape[1]}"
            )
        check_n_neighbors(n_neighbors, len(self._X) - int(exclude_self), exclude_self=exclude_self)
        indices = np.zeros((len(queries), n_neighbors), dtype=np.int64)
        distances = np.zeros((len(queries), n_neighbors), dtype=np.float32)
        if n_neighbors == 0 or len(queries) == 0:
            return indices, distances

        n_candidates = n_neighbors + _EXTRA_CANDIDATES
        if exclude_self:
            candidates = self._graph_candidates(n_candidates)
        else:
            candidates = np.concatenate(
                [
                    self._query_candidates(queries[start : start + _QUERY_CHUNK], n_candidates)
                    for start in range(0, len(queries), _QUERY_CHUNK)
                ]
            )
        for start in range(0, len(queries), _RERANK_BLOCK):
            rows = slice(start, start + _RERANK_BLOCK)
            indices[rows], distances[rows] = rerank_exactly(
                queries[rows].astype(np.float64),
                self._X,
                candidates[rows],
                n_neighbors,
                np.arange(len(queries))[rows] if exclude_self else None,
            )
        return indices, distances

    def _search_state(self, device: torch.device) -> dict[str, torch.Tensor]:
        """The filed rows' ranking keys and the centroids on ``device``, built once and cached."""
        cache = self.__dict__.setdefault("_cache", {})
        if cache.get("device") != device:
            filed = _centred_float32(self._X[self._order], self.center_, device, self.block_size)
            # ranking key of row r for query q: |r|^2 - 2 q.r = [q, 1] . [-2 r, |r|^2]
            cache.clear()
            cache["device"] = device
            cache["filed"] = _ranking_keys(filed)
            cache["centroids"] = _ranking_keys(torch.as_tensor(self.centroids_, device=device))
            cache["nearby"] = torch.as_tensor(self._nearby_lists, device=device)
            cache["order"] = torch.as_tensor(self._order, device=device)
        return cache

    def _graph_candidates(self, n_candidates: int) -> np.ndarray:
        """Indices of at least the ``n_candidates`` best other rows of each indexed row.

        Candidates are ranked by float32 distances among the rows of the
        row's probed lists; missing ones are -1. The search goes list by list
        (see the module docstring), which suits a query set that fills every
        list; :meth:`_query_candidates` searches new queries.
        """
        device = resolve_device(self.device)
        state = self._search_state(device)
        filed, offsets = state["filed"], self._offsets
        # the indexed rows, in list order: query position i is filed row i
        keyed = _query_keys(-0.5 * filed[:, :-1])
        list_of_query = self.list_of_row_[self._order]
        query_order = self._order
        query_offsets = np.searchsorted(list_of_query, np.arange(self.n_lists_ + 1))
        n_queries = len(keyed)
        n_others = min(self.n_probe, self.n_lists_) - 1

        # 1. each query against its own list: its best candidates so far, a
        # threshold (the worst of them) and the other lists it probes
        own_index = torch.full((n_queries, n_candidates), -1, dtype=torch.int64, device=device)
        own_score = torch.full((n_queries, n_candidates), torch.inf, device=device)
        threshold = torch.full((n_queries,), torch.inf, device=device)
        probed = torch.zeros((n_queries, n_others), dtype=torch.int64, device=device)
        for list_id in range(self.n_lists_):
            first, last = query_offsets[list_id], query_offsets[list_id + 1]
            if first == last:
                continue
            start, stop = offsets[list_id], offsets[list_id + 1]
            n_kept = min(n_candidates, stop - start)
            if n_kept > 0:
                scores = keyed[first:last] @ filed[start:stop].T
                scores.diagonal().fill_(torch.inf)
                top = torch.topk(scores, n_kept, dim=1, largest=False, sorted=False)
                own_index[first:last, :n_kept] = top.indices + start
                own_score[first:last, :n_kept] = top.values
                if n_kept == n_candidates:
                    threshold[first:last] = top.values.amax(dim=1)
            if n_others > 0:
                nearby = state["nearby"][list_id, 1:]
                scores = keyed[first:last] @ state["centroids"][nearby].T
                nearest = torch.topk(scores, n_others, dim=1, largest=False, sorted=False)
                probed[first:last] = nearby[nearest.indices]

        # 2. each probed list against the queries that probe it: the rows that
        # beat a query's threshold go to its spill buffer
        spill_index = torch.full((n_queries, _SPILL), -1, dtype=torch.int64, device=device)
        spill_score = torch.full((n_queries, _SPILL), torch.inf, device=device)
        n_spilled = torch.zeros(n_queries, dtype=torch.int64, device=device)
        if n_others > 0:
            pair_lists = probed.ravel()
            pair_order = torch.argsort(pair_lists, stable=True)
            pair_queries = pair_order // n_others
            pair_offsets = torch.searchsorted(
                pair_lists[pair_order],
                torch.arange(self.n_lists_ + 1, device=device),
            ).tolist()
            for list_id in range(self.n_lists_):
                start, stop = offsets[list_id], offsets[list_id + 1]
                probing = pair_queries[pair_offsets[list_id] : pair_offsets[list_id + 1]]
                if start == stop or len(probing) == 0:
                    continue
                scores = keyed[probing] @ filed[start:stop].T
                hits = (scores < threshold[probing].unsqueeze(1)).nonzero()
                if len(hits) == 0:
                    continue
                local, column = hits[:, 0], hits[:, 1]
                n_hits = torch.bincount(local, minlength=len(probing))
                full = n_spilled[probing] + n_hits > _SPILL
                if bool(full.any()):
                    # a query whose spill buffer would overflow merges it, and this
                    # list, into its candidates (which raises its threshold)
                    rows = full.nonzero().flatten()
                    query = probing[rows]
                    merged_score = torch.cat(
                        [own_score[query], spill_score[query], scores[rows]], 1
                    )
                    members = torch.arange(start, stop, device=device).expand(len(rows), -1)
                    merged_index = torch.cat([own_index[query], spill_index[query], members], 1)
                    top = torch.topk(merged_score, n_candidates, dim=1, largest=False, sorted=False)
                    own_score[query] = top.values
                    own_index[query] = torch.gather(merged_index, 1, top.indices)
                    threshold[query] = top.values.amax(dim=1)
                    spill_score[query] = torch.inf
                    spill_index[query] = -1
                    n_spilled[query] = 0
                    keep = ~full[local]
                    local, column = local[keep], column[keep]
                query = probing[local]
                # hits come query by query (probing is sorted): rank within each query
                rank = torch.arange(len(query), device=device) - torch.searchsorted(query, query)
                slot = n_spilled[query] + rank
                spill_index[query, slot] = column + start
                spill_score[query, slot] = scores[local, column]
                n_spilled[probing] += torch.where(full, 0, n_hits)

        scores = torch.cat([own_score, spill_score], dim=1)
        best = torch.topk(scores, n_candidates, dim=1, largest=False, sorted=False).indices
        candidates = torch.gather(torch.cat([own_index, spill_index], dim=1), 1, best)
        candidates[torch.gather(scores, 1, best) == torch.inf] = -1
        # filed positions to row indices, query positions to query order
        candidates = torch.where(candidates >= 0, state["order"][candidates.clamp(min=0)], -1)
        result = np.empty((n_queries, n_candidates), dtype=np.int64)
        result[query_order] = candidates.cpu().numpy()
        return result

    def _padded_lists(self, device: torch.device) -> dict:
        """The filed rows' ranking keys, padded list by list, built once and cached.

        Lists are grouped by their length rounded up to a size class (16, 24,
        32, 48, 64, 96, ...: at most 1.5 times the length); each group holds a
        tensor of shape ``(n_group_lists, size, n_features + 1)`` whose padding
        keys score ``+inf`` for every query.
        """
        state = self._search_state(device)
        if "padded" not in state:
            counts = np.diff(self._offsets)
            size_class = np.array([_size_class(int(count)) for count in counts])
            filed = state["filed"]
            padding = torch.zeros(filed.shape[1], device=device)
            padding[-1] = torch.inf
            groups = []
            list_group = np.zeros(self.n_lists_, dtype=np.int64)
            list_slot = np.zeros(self.n_lists_, dtype=np.int64)
            for group, size in enumerate(np.unique(size_class).tolist()):
                lists = np.flatnonzero(size_class == size)
                list_group[lists], list_slot[lists] = group, np.arange(len(lists))
                keys = padding.repeat(len(lists), size, 1)
                for slot, list_id in enumerate(lists.tolist()):
                    start, stop = self._offsets[list_id], self._offsets[list_id + 1]
                    keys[slot, : stop - start] = filed[start:stop]
                groups.append((size, keys))
            # pairs are sorted by group, then by list within the group
            rank = np.argsort(list_group * self.n_lists_ + list_slot, kind="stable")
            list_rank = np.empty(self.n_lists_, dtype=np.int64)
            list_rank[rank] = np.arange(self.n_lists_)
            state["padded"] = {
                "groups": groups,
                "group_starts": torch.as_tensor(
                    np.searchsorted(list_group[rank], np.arange(len(groups) + 1)), device=device
                ),
                "list_rank": torch.as_tensor(list_rank, device=device),
                "list_slot": torch.as_tensor(list_slot, device=device),
                "offsets": torch.as_tensor(self._offsets[:-1], device=device),
            }
        return state["padded"]

    def _query_candidates(self, queries: np.ndarray, n_candidates: int) -> np.ndarray:
        """Indices of the ``n_candidates`` best rows of each new query among its probed lists.

        Candidates are ranked by float32 distances; missing ones are -1. Each
        query probes its nearest list and the ``n_probe - 1`` lists, among
        those nearest to that list's centroid, whose centroids are nearest to
        it. Its own list gives its best ``n_candidates`` so far and a
        threshold (the worst of them); its other lists add the rows that beat
        the threshold. A query whose own list is too short for a threshold,
        or whose other lists hold more than ``_MAX_HITS`` rows that beat it,
        takes the best ``n_candidates`` of every probed list instead. The
        scores come from :meth:`_pair_scores`, so the work does not grow with
        the number of lists, and a query's result depends on the query and
        the index only.
        """
        device = resolve_device(self.device)
        state = self._search_state(device)
        padded = self._padded_lists(device)
        keyed = _query_keys(_centred_float32(queries, self.center_, device, self.block_size))
        n_queries, n_probe = len(keyed), min(self.n_probe, self.n_lists_)
        n_others = n_probe - 1
        everyone = torch.arange(n_queries, device=device)
        offsets = padded["offsets"]

        # each query's probed lists: its own (nearest) list first
        probed = torch.empty((n_queries, n_probe), dtype=torch.int64, device=device)
        for start in range(0, n_queries, self.block_size):
            scores = keyed[start : start + self.block_size] @ state["centroids"].T
            own = scores.argmin(dim=1)
            probed[start : start + self.block_size, 0] = own
            if n_others > 0:
                nearby = state["nearby"][own, 1:]
                nearest = torch.topk(
                    torch.gather(scores, 1, nearby), n_others, dim=1, largest=False
                )
                probed[start : start + self.block_size, 1:] = torch.gather(
                    nearby, 1, nearest.indices
                )

        # 1. own list: the best candidates so far and the threshold
        own_score = torch.full((n_queries, n_candidates), torch.inf, device=device)
        own_index = torch.zeros((n_queries, n_candidates), dtype=torch.int64, device=device)
        for tile_pair, tile_scores in self._pair_scores(keyed, everyone, probed[:, 0], padded):
            query, scores = _filled_rows(tile_pair, tile_scores)
            n_kept = min(n_candidates, scores.shape[1])
            top = torch.topk(scores, n_kept, dim=1, largest=False, sorted=False)
            own_score[query, :n_kept] = top.values
            own_index[query, :n_kept] = top.indices + offsets[probed[query, 0]].unsqueeze(1)
        threshold = own_score.amax(dim=1)
        extra_score = torch.full((n_queries, 0), torch.inf, device=device)
        extra_index = torch.zeros((n_queries, 0), dtype=torch.int64, device=device)

        # 2. other lists: the rows that beat the threshold
        if n_others > 0:
            searched = (threshold < torch.inf).nonzero().squeeze(1)
            pair_query = searched.repeat_interleave(n_others)
            pair_list = probed[searched, 1:].ravel()
            hit_pair, hit_column, hit_score = [], [], []
            for tile_pair, scores in self._pair_scores(keyed, pair_query, pair_list, padded):
                bar = torch.where(tile_pair >= 0, threshold[pair_query[tile_pair]], -torch.inf)
                tile, row, column = (scores < bar.unsqueeze(2)).nonzero(as_tuple=True)
                hit_pair.append(tile_pair[tile, row])
                hit_column.append(column)
                hit_score.append(scores[tile, row, column])
            hit_pair = torch.cat(hit_pair) if hit_pair else everyone[:0]
            hit_query = pair_query[hit_pair]
            hit_index = offsets[pair_list[hit_pair]] + torch.cat(hit_column or [everyone[:0]])
            hit_score = torch.cat(hit_score or [own_score[:0, 0]])
            n_hits = torch.bincount(hit_query, minlength=n_queries)
            fallback = (threshold == torch.inf) | (n_hits > _MAX_HITS)
            n_hits[fallback] = 0
            width = max(int(n_hits.max()), n_others * n_candidates if bool(fallback.any()) else 0)
            extra_score = torch.full((n_queries, width), torch.inf, device=device)
            extra_index = torch.zeros((n_queries, width), dtype=torch.int64, device=device)
            # hits go to their query's row, in the order they were found
            order = torch.argsort(hit_query, stable=True)
            hit_query = hit_query[order]
            keep = ~fallback[hit_query]
            rank = torch.arange(len(hit_query), device=device) - torch.searchsorted(
                hit_query, hit_query
            )
            extra_score[hit_query[keep], rank[keep]] = hit_score[order][keep]
            extra_index[hit_query[keep], rank[keep]] = hit_index[order][keep]
            # the fallback: each other list's best candidates
            searched = fallback.nonzero().squeeze(1)
            pair_query = searched.repeat_interleave(n_others)
            pair_slot = torch.arange(n_others, device=device).repeat(len(searched))
            pair_list = probed[searched, 1:].ravel()
            for tile_pair, tile_scores in self._pair_scores(keyed, pair_query, pair_list, padded):
                pair, scores = _filled_rows(tile_pair, tile_scores)
                n_kept = min(n_candidates, scores.shape[1])
                top = torch.topk(scores, n_kept, dim=1, largest=False, sorted=False)
                query = pair_query[pair]
                columns = (pair_slot[pair] * n_candidates).unsqueeze(1) + torch.arange(
                    n_kept, device=device
                )
                extra_score[query.unsqueeze(1), columns] = top.values
                extra_index[query.unsqueeze(1), columns] = top.indices + offsets[
                    pair_list[pair]
                ].unsqueeze(1)

        scores = torch.cat([own_score, extra_score], dim=1)
        top = torch.topk(scores, n_candidates, dim=1, largest=False, sorted=False)
        found = top.values < torch.inf
        candidates = torch.gather(torch.cat([own_index, extra_index], dim=1), 1, top.indices)
        # filed positions to row indices (a padding column may point past the last row)
        candidates = torch.where(found, state["order"][candidates.where(found, 0)], -1)
        return candidates.cpu().numpy()

    def _pair_scores(
        self,
        keyed: torch.Tensor,
        pair_query: torch.Tensor,
        pair_list: torch.Tensor,
        padded: dict,
    ) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """Float32 scores of (query, list) pairs, batch by batch.

        Pair ``i`` is query ``pair_query[i]`` (a row of ``keyed``) against
        list ``pair_list[i]``. The pairs are sorted by list and cut into tiles
        of up to ``_TILE_QUERIES`` pairs of one list; one batched matrix
        product per batch of tiles (of at most ``_TILE_BYTES``) scores them
        against their lists' padded keys.

        Yields
        ------
        tile_pair : Tensor of shape (n_tiles, height)
            The pair in each row of each tile (an index into ``pair_query``
            and ``pair_list``), -1 for an empty row.
        scores : Tensor of shape (n_tiles, height, size)
            Score of column ``c`` of the row's list (filed row
            ``offsets[list] + c``); ``+inf`` past the list's end.
        """
        device = keyed.device
        list_rank = padded["list_rank"]
        order = torch.argsort(list_rank[pair_list], stable=True)
        pair_query, pair_list = pair_query[order], pair_list[order]
        group_bounds = torch.searchsorted(list_rank[pair_list], padded["group_starts"]).tolist()
        for group, (size, keys) in enumerate(padded["groups"]):
            first, last = group_bounds[group], group_bounds[group + 1]
            if first == last:
                continue
            slot = padded["list_slot"][pair_list[first:last]]
            # tiles of 4 to _TILE_QUERIES pairs, about the pairs per list (4 or more rows
            # per tile give bit-identical scores whatever the height: row-independence)
            height = 4
            while height < _TILE_QUERIES and height * len(keys) < last - first:
                height *= 2
            count = torch.bincount(slot, minlength=len(keys))
            tiles_of_slot = (count + height - 1) // height
            first_tile = torch.cumsum(tiles_of_slot, 0) - tiles_of_slot
            rank = torch.arange(len(slot), device=device) - (torch.cumsum(count, 0) - count)[slot]
            tile = first_tile[slot] + rank // height
            position = rank % height
            tile_slot = torch.repeat_interleave(
                torch.arange(len(keys), device=device), tiles_of_slot
            )
            per_batch = max(1, _TILE_BYTES // (4 * size * (height + keys.shape[2])))
            starts = list(range(0, len(tile_slot), per_batch))
            bounds = torch.searchsorted(
                tile, torch.tensor([*starts, len(tile_slot)], device=device)
            ).tolist()
            for batch, start in enumerate(starts):
                lo, hi = bounds[batch], bounds[batch + 1]
                local, at = tile[lo:hi] - start, position[lo:hi]
                slots = tile_slot[start : start + per_batch]
                query_tiles = torch.zeros((len(slots), height, keys.shape[2]), device=device)
                query_tiles[:, :, -1] = 1.0
                query_tiles[local, at] = keyed[pair_query[first + lo : first + hi]]
                tile_pair = torch.full((len(slots), height), -1, device=device)
                tile_pair[local, at] = order[first + lo : first + hi]
                yield tile_pair, torch.bmm(query_tiles, keys[slots].transpose(1, 2))


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


def _filled_rows(tile_pair: torch.Tensor, scores: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """The pairs and score rows of the filled rows of tiles from :meth:`_pair_scores`."""
    filled = tile_pair >= 0
    return tile_pair[filled], scores[filled]


def _size_class(length: int) -> int:
    """The padded length of a list of ``length`` rows: 16, 24, 32, 48, 64, 96, ... (>= length)."""
    size = 16
    while size < length:
        size = size * 3 // 2 if size & (size - 1) == 0 else size * 4 // 3
    return size


def _ranking_keys(rows: torch.Tensor) -> torch.Tensor:
    """``[-2 r, |r|^2]`` per row ``r``: ``[q, 1]`` times it ranks rows by distance to ``q``."""
    return torch.cat([-2 * rows, (rows**2).sum(1, keepdim=True)], dim=1)


def _query_keys(rows: torch.Tensor) -> torch.Tensor:
    """``[q, 1]`` per query row ``q``."""
    return torch.cat([rows, torch.ones(len(rows), 1, dtype=rows.dtype, device=rows.device)], 1)


def _centred_float32(
    X: np.ndarray, center: np.ndarray, device: torch.device, block_size: int
) -> torch.Tensor:
    """``X - center`` as float32 on ``device``, centred in float64 block by block."""
    out = torch.empty(X.shape, dtype=torch.float32, device=device)
    step = max(block_size, 65_536)
    for start in range(0, len(X), step):
        block = np.subtract(X[start : start + step], center, dtype=np.float64)
        out[start : start + step] = torch.as_tensor(block.astype(np.float32), device=device)
    return out


def _nearest_centroid(rows: torch.Tensor, centroids: torch.Tensor, block_size: int):
    """Index of the nearest centroid of each row, computed block by block.

    ``centroids`` are raw centroids, or their :func:`_ranking_keys` (one more column).
    """
    key = centroids if centroids.shape[1] == rows.shape[1] + 1 else _ranking_keys(centroids)
    parts = [
        (_query_keys(rows[start : start + block_size]) @ key.T).argmin(dim=1)
        for start in range(0, len(rows), block_size)
    ]
    return torch.cat(parts)
