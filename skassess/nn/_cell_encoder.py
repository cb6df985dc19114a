"""A batched graph auto-encoder over cells, on padded dense tensors.

Every cell of a batch is padded to ``V`` vertices (``skassess._cell.cells_to_arrays``),
so a batch is an adjacency tensor ``A`` of shape ``(n, V, V)``, a one-hot op tensor
``X`` of shape ``(n, V, n_ops)`` and a vertex mask ``(n, V)``. With ``V <= 8`` the
message passing is a pair of batched matrix products (``A^T H`` sums a vertex's
predecessors, ``A H`` its successors), which runs thousands of cells at once on a
CPU.

The encoder is a directional graph isomorphism network (GIN, Xu et al., ICLR
2019): each layer combines a vertex's state with the sum over its predecessors and,
separately, the sum over its successors, so that information flows along and
against the edges of the DAG. The last layer is projected to a per-vertex latent;
the cell's embedding is the mean latent over its real vertices (as in arch2vec,
Yan et al., NeurIPS 2020). The decoder rebuilds the cell from the vertex latents:
a bilinear form scores every edge ``i -> j`` (``i < j``), a linear layer every op.

This module is shared by :class:`~skassess.ArchitectureEmbedder`,
:class:`~skassess.SemiSupervisedAssessor` and
:class:`~skassess.baselines.NeuralPredictor`.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from skassess._cell import Cell, InvalidCellError, cells_to_arrays

__all__ = [
    "CellBatch",
    "CellDecoder",
    "CellEncoder",
    "CellVocabulary",
    "DirectionalGINLayer",
    "encode_in_batches",
    "reconstruction_accuracy",
    "reconstruction_loss",
]


@dataclass(frozen=True)
class CellVocabulary:
    """The op names and the padded size that turn cells into tensors.

    Parameters
    ----------
    op_names : tuple of str
        Op vocabulary; an op's one-hot index is its position here.
    max_vertices : int
        Largest cell seen in fit. Larger cells are still accepted later: the
        encoder does not depend on the padded size.
    """

    op_names: tuple[str, ...]
    max_vertices: int

    @classmethod
    def from_cells(cls, cells: Sequence[Cell]) -> CellVocabulary:
        """Learn the vocabulary from cells, like a text vectorizer."""
        names = sorted({op for cell in cells for op in cell.ops})
        return cls(tuple(names), max(cell.n_vertices for cell in cells))

    @classmethod
    def from_space(cls, space) -> CellVocabulary:
        """Take the vocabulary of a :mod:`skassess.spaces` search space."""
        try:
            return cls(tuple(space.op_names), int(space.max_vertices))
        except AttributeError as exc:
            raise TypeError(
                "space must be a skassess.spaces search space with op_names and "
                f"max_vertices, got {type(space).__name__}"
            ) from exc

    def arrays(self, cells: Sequence[Cell]) -> tuple[np.ndarray, np.ndarray]:
        """Padded adjacency and op ids of ``cells``; unknown ops raise."""
        size = max([self.max_vertices, *(cell.n_vertices for cell in cells)])
        try:
            return cells_to_arrays(cells, self.op_names, size)
        except InvalidCellError as exc:
            raise InvalidCellError(
                f"{exc}; the vocabulary was learned in fit (or taken from `space`)"
            ) from None


class CellBatch:
    """Padded dense tensors for a batch of cells, ready for the encoder.

    Parameters
    ----------
    adjacency : ndarray of shape (n, V, V)
    ops : ndarray of shape (n, V), -1 for padding
    n_ops : int
    device : torch.device
    """

    def __init__(
        self, adjacency: np.ndarray, ops: np.ndarray, n_ops: int, device: torch.device
    ) -> None:
        ops_tensor = torch.as_tensor(ops.astype(np.int64), device=device)
        self.mask = ops_tensor >= 0
        self.ops = ops_tensor.clamp(min=0)
        self.adjacency = torch.as_tensor(adjacency, device=device, dtype=torch.float32)
        self.features = F.one_hot(self.ops, n_ops).float() * self.mask.unsqueeze(-1)

    def __len__(self) -> int:
        return self.ops.shape[0]

    def __getitem__(self, index) -> CellBatch:
        batch = CellBatch.__new__(CellBatch)
        batch.mask = self.mask[index]
        batch.ops = self.ops[index]
        batch.adjacency = self.adjacency[index]
        batch.features = self.features[index]
        return batch


class DirectionalGINLayer(nn.Module):
    """One message-passing step along and against the edges of a DAG.

    ``h_v' = MLP([h_v, sum_{u -> v} h_u, sum_{v -> w} h_w])``, with a two-layer
    ReLU MLP; padding vertices stay zero.
    """

    def __init__(self, in_features: int, out_features: int) -> None:
        super().__init__()
        self.combine = nn.Linear(3 * in_features, out_features)
        self.transform = nn.Linear(out_features, out_features)

    def forward(self, states: torch.Tensor, adjacency: torch.Tensor, mask: torch.Tensor):
        """Update vertex ``states`` (n, V, d) of cells with ``adjacency`` (n, V, V)."""
        from_predecessors = torch.bmm(adjacency.transpose(1, 2), states)
        from_successors = torch.bmm(adjacency, states)
        mixed = torch.cat([states, from_predecessors, from_successors], dim=-1)
        out = F.relu(self.transform(F.relu(self.combine(mixed))))
        return out * mask.unsqueeze(-1)


class CellEncoder(nn.Module):
    """Directional GIN encoder: cells to vertex latents and a cell embedding.

    Parameters
    ----------
    n_ops : int
        Size of the op vocabulary (one-hot vertex features).
    hidden_layer_sizes : sequence of int
        Width of each message-passing layer.
    embedding_dim : int
        Size of the vertex latents and of the cell embedding.
    """

    def __init__(self, n_ops: int, hidden_layer_sizes: Sequence[int], embedding_dim: int) -> None:
        super().__init__()
        sizes = [n_ops, *hidden_layer_sizes]
        self.layers = nn.ModuleList(DirectionalGINLayer(a, b) for a, b in itertools.pairwise(sizes))
        self.to_latent = nn.Linear(sizes[-1], embedding_dim)

    def forward(self, batch: CellBatch) -> tuple[torch.Tensor, torch.Tensor]:
        """Return vertex latents (n, V, embedding_dim) and embeddings (n, embedding_dim)."""
        states = batch.features
        for layer in self.layers:
            states = layer(states, batch.adjacency, batch.mask)
        mask = batch.mask.unsqueeze(-1).float()
        latents = self.to_latent(states) * mask
        embedding = latents.sum(dim=1) / mask.sum(dim=1).clamp(min=1.0)
        return latents, embedding


class CellDecoder(nn.Module):
    """Rebuild a cell from its vertex latents.

    Edge ``i -> j`` gets the logit ``z_i^T W z_j`` (a bilinear form, so the
    direction matters); each vertex's op gets logits from a linear layer.
    """

    def __init__(self, embedding_dim: int, n_ops: int) -> None:
        super().__init__()
        self.edge = nn.Linear(embedding_dim, embedding_dim, bias=False)
        self.op = nn.Linear(embedding_dim, n_ops)

    def forward(self, latents: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Return adjacency logits (n, V, V) and op logits (n, V, n_ops)."""
        edge_logits = torch.bmm(self.edge(latents), latents.transpose(1, 2))
        return edge_logits, self.op(latents)


def _edge_slots(mask: torch.Tensor) -> torch.Tensor:
    """Boolean (n, V, V): upper-triangular pairs of real vertices, the decodable edges."""
    n_vertices = mask.shape[1]
    upper = torch.ones(n_vertices, n_vertices, dtype=torch.bool, device=mask.device).triu(1)
    return upper & mask.unsqueeze(2) & mask.unsqueeze(1)


def reconstruction_loss(
    batch: CellBatch, edge_logits: torch.Tensor, op_logits: torch.Tensor
) -> torch.Tensor:
    """Mean binary cross-entropy over edge slots plus mean cross-entropy over ops."""
    slots = _edge_slots(batch.mask)
    edge_term = F.binary_cross_entropy_with_logits(edge_logits[slots], batch.adjacency[slots])
    op_term = F.cross_entropy(op_logits[batch.mask], batch.ops[batch.mask])
    return edge_term + op_term


def reconstruction_accuracy(
    batch: CellBatch, edge_logits: torch.Tensor, op_logits: torch.Tensor
) -> dict[str, np.ndarray]:
    """Per-cell correctness of the decoded cells.

    Returns
    -------
    dict
        ``"cell"``: bool per cell, rebuilt exactly; ``"op"`` and ``"edge"``:
        fraction of correct ops and of correct edge slots per cell.
    """
    slots = _edge_slots(batch.mask)
    edges_right = ((edge_logits > 0).float() == batch.adjacency) | ~slots
    ops_right = (op_logits.argmax(dim=-1) == batch.ops) | ~batch.mask
    n_slots = slots.sum(dim=(1, 2)).clamp(min=1)
    edge_wrong = (~edges_right).sum(dim=(1, 2))
    op_wrong = (~ops_right).sum(dim=1)
    return {
        "cell": ((edge_wrong == 0) & (op_wrong == 0)).cpu().numpy(),
        "op": (1 - op_wrong / batch.mask.sum(dim=1)).cpu().numpy(),
        "edge": (1 - edge_wrong / n_slots).cpu().numpy(),
    }


def encode_in_batches(encoder: CellEncoder, batch: CellBatch, batch_size: int) -> torch.Tensor:
    """Embeddings of every cell of ``batch``, ``batch_size`` cells at a time, without grad."""
    was_training = encoder.training
    encoder.eval()
    with torch.no_grad():
        parts = [
            encoder(batch[start : start + batch_size])[1]
            for start in range(0, len(batch), batch_size)
        ]
    encoder.train(was_training)
    return torch.cat(parts) if parts else torch.zeros(0, encoder.to_latent.out_features)
