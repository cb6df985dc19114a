"""The relation graph of the assessor: nearest neighbours in embedding space.

Helpers for :class:`~skassess.assessor.SemiSupervisedAssessor`, which rebuilds
its graph from the embeddings of its fine-tuned encoder many times during
training, so they work on torch tensors and never build the dense ``n x n``
distance matrix: distances are computed ``block_size`` query rows at a time.
"""

from __future__ import annotations

import torch

__all__ = ["gaussian_weights", "nearest_neighbours"]


def nearest_neighbours(
    queries: torch.Tensor,
    keys: torch.Tensor,
    n_neighbors: int,
    *,
    exclude_self: bool = False,
    block_size: int = 2048,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The ``n_neighbors`` keys closest to each query (Euclidean), blockwise.

    Parameters
    ----------
    queries : Tensor of shape (m, d)
    keys : Tensor of shape (n, d)
    n_neighbors : int
        Clipped to the number of keys available.
    exclude_self : bool, default=False
        ``queries`` are ``keys`` (same rows, same order); a row is not its own
        neighbour.
    block_size : int, default=2048
        Query rows per distance block (memory ``block_size x n``).

    Returns
    -------
    distances : Tensor of shape (m, k), ascending per row
    indices : Tensor of shape (m, k), int64 rows of ``keys``
    """
    k = min(n_neighbors, keys.shape[0] - int(exclude_self))
    if k < 1:
        empty = torch.zeros(queries.shape[0], 0, device=queries.device)
        return empty, empty.long()
    distances, indices = [], []
    n_candidates = min(k + 8, keys.shape[0])
    for start in range(0, queries.shape[0], block_size):
        block_queries = queries[start : start + block_size]
        # Fast matrix-product distances pick candidates; exact differences rank them,
        # so that a query's neighbours do not depend on the other rows of its block.
        block = torch.cdist(block_queries, keys)
        if exclude_self:
            rows = torch.arange(block.shape[0], device=block.device)
            block[rows, rows + start] = float("inf")
        candidates = torch.topk(block, n_candidates, dim=1, largest=False).indices
        exact = (block_queries.unsqueeze(1) - keys[candidates]).square().sum(-1).sqrt()
        if exclude_self:
            own = torch.arange(start, start + block.shape[0], device=block.device)
            exact[candidates == own.unsqueeze(1)] = float("inf")
        values, picked = torch.topk(exact, k, dim=1, largest=False)
        distances.append(values)
        indices.append(candidates.gather(1, picked))
    return torch.cat(distances), torch.cat(indices)


def gaussian_weights(distances: torch.Tensor, width: float) -> torch.Tensor:
    """Edge weights ``exp(-d^2 / (2 width^2))`` of a Gaussian kernel."""
    return torch.exp(-(distances**2) / (2.0 * width**2))
