"""The architecture checks pass a correct estimator and catch each kind of defect."""

import numpy as np
import pytest
from sklearn.base import BaseEstimator, RegressorMixin, TransformerMixin
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from skassess import Cell, as_cells
from skassess.encoders import AdjacencyOpsEncoder
from skassess.utils import estimator_checks
from skassess.utils.estimator_checks import (
    architecture_checks,
    check_architecture_estimator,
    parametrize_with_architecture_checks,
)

CELLS = [
    Cell(
        [[0, 1, a, b], [0, 0, 1, c], [0, 0, 0, 1], [0, 0, 0, 0]],
        ["input", op, "conv", "output"],
    )
    for a in (0, 1)
    for b in (0, 1)
    for c in (0, 1)
    for op in ("conv", "pool")
]  # 16 distinct cells
Y = np.linspace(0.5, 0.9, len(CELLS))


def _features(cells):
    return np.array([[cell.n_edges, cell.ops.count("pool"), 1.0] for cell in cells])


class GoodRegressor(RegressorMixin, BaseEstimator):
    """Least squares on two cell features, plus a seeded jitter; NaN targets ignored."""

    def __init__(self, jitter=0.01, random_state=None):
        self.jitter = jitter
        self.random_state = random_state

    def fit(self, X, y):
        cells = as_cells(X)
        if not cells:
            raise ValueError("no cells")
        y = np.asarray(y, dtype=float)
        if len(y) != len(cells):
            raise ValueError("X and y lengths differ")
        labeled = ~np.isnan(y)
        if not labeled.any():
            raise ValueError("y is all NaN")
        features = _features(cells)[labeled]
        self.coef_ = np.linalg.lstsq(features, y[labeled], rcond=None)[0]
        self.coef_ = self.coef_ + self.jitter * check_random_state(self.random_state).normal(size=3)
        return self

    def predict(self, X):
        check_is_fitted(self)
        cells = as_cells(X)
        if not cells:
            raise ValueError("no cells")
        return _features(cells) @ self.coef_

    def score(self, X, y):
        y = np.asarray(y, dtype=float)
        rows = np.flatnonzero(~np.isnan(y))
        return -np.mean((self.predict([X[i] for i in rows]) - y[rows]) ** 2)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        return tags


class ReturnsNone(GoodRegressor):
    def fit(self, X, y):
        super().fit(X, y)


class UsesGlobalRNG(GoodRegressor):
    def fit(self, X, y):
        super().fit(X, y)
        self.coef_ = self.coef_ + np.random.normal(size=3)  # noqa: NPY002
        return self


class BatchDependent(GoodRegressor):
    def predict(self, X):
        prediction = super().predict(X)
        return prediction - 0.1 * prediction.mean()


class PositionDependent(GoodRegressor):
    def predict(self, X):
        prediction = super().predict(X)
        return prediction + 1e-3 * np.arange(len(prediction))


class NoInputValidation(GoodRegressor):
    def predict(self, X):
        check_is_fitted(self)
        return np.zeros(len(X))


class RejectsNaN(GoodRegressor):
    def fit(self, X, y):
        if np.isnan(np.asarray(y, dtype=float)).any():
            raise ValueError("NaN in y")
        return super().fit(X, y)


class AcceptsAllNaN(GoodRegressor):
    def fit(self, X, y):
        y = np.asarray(y, dtype=float)
        return super().fit(X, np.where(np.isnan(y), 0.0, y))


class ChangesParams(GoodRegressor):
    def fit(self, X, y):
        self.jitter = self.jitter / 2
        return super().fit(X, y)


class FillsNaNInPlace(GoodRegressor):
    def fit(self, X, y):
        y[np.isnan(y)] = 0.0
        return super().fit(X, y)


class NotReallyFitted(GoodRegressor):
    def predict(self, X):
        return _features(as_cells(X)) @ self.coef_


class DriftsOnRefit(GoodRegressor):
    def fit(self, X, y):
        super().fit(X, y)
        self.n_fits_ = getattr(self, "n_fits_", 0) + 1
        self.coef_ = self.coef_ * self.n_fits_
        return self


class UnpicklableModel(GoodRegressor):
    def fit(self, X, y):
        super().fit(X, y)
        self.link_ = lambda v: v
        return self


class ScoreKeepsNaN(GoodRegressor):
    def score(self, X, y):
        return RegressorMixin.score(self, X, y)


class SetsAttributeInInit(GoodRegressor):
    def __init__(self, jitter=0.01, random_state=None):
        self.jitter = jitter
        self.random_state = random_state
        self.n_fits_ = 0


class InconsistentTransformer(TransformerMixin, BaseEstimator):
    def fit(self, X, y=None):
        self.scale_ = 1.0
        return self

    def transform(self, X):
        check_is_fitted(self)
        cells = as_cells(X)
        if not cells:
            raise ValueError("no cells")
        return _features(cells) * self.scale_

    def fit_transform(self, X, y=None):
        return 2 * self.fit(X).transform(X)


@pytest.mark.parametrize("estimator", [GoodRegressor(), AdjacencyOpsEncoder()], ids=repr)
def test_correct_estimators_pass(estimator):
    ran = check_architecture_estimator(estimator, CELLS, Y)
    assert "check_subset_invariance" in ran and "check_no_attributes_set_in_init" in ran
    assert ("check_regressor_nan_targets" in ran) == isinstance(estimator, GoodRegressor)
    assert ("check_transform_equals_fit_transform" in ran) == hasattr(estimator, "transform")


@pytest.mark.parametrize(
    ("estimator", "check_name"),
    [
        (ReturnsNone(), "check_fit_returns_self"),
        (UsesGlobalRNG(), "check_global_random_state_untouched"),
        (UsesGlobalRNG(), "check_random_state_reproducible"),
        (BatchDependent(), "check_subset_invariance"),
        (PositionDependent(), "check_order_invariance"),
        (NoInputValidation(), "check_single_cell_rejected"),
        (NoInputValidation(), "check_invalid_input_rejected"),
        (NoInputValidation(), "check_empty_input"),
        (RejectsNaN(), "check_regressor_nan_targets"),
        (AcceptsAllNaN(), "check_regressor_nan_targets"),
        (ChangesParams(), "check_fit_does_not_change_params"),
        (FillsNaNInPlace(), "check_fit_does_not_modify_input"),
        (NotReallyFitted(), "check_unfitted"),
        (DriftsOnRefit(), "check_fit_idempotent"),
        (UnpicklableModel(), "check_pickle_roundtrip"),
        (ScoreKeepsNaN(), "check_regressor_score_ignores_nan"),
        (SetsAttributeInInit(), "check_no_attributes_set_in_init"),
        (InconsistentTransformer(), "check_transform_equals_fit_transform"),
    ],
    ids=lambda value: value if isinstance(value, str) else type(value).__name__,
)
def test_each_defect_is_caught(estimator, check_name):
    checks = dict(architecture_checks(estimator))
    with pytest.raises(Exception):  # noqa: B017 (AssertionError, or the estimator's own error)
        checks[check_name](estimator, CELLS, Y)
    # and the same check passes on the correct estimator
    good = AdjacencyOpsEncoder() if isinstance(estimator, TransformerMixin) else GoodRegressor()
    dict(architecture_checks(good))[check_name](good, CELLS, Y)


def test_check_architecture_estimator_names_the_failing_check():
    with pytest.raises(AssertionError) as info:
        check_architecture_estimator(BatchDependent(), CELLS, Y)
    assert any("check_subset_invariance" in note for note in info.value.__notes__)


def test_expected_failed_checks_are_skipped():
    ran = check_architecture_estimator(
        BatchDependent(), CELLS, Y, expected_failed_checks={"check_subset_invariance": "batch norm"}
    )
    assert "check_subset_invariance" not in ran and "check_order_invariance" in ran


def test_checks_leave_the_estimator_unfitted_and_unchanged():
    estimator = GoodRegressor(random_state=None)
    check_architecture_estimator(estimator, CELLS, Y)
    assert estimator.random_state is None and not hasattr(estimator, "coef_")


def test_default_toy_target_and_input_errors():
    assert check_architecture_estimator(GoodRegressor(), CELLS)  # y made from the cells
    with pytest.raises(ValueError, match="at least 8 cells"):
        check_architecture_estimator(GoodRegressor(), CELLS[:3])
    with pytest.raises(ValueError, match="labeled targets"):
        check_architecture_estimator(GoodRegressor(), CELLS, np.full(len(CELLS), np.nan))


def test_parametrize_marks_expected_failures():
    decorator = parametrize_with_architecture_checks(
        [GoodRegressor(), AdjacencyOpsEncoder()],
        expected_failed_checks=lambda est: (
            {"check_output": "reason"} if isinstance(est, GoodRegressor) else {}
        ),
    )
    argnames, params = decorator.args
    assert argnames == "estimator, check"
    ids = [param.id for param in params]
    assert "GoodRegressor()-check_output" in ids and "AdjacencyOpsEncoder()-check_output" in ids
    marked = {param.id for param in params if param.marks}
    assert marked == {"GoodRegressor()-check_output"}


@parametrize_with_architecture_checks([GoodRegressor(jitter=0.0)])
def test_parametrize_runs_as_pytest_cases(estimator, check):
    check(estimator, CELLS, Y)


def test_every_check_has_a_docstring():
    for name, check in architecture_checks(GoodRegressor()):
        assert check.__doc__, name
    assert estimator_checks.__all__ == [
        "architecture_checks",
        "check_architecture_estimator",
        "parametrize_with_architecture_checks",
    ]
