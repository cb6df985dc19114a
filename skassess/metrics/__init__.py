"""Ranking metrics and scorers for architecture performance predictors.

Each metric takes ``(y_true, y_pred)`` as scikit-learn's do, higher meaning a
better architecture, and ignores rows whose ``y_true`` is NaN:

- :func:`kendall_tau`, :func:`spearman_rho`: rank correlations.
- :func:`precision_at_k`: share of the true top k found in the predicted top k.
- :func:`top_k_regret`: true best minus the best of the predicted top k.
- :func:`n_at_k`: best true rank among the predicted top k (N@K).

:func:`get_scorer` and :func:`get_scorers` wrap them for model selection.
"""

from skassess.metrics._ranking import (
    kendall_tau,
    n_at_k,
    precision_at_k,
    spearman_rho,
    top_k_regret,
)
from skassess.metrics._scorer import get_scorer, get_scorers

__all__ = [
    "get_scorer",
    "get_scorers",
    "kendall_tau",
    "n_at_k",
    "precision_at_k",
    "spearman_rho",
    "top_k_regret",
]
