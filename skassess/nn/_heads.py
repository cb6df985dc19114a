"""Scoring heads on embeddings: an MLP, and the graph convolution of the assessor.

:class:`GraphConvHead` is the regressor of Tang et al. (CVPR 2020) in the form
that predicts inductively: a cell's score is read from its own embedding and
from the weighted mean over itself and its neighbours in the relation graph
(row-normalised ``A + I``), side by side, so that training decides how far to
trust the neighbours. This is the GraphConv layer of Morris et al. (AAAI 2019,
a separate weight for the node and for its neighbourhood) followed by an MLP.
Without neighbours (``k = 0``) the neighbourhood is the cell itself.

Dropout draws its masks from a generator the fit owns (:class:`SeededDropout`),
never from torch's global generator.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence

import torch
from torch import nn

__all__ = ["GraphConvHead", "SeededDropout", "mlp", "neighbourhood_mean", "dropout_generator"]


class SeededDropout(nn.Module):
    """Dropout whose masks come from ``self.generator`` (set by :func:`dropout_generator`).

    Identity in evaluation mode. In training mode without a generator it
    raises, rather than falling back to torch's global generator.
    """

    def __init__(self, p: float) -> None:
        super().__init__()
        self.p = float(p)
        self.generator: torch.Generator | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Zero each entry with probability ``p`` and rescale the others."""
        if not self.training or self.p == 0.0:
            return x
        if self.generator is None:
            raise RuntimeError("SeededDropout in training mode needs a generator")
        keep = torch.rand(x.shape, generator=self.generator).to(x.device) >= self.p
        return x * keep / (1.0 - self.p)


@contextlib.contextmanager
def dropout_generator(module: nn.Module, generator: torch.Generator) -> Iterator[None]:
    """Give every :class:`SeededDropout` of ``module`` the fit's generator for a block."""
    layers = [layer for layer in module.modules() if isinstance(layer, SeededDropout)]
    for layer in layers:
        layer.generator = generator
    try:
        yield
    finally:
        for layer in layers:  # a generator does not pickle; the fitted module keeps none
            layer.generator = None


def mlp(in_features: int, hidden_layer_sizes: Sequence[int], dropout: float = 0.0) -> nn.Sequential:
    """``Linear -> ReLU -> Dropout`` per hidden width, then a linear layer to one output."""
    layers: list[nn.Module] = []
    width = in_features
    for size in hidden_layer_sizes:
        layers += [nn.Linear(width, int(size)), nn.ReLU()]
        if dropout > 0:
            layers.append(SeededDropout(dropout))
        width = int(size)
    layers.append(nn.Linear(width, 1))
    return nn.Sequential(*layers)


def neighbourhood_mean(
    embedding: torch.Tensor, neighbours: torch.Tensor, weights: torch.Tensor
) -> torch.Tensor:
    """Weighted mean over a row and its neighbours: ``(x + sum_j w_j x_j) / (1 + sum_j w_j)``.

    Parameters
    ----------
    embedding : Tensor of shape (b, d)
    neighbours : Tensor of shape (b, k, d)
    weights : Tensor of shape (b, k)

    Returns
    -------
    Tensor of shape (b, d)

    Examples
    --------
    >>> import torch
    >>> neighbourhood_mean(torch.zeros(1, 1), torch.ones(1, 1, 1), torch.ones(1, 1))
    tensor([[0.5000]])
    """
    pooled = embedding + (weights.unsqueeze(-1) * neighbours).sum(dim=1)
    return pooled / (1.0 + weights.sum(dim=1, keepdim=True))


class GraphConvHead(nn.Module):
    """Score = MLP([x, neighbourhood mean of x]) for a row and its relation-graph neighbours.

    Parameters
    ----------
    n_features : int
        Width of the embeddings.
    hidden_layer_sizes : sequence of int
        Widths of the MLP's hidden layers.
    dropout : float
        Dropout after each hidden layer, in training.
    """

    def __init__(self, n_features: int, hidden_layer_sizes: Sequence[int], dropout: float) -> None:
        super().__init__()
        self.mlp = mlp(2 * n_features, hidden_layer_sizes, dropout)

    def forward(
        self, embedding: torch.Tensor, neighbours: torch.Tensor, weights: torch.Tensor
    ) -> torch.Tensor:
        """Scores (b,) from embeddings (b, d), neighbour embeddings (b, k, d), weights (b, k)."""
        pooled = neighbourhood_mean(embedding, neighbours, weights)
        return self.mlp(torch.cat([embedding, pooled], dim=-1)).squeeze(-1)
