"""Fit any regressor on the labeled rows only: supervised models under semi-supervised CV."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from sklearn.base import BaseEstimator, MetaEstimatorMixin, RegressorMixin, clone
from sklearn.utils import _safe_indexing, get_tags, indexable
from sklearn.utils._param_validation import HasMethods
from sklearn.utils.validation import _check_sample_weight, _num_samples, check_is_fitted

from skassess.base import RankingScoreMixin
from skassess.utils.tags import mark_uses_unlabeled
from skassess.utils.validation import labeled_mask


class LabeledOnly(MetaEstimatorMixin, RankingScoreMixin, RegressorMixin, BaseEstimator):
    """Fit a regressor on the labeled rows, ignoring rows whose target is NaN.

    Semi-supervised data marks unlabeled rows with ``y = NaN``, which supervised
    regressors reject. Wrapping one in ``LabeledOnly`` lets it take part in the
    same pipelines and cross-validation (:class:`~skassess.model_selection.SemiSupervisedKFold`)
    as the semi-supervised estimators: it is fitted on the labeled rows, and
    predicts every row. Put it last in a pipeline whose earlier steps should
    still see every row, such as an unsupervised embedding::

        make_pipeline(ArchitectureEmbedder(), LabeledOnly(KNeighborsRegressor()))

    Parameters
    ----------
    estimator : regressor
        Cloned and fitted on the labeled rows.

    Attributes
    ----------
    estimator_ : regressor
        The fitted clone.
    n_labeled_ : int
        Number of labeled rows it was fitted on.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LinearRegression
    >>> from skassess.baselines import LabeledOnly
    >>> X = [[0.0], [1.0], [2.0], [3.0]]
    >>> model = LabeledOnly(LinearRegression()).fit(X, [0.0, np.nan, 2.0, np.nan])
    >>> model.n_labeled_, model.predict([[1.0]])
    (2, array([1.]))
    """

    _parameter_constraints: ClassVar[dict] = {"estimator": [HasMethods(["fit", "predict"])]}

    def __init__(self, estimator: Any) -> None:
        self.estimator = estimator

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> LabeledOnly:
        """Fit a clone of ``estimator`` on the rows whose ``y`` is not NaN.

        Parameters
        ----------
        X : array-like or sequence of cells, of length n_samples
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Targets, NaN for unlabeled rows.
        sample_weight : array-like of shape (n_samples,), optional
            Passed on, restricted to the labeled rows.

        Returns
        -------
        self
        """
        self._validate_params()
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None "
                "(mark unlabeled rows with NaN)"
            )
        (X,) = indexable(X)  # sparse to CSR, array-likes to arrays; lists stay lists
        mask = labeled_mask(y)
        if _num_samples(X) != len(mask):
            raise ValueError(
                f"X and y have different numbers of rows: {_num_samples(X)} and {len(mask)}"
            )
        if not mask.any():
            raise ValueError(
                f"y has no labeled rows (all {len(mask)} are NaN); {type(self).__name__} "
                "fits its estimator on the labeled rows"
            )
        rows = np.flatnonzero(mask)
        y = np.asarray(y)
        fit_params = {}
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X)
            fit_params["sample_weight"] = sample_weight[rows]
        self.estimator_ = clone(self.estimator).fit(
            _safe_indexing(X, rows), _safe_indexing(y, rows), **fit_params
        )
        self.n_labeled_ = len(rows)
        return self

    def predict(self, X: Any) -> np.ndarray:
        """Predict with the fitted estimator.

        Parameters
        ----------
        X : array-like or sequence of cells

        Returns
        -------
        ndarray of shape (n_samples,) or (n_samples, n_outputs)
        """
        check_is_fitted(self)
        return self.estimator_.predict(X)

    @property
    def n_features_in_(self) -> int:
        """Number of features seen in fit, when the wrapped estimator has it."""
        return self.estimator_.n_features_in_

    @property
    def feature_names_in_(self) -> np.ndarray:
        """Feature names seen in fit, when the wrapped estimator has them."""
        return self.estimator_.feature_names_in_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        inner = get_tags(self.estimator)
        tags.input_tags = inner.input_tags
        tags.target_tags.required = True
        tags.target_tags.multi_output = inner.target_tags.multi_output
        tags.non_deterministic = inner.non_deterministic
        return mark_uses_unlabeled(tags)  # skips NaN rows: a pipeline's encoder sees them
