"""Scorers for model selection with the ranking metrics."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any

from sklearn.metrics import make_scorer

from skassess.metrics._ranking import (
    kendall_tau,
    n_at_k,
    precision_at_k,
    spearman_rho,
    top_k_regret,
)
from skassess.utils.validation import labeled_r2_score

__all__ = ["get_scorer", "get_scorers", "SCORERS"]

# name -> (metric, greater_is_better). Losses are negated by their scorer, as
# scikit-learn's "neg_mean_squared_error" is; the bare names are aliases.
SCORERS = {
    "kendall_tau": (kendall_tau, True),
    "spearman_rho": (spearman_rho, True),
    "precision_at_k": (precision_at_k, True),
    "neg_top_k_regret": (top_k_regret, False),
    "neg_n_at_k": (n_at_k, False),
}
_ALIASES = {"top_k_regret": "neg_top_k_regret", "n_at_k": "neg_n_at_k"}
_TAKES_K = {"precision_at_k", "neg_top_k_regret", "neg_n_at_k"}
# Not a ranking metric: R^2 of the labeled rows, weighted if asked, for calibration.
_R2 = "r2"


def _without_weights(metric: Callable[..., Any], name: str) -> Callable[..., Any]:
    """``metric``, refusing ``sample_weight`` with a message rather than a TypeError inside."""

    @functools.wraps(metric)
    def unweighted(y_true: Any, y_pred: Any, *, sample_weight: Any = None, **kwargs: Any) -> Any:
        if sample_weight is not None:
            raise ValueError(
                f"the {name!r} scorer takes no sample_weight: a ranking metric counts every "
                "architecture once; for a weighted score use get_scorer('r2')"
            )
        return metric(y_true, y_pred, **kwargs)

    return unweighted


def get_scorer(name: str, **kwargs: Any):
    """A scikit-learn scorer for one of skassess's ranking metrics.

    The scorer calls ``estimator.predict(X)`` and compares with ``y``, ignoring
    rows whose ``y`` is NaN, so it works with any of scikit-learn's model
    selection tools (``cross_val_score``, ``GridSearchCV``, ...). The ranking
    scorers count every architecture once and refuse ``sample_weight`` with a
    ValueError; ``"r2"`` takes it.

    Parameters
    ----------
    name : str
        ``"kendall_tau"`` (what a skassess predictor's ``score`` returns),
        ``"spearman_rho"``, ``"precision_at_k"``, ``"neg_top_k_regret"`` or
        ``"neg_n_at_k"``; or ``"r2"``, the coefficient of determination over
        the labeled rows (:func:`skassess.utils.validation.labeled_r2_score`),
        which measures calibration rather than ranking. Greater is better for
        every scorer: ``neg_top_k_regret`` and ``neg_n_at_k`` return the negated
        regret and N@K (the names ``"top_k_regret"`` and ``"n_at_k"`` are
        accepted as aliases and are negated too).
    **kwargs
        Passed to the metric; ``k`` for the top-k metrics.

    Returns
    -------
    scorer : callable ``scorer(estimator, X, y) -> float``

    Examples
    --------
    >>> from sklearn.linear_model import LinearRegression
    >>> from skassess.metrics import get_scorer
    >>> model = LinearRegression().fit([[0], [1], [2]], [0.0, 1.0, 2.0])
    >>> get_scorer("kendall_tau")(model, [[0], [1], [2], [3]], [0.0, 2.0, 1.0, float("nan")])
    0.333...
    >>> get_scorer("neg_n_at_k", k=1)(model, [[0], [1], [2]], [0.0, 2.0, 1.0])
    -2
    """
    key = _ALIASES.get(name, name)
    if key not in SCORERS and key != _R2:
        raise ValueError(
            f"unknown scorer {name!r}; skassess scorers are {sorted([*SCORERS, _R2])} (for "
            "scikit-learn's own, use sklearn.metrics.get_scorer)"
        )
    if kwargs and (set(kwargs) != {"k"} or key not in _TAKES_K):
        raise TypeError(f"scorer {name!r} takes no parameters {sorted(kwargs)}")
    if key == _R2:
        return labeled_r2_score
    metric, greater_is_better = SCORERS[key]
    return make_scorer(_without_weights(metric, key), greater_is_better=greater_is_better, **kwargs)


def get_scorers(names: Iterable[str], **kwargs: Any) -> dict[str, Any]:
    """Several scorers at once, for multi-metric evaluation.

    Parameters
    ----------
    names : iterable of str
        Scorer names, see :func:`get_scorer`.
    **kwargs
        ``k``, passed to the scorers of top-k metrics only.

    Returns
    -------
    dict of str to scorer
        Ready for ``cross_validate(..., scoring=...)`` or
        ``GridSearchCV(..., scoring=..., refit=name)``.

    Examples
    --------
    >>> from skassess.metrics import get_scorers
    >>> sorted(get_scorers(["kendall_tau", "precision_at_k"], k=0.05))
    ['kendall_tau', 'precision_at_k']
    """
    scorers = {}
    for name in names:
        takes_k = _ALIASES.get(name, name) in _TAKES_K
        scorers[name] = get_scorer(name, **(kwargs if takes_k else {}))
    return scorers
