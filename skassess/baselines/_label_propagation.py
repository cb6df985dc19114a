"""Label propagation for regression: the harmonic solution on a kNN graph."""

from __future__ import annotations

import warnings
from numbers import Integral, Real
from typing import Any, ClassVar

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import connected_components
from scipy.sparse.linalg import cg
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.neighbors import NearestNeighbors
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import (
    check_consistent_length,
    check_is_fitted,
    column_or_1d,
    validate_data,
)

from skassess.base import RankingScoreMixin
from skassess.utils.tags import mark_uses_unlabeled
from skassess.utils.validation import labeled_mask


class LabelPropagationRegressor(RankingScoreMixin, RegressorMixin, BaseEstimator):
    """Semi-supervised regression by label propagation over a kNN graph.

    The harmonic-function method of Zhu, Ghahramani and Lafferty
    ("Semi-Supervised Learning Using Gaussian Fields and Harmonic Functions",
    ICML 2003), the regression counterpart of
    :class:`sklearn.semi_supervised.LabelPropagation`: every row, labeled or
    not, is linked to its ``n_neighbors`` nearest neighbours (the graph made
    symmetric), and the unlabeled rows get the values that make each of them
    the mean of its neighbours while the labeled rows keep their targets. The
    sparse linear system this defines is solved by conjugate gradients.
    Unlabeled targets are ``np.nan``; unlabeled rows in a connected component
    without any label get the mean label.

    Like ``LabelSpreading``, the values of the training rows are stored in
    ``transduction_``. ``predict`` on new rows is inductive and
    row-independent: the mean of ``transduction_`` over the row's
    ``n_neighbors`` nearest training rows.

    Parameters
    ----------
    n_neighbors : int, default=10
        Neighbours of each row in the graph and at prediction.
    max_iter : int, default=1000
        Maximum number of conjugate-gradient iterations.
    tol : float, default=1e-5
        Relative residual at which the solver stops.

    Attributes
    ----------
    transduction_ : ndarray of shape (n_samples,)
        Value of every training row: its label, or the propagated value.
    labeled_mask_ : ndarray of bool, shape (n_samples,)
        Which training rows were labeled.
    n_iter_ : int
        Conjugate-gradient iterations run, at least 1 (scikit-learn's convention
        for iterative estimators): 1 also when there was nothing to solve, every
        row being labeled or out of reach of any label.
    n_features_in_ : int
        Number of features seen in fit.

    Examples
    --------
    >>> import numpy as np
    >>> from skassess.baselines import LabelPropagationRegressor
    >>> X = np.array([[0.0], [1.0], [2.0]])
    >>> model = LabelPropagationRegressor(n_neighbors=2).fit(X, [0.0, np.nan, 4.0])
    >>> model.transduction_
    array([0., 2., 4.])
    """

    _parameter_constraints: ClassVar[dict] = {
        "n_neighbors": [Interval(Integral, 1, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
    }

    def __init__(self, n_neighbors: int = 10, *, max_iter: int = 1000, tol: float = 1e-5) -> None:
        self.n_neighbors = n_neighbors
        self.max_iter = max_iter
        self.tol = tol

    def fit(self, X: Any, y: Any) -> LabelPropagationRegressor:
        """Build the kNN graph over all rows and propagate the labels.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            Targets, NaN for unlabeled rows.

        Returns
        -------
        self
        """
        self._validate_params()
        X, y = validate_data(
            self,
            X,
            y,
            validate_separately=(
                {"dtype": np.float64},
                {"ensure_2d": False, "ensure_all_finite": "allow-nan", "dtype": np.float64},
            ),
        )
        check_consistent_length(X, y)
        y = column_or_1d(y, warn=True)
        labeled = labeled_mask(y)
        if not labeled.any():
            raise ValueError(f"y has no labeled rows: all {len(y)} are NaN")
        self._neighbors = NearestNeighbors(n_neighbors=min(self.n_neighbors, len(X))).fit(X)
        self.n_iter_ = 0
        values = np.where(labeled, y, y[labeled].mean())
        if len(X) > 1 and not labeled.all():
            graph = NearestNeighbors(n_neighbors=min(self.n_neighbors, len(X) - 1)).fit(X)
            weights = graph.kneighbors_graph(mode="connectivity")
            values = self._propagate(weights.maximum(weights.T).tocsr(), values, labeled)
        self.n_iter_ = max(self.n_iter_, 1)
        self.transduction_ = values
        self.labeled_mask_ = labeled
        return self

    def _propagate(
        self, weights: sparse.csr_matrix, values: np.ndarray, labeled: np.ndarray
    ) -> np.ndarray:
        """Solve (D - W)_uu f_u = W_ul y_l for the unlabeled rows reachable from a label."""
        _, component = connected_components(weights, directed=False)
        reached = np.isin(component, component[labeled])
        unknown = np.flatnonzero(~labeled & reached)
        if not len(unknown):
            return values
        known = np.flatnonzero(labeled)
        degree = np.asarray(weights.sum(axis=1)).ravel()[unknown]
        rows = weights[unknown]
        system = sparse.diags(degree) - rows[:, unknown]
        right = rows[:, known] @ values[known]

        def count(_: np.ndarray) -> None:
            self.n_iter_ += 1

        solution, info = cg(
            system,
            right,
            x0=values[unknown],
            rtol=self.tol,
            maxiter=self.max_iter,
            M=sparse.diags(1 / degree),
            callback=count,
        )
        if info > 0:
            warnings.warn(
                f"label propagation did not converge in max_iter={self.max_iter} iterations",
                ConvergenceWarning,
                stacklevel=3,
            )
        values = values.copy()
        values[unknown] = solution
        return values

    def predict(self, X: Any) -> np.ndarray:
        """Mean propagated value of each row's nearest training rows.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.float64)
        neighbours = self._neighbors.kneighbors(X, return_distance=False)
        return self.transduction_[neighbours].mean(axis=1)

    def __sklearn_tags__(self):
        return mark_uses_unlabeled(super().__sklearn_tags__())
