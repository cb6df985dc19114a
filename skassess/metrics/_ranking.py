"""Ranking metrics for performance predictors.

A NAS predictor is judged by how well it *orders* architectures, and above all
whether it finds the best ones, not by its squared error. Every metric here
takes ``(y_true, y_pred)`` like scikit-learn's, with higher ``y`` meaning a
better architecture, and ignores the rows whose ``y_true`` is NaN (unlabeled).

Ties in ``y_pred`` at the cut of a top-k metric are resolved against the
predictor: among tied predictions, the architectures with the lower true value
are taken first. A predictor cannot gain from ties, the result does not depend
on the row order, and a constant predictor gets the worst possible score.
"""

from __future__ import annotations

import math
import warnings
from numbers import Integral, Real
from typing import Any

import numpy as np
from scipy import stats
from sklearn.exceptions import UndefinedMetricWarning

from skassess.utils.validation import as_1d_float

__all__ = ["kendall_tau", "spearman_rho", "precision_at_k", "top_k_regret", "n_at_k"]


def _check_targets(y_true: Any, y_pred: Any) -> tuple[np.ndarray, np.ndarray]:
    """Validate both targets; return them restricted to the labeled rows."""
    y_true = as_1d_float(y_true, "y_true")
    y_pred = as_1d_float(y_pred, "y_pred")
    if len(y_true) != len(y_pred):
        raise ValueError(
            f"y_true and y_pred have different lengths: {len(y_true)} and {len(y_pred)}"
        )
    if not np.isfinite(y_pred).all():
        bad = np.flatnonzero(~np.isfinite(y_pred))
        raise ValueError(
            f"y_pred has {len(bad)} non-finite value(s) (NaN or inf), first at row {bad[0]}: "
            f"{y_pred[bad[0]]}"
        )
    if np.isinf(y_true).any():
        row = int(np.flatnonzero(np.isinf(y_true))[0])
        raise ValueError(
            f"y_true has an infinite value at row {row}; unlabeled rows are NaN, not inf"
        )
    labeled = ~np.isnan(y_true)
    if labeled.sum() < 2:
        raise ValueError(
            f"a ranking metric needs at least 2 labeled rows (y_true not NaN), got "
            f"{int(labeled.sum())} of {len(y_true)}"
        )
    return y_true[labeled], y_pred[labeled]


def _resolve_k(k: Any, n_labeled: int) -> int:
    """Turn ``k`` (count or fraction of the labeled rows) into a count."""
    if isinstance(k, Integral) and not isinstance(k, bool):
        if not 1 <= k <= n_labeled:
            raise ValueError(f"k={k} must be between 1 and the number of labeled rows, {n_labeled}")
        return int(k)
    if isinstance(k, Real) and not isinstance(k, bool) and 0 < k <= 1:
        return max(1, math.ceil(k * n_labeled - 1e-9))
    raise ValueError(f"k must be an int count >= 1 or a float fraction in (0, 1], got {k!r}")


def _predicted_order(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """Rows from best to worst prediction; ties put the lower true value first."""
    return np.lexsort((y_true, -y_pred))


def _correlation(function, y_true: Any, y_pred: Any, name: str) -> float:
    y_true, y_pred = _check_targets(y_true, y_pred)
    if np.ptp(y_true) == 0 or np.ptp(y_pred) == 0:
        which = "y_true" if np.ptp(y_true) == 0 else "y_pred"
        warnings.warn(
            f"{name} is undefined when {which} is constant over the labeled rows; returning NaN",
            UndefinedMetricWarning,
            stacklevel=3,
        )
        return float("nan")
    return float(function(y_true, y_pred)[0])


def kendall_tau(y_true: Any, y_pred: Any) -> float:
    """Kendall rank correlation between true and predicted performance.

    Kendall's tau-b (:func:`scipy.stats.kendalltau`), which corrects for ties
    in either argument: 1 for the same order, -1 for the reverse order.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True performance; NaN marks unlabeled rows, which are ignored.
    y_pred : array-like of shape (n_samples,)
        Predicted performance; must be finite.

    Returns
    -------
    float
        NaN, with an :class:`~sklearn.exceptions.UndefinedMetricWarning`, when
        either argument is constant over the labeled rows.

    Raises
    ------
    ValueError
        On fewer than 2 labeled rows, non-finite predictions or a length mismatch.

    Examples
    --------
    >>> from skassess.metrics import kendall_tau
    >>> kendall_tau([0.9, 0.8, float("nan"), 0.7], [3.0, 1.0, 5.0, 2.0])
    0.333...
    """
    return _correlation(stats.kendalltau, y_true, y_pred, "kendall_tau")


def spearman_rho(y_true: Any, y_pred: Any) -> float:
    """Spearman rank correlation between true and predicted performance.

    :func:`scipy.stats.spearmanr`: the Pearson correlation of the ranks, tied
    values sharing their average rank.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True performance; NaN marks unlabeled rows, which are ignored.
    y_pred : array-like of shape (n_samples,)
        Predicted performance; must be finite.

    Returns
    -------
    float
        NaN, with an :class:`~sklearn.exceptions.UndefinedMetricWarning`, when
        either argument is constant over the labeled rows.

    Examples
    --------
    >>> from skassess.metrics import spearman_rho
    >>> spearman_rho([0.9, 0.8, 0.7], [3.0, 1.0, 2.0])
    0.5
    """
    return _correlation(stats.spearmanr, y_true, y_pred, "spearman_rho")


def precision_at_k(y_true: Any, y_pred: Any, k: int | float = 0.1) -> float:
    """Fraction of the truly best k architectures found among the predicted best k.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True performance, higher is better; NaN marks unlabeled rows, ignored.
    y_pred : array-like of shape (n_samples,)
        Predicted performance; must be finite.
    k : int or float, default=0.1
        An int is a count; a float in (0, 1] a fraction of the labeled rows,
        rounded up to at least one.

    Returns
    -------
    float
        In [0, 1], higher is better. An architecture tied in ``y_true`` with
        the k-th best counts as one of the true best k.

    Examples
    --------
    >>> from skassess.metrics import precision_at_k
    >>> y_true = [0.95, 0.90, 0.80, 0.70]
    >>> precision_at_k(y_true, [0.9, 0.1, 0.8, 0.2], k=2)
    0.5
    """
    y_true, y_pred = _check_targets(y_true, y_pred)
    k = _resolve_k(k, len(y_true))
    threshold = np.sort(y_true)[-k]  # k-th best true value
    chosen = _predicted_order(y_true, y_pred)[:k]
    return float(np.count_nonzero(y_true[chosen] >= threshold) / k)


def top_k_regret(y_true: Any, y_pred: Any, k: int | float = 0.1) -> float:
    """How much worse the best of the predicted top k is than the true best.

    The regret of picking, among the k architectures ranked best by the
    predictor, the truly best one: ``max(y_true) - max(y_true[predicted top k])``.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True performance, higher is better; NaN marks unlabeled rows, ignored.
    y_pred : array-like of shape (n_samples,)
        Predicted performance; must be finite.
    k : int or float, default=0.1
        An int is a count; a float in (0, 1] a fraction of the labeled rows,
        rounded up to at least one.

    Returns
    -------
    float
        Non-negative, in the units of ``y_true``; lower is better, 0 when the
        true best is among the predicted top k.

    Examples
    --------
    >>> from skassess.metrics import top_k_regret
    >>> top_k_regret([0.95, 0.90, 0.80], [0.1, 0.9, 0.5], k=1)
    0.05...
    """
    y_true, y_pred = _check_targets(y_true, y_pred)
    k = _resolve_k(k, len(y_true))
    chosen = _predicted_order(y_true, y_pred)[:k]
    return float(y_true.max() - y_true[chosen].max())


def n_at_k(y_true: Any, y_pred: Any, k: int | float = 0.1) -> int:
    """N@K: the best true rank among the k architectures predicted best.

    Ranks count from 1 for the truly best architecture; architectures tied in
    ``y_true`` share the best of their ranks (1 + the number of strictly better
    ones). From Ning et al., "Evaluating Efficient Performance Estimators of
    Neural Architectures" (NeurIPS 2021).

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True performance, higher is better; NaN marks unlabeled rows, ignored.
    y_pred : array-like of shape (n_samples,)
        Predicted performance; must be finite.
    k : int or float, default=0.1
        An int is a count; a float in (0, 1] a fraction of the labeled rows,
        rounded up to at least one.

    Returns
    -------
    int
        Between 1 and the number of labeled rows; lower is better.

    Examples
    --------
    >>> from skassess.metrics import n_at_k
    >>> n_at_k([0.95, 0.90, 0.80, 0.70], [0.1, 0.5, 0.9, 0.2], k=2)
    2
    """
    y_true, y_pred = _check_targets(y_true, y_pred)
    k = _resolve_k(k, len(y_true))
    chosen = _predicted_order(y_true, y_pred)[:k]
    return int(np.count_nonzero(y_true > y_true[chosen].max()) + 1)
