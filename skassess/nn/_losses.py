"""Training objectives of the assessors: regression and pairwise ranking losses.

NAS uses a performance predictor to *rank* architectures, and NAS-Bench
accuracies have a long tail of broken cells that dominates a squared error. So
besides the paper's mean squared error (here on Gaussianised ranks of the
targets, which removes the tail), two pairwise ranking losses are offered: for
every pair of labeled cells in a batch whose targets differ, the better cell
should score higher.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy.stats import norm, rankdata
from torch.nn import functional as F

__all__ = [
    "LOSSES",
    "gaussianised_ranks",
    "rank_preserving_line",
    "training_loss",
    "training_targets",
]

LOSSES = ("pairwise_logistic", "pairwise_hinge", "mse")


def gaussianised_ranks(y: np.ndarray) -> np.ndarray:
    """Map values to standard normal quantiles of their ranks (ties share a rank).

    Examples
    --------
    >>> gaussianised_ranks(np.array([3.0, 1.0])).round(3).tolist()
    [0.674, -0.674]
    """
    ranks = rankdata(y)
    return norm.ppf((ranks - 0.5) / len(y))


def training_targets(name: str, y: np.ndarray) -> np.ndarray:
    """What the loss ``name`` compares scores with: Gaussianised ranks for ``"mse"``, else ``y``.

    Examples
    --------
    >>> training_targets("mse", np.array([0.1, 0.9, 0.5])).round(2).tolist()
    [-0.97, 0.97, 0.0]
    """
    if name not in LOSSES:
        raise ValueError(f"loss must be one of {LOSSES}, got {name!r}")
    return gaussianised_ranks(y) if name == "mse" else np.asarray(y, dtype=np.float64)


def _ordered_pairs(scores: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Score differences ``s_i - s_j`` over all pairs with ``t_i > t_j``."""
    better = targets.unsqueeze(1) > targets.unsqueeze(0)
    return (scores.unsqueeze(1) - scores.unsqueeze(0))[better]


def training_loss(name: str, scores: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """The loss ``name`` (one of :data:`LOSSES`) of ``scores`` against ``targets``."""
    if name == "mse":
        return F.mse_loss(scores, targets)
    margins = _ordered_pairs(scores, targets)
    if margins.numel() == 0:
        return scores.sum() * 0.0
    if name == "pairwise_logistic":
        return F.softplus(-margins).mean()
    if name == "pairwise_hinge":
        return F.relu(1.0 - margins).mean()
    raise ValueError(f"loss must be one of {LOSSES}, got {name!r}")


def rank_preserving_line(scores: np.ndarray, target: np.ndarray) -> tuple[float, float]:
    """Least-squares line ``target ~ a * score + b`` with ``a > 0``.

    Maps a ranking model's scores to target units without changing their
    order (an isotonic map would create ties, which cost Kendall's tau).
    """
    centred = scores - scores.mean()
    denominator = float(centred @ centred)
    slope = float(centred @ (target - target.mean())) / denominator if denominator else 0.0
    if slope <= 0:  # anti-correlated on the training cells: keep the order anyway
        slope = float(target.std() / scores.std()) if scores.std() > 0 else 0.0
    return slope, float(target.mean() - slope * scores.mean())
