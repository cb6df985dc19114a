"""What every skassess performance predictor shares: ``score`` is how well it ranks.

A classifier's ``score`` is its accuracy and a regressor's is R^2: the default
that ``cross_val_score`` and ``GridSearchCV`` use when no ``scoring`` is given.
For a predictor of architecture performance the question is which
architectures to train, so skassess's predictors score by ranking: their
``score`` is Kendall's tau between the predictions and the true targets of
the labeled rows (:class:`RankingScoreMixin`). R^2 stays available as the
scorer ``skassess.metrics.get_scorer("r2")``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from skassess.metrics import kendall_tau
from skassess.utils.validation import labeled_predictions

__all__ = ["RankingScoreMixin"]


class RankingScoreMixin:
    """Mixin for performance predictors: ``score`` is Kendall's tau on the labeled rows.

    Put it before :class:`~sklearn.base.RegressorMixin` in the bases, so that
    its ``score`` is the one found: ``class Predictor(RankingScoreMixin,
    RegressorMixin, BaseEstimator)``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.base import BaseEstimator, RegressorMixin
    >>> from sklearn.dummy import DummyRegressor
    >>> class Echo(RankingScoreMixin, RegressorMixin, BaseEstimator):
    ...     def fit(self, X, y):
    ...         return self
    ...     def predict(self, X):
    ...         return np.asarray(X, dtype=float)[:, 0]
    >>> X = [[1.0], [2.0], [3.0], [4.0]]
    >>> Echo().fit(X, None).score(X, [0.1, 0.3, 0.2, np.nan])  # pairs 2 of 3 in order
    0.333...
    """

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """Kendall's tau between ``predict(X)`` and ``y``, over the rows whose ``y`` is not NaN.

        The ranking score of a performance predictor, as accuracy is a
        classifier's: 1 when the predictions order the labeled architectures
        exactly as their true values do, 0 for no relation, -1 for the reverse
        order (:func:`skassess.metrics.kendall_tau`). For R^2, use the scorer
        ``skassess.metrics.get_scorer("r2")``.

        Parameters
        ----------
        X : sequence of cells, or array-like of shape (n_samples, n_features)
            What ``predict`` takes.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            True targets, NaN for unlabeled rows (ignored). With several
            outputs, the score is the mean of their taus (as R^2 averages
            its outputs).
        sample_weight : None
            Kendall's tau counts each pair of architectures once; weights are
            refused.

        Returns
        -------
        float
            Kendall's tau-b, in [-1, 1]; 0.0 when the predictions are all
            equal, which orders no pair (where :func:`~skassess.metrics.kendall_tau`
            says NaN), so that a degenerate candidate of a grid search scores
            as chance rather than as NaN.

        Raises
        ------
        ValueError
            If ``sample_weight`` is given, or fewer than 2 rows are labeled.
        """
        if sample_weight is not None:
            raise ValueError(
                f"{type(self).__name__}.score is Kendall's tau, which counts every pair of "
                "architectures once and takes no sample_weight; for a weighted score use "
                "skassess.metrics.get_scorer('r2')"
            )
        y_true, y_pred, _ = labeled_predictions(self, X, y)
        if y_true.ndim == 1:
            return _tau(y_true, y_pred)
        y_pred = y_pred.reshape(y_true.shape)
        return float(np.mean([_tau(y_true[:, k], y_pred[:, k]) for k in range(y_true.shape[1])]))


def _tau(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Kendall's tau, 0.0 for constant (finite) predictions."""
    y_pred = np.asarray(y_pred, dtype=np.float64).ravel()
    if len(y_pred) >= 2 and np.isfinite(y_pred).all() and np.ptp(y_pred) == 0:
        return 0.0
    return kendall_tau(y_true, y_pred)
