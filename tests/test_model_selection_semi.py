"""Semi-supervised model selection helpers keep the unlabeled pool whole (issue 12, point 5)."""

import numpy as np
import pytest
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.ensemble import StackingRegressor
from sklearn.linear_model import LinearRegression, RidgeCV
from sklearn.model_selection import KFold
from sklearn.pipeline import make_pipeline

from skassess.base import RankingScoreMixin
from skassess.baselines import LabeledOnly, LabelPropagationRegressor
from skassess.encoders import AdjacencyOpsEncoder
from skassess.metrics import get_scorer
from skassess.model_selection import (
    SemiSupervisedKFold,
    cross_val_predict,
    learning_curve,
    permutation_test_score,
)
from skassess.spaces import NASBench101

FITS = []  # what each fit of Recorder saw: (row ids, targets)


class Recorder(RankingScoreMixin, RegressorMixin, BaseEstimator):
    """A line through the labeled rows of column 1; column 0 is the row's id."""

    def fit(self, X, y):
        X, y = np.asarray(X, dtype=float), np.asarray(y, dtype=float)
        FITS.append((X[:, 0].astype(int), y.copy()))
        labeled = ~np.isnan(y)
        self.coef_ = np.polyfit(X[labeled, 1], y[labeled], 1)
        return self

    def predict(self, X):
        return np.polyval(self.coef_, np.asarray(X, dtype=float)[:, 1])


@pytest.fixture
def data():
    """40 rows, 16 of them labeled; the target is noisy in column 1."""
    FITS.clear()
    rng = np.random.default_rng(0)
    feature = rng.normal(size=40)
    X = np.column_stack([np.arange(40), feature])
    y = np.full(40, np.nan)
    labeled = np.sort(rng.choice(40, size=16, replace=False))
    y[labeled] = 2 * feature[labeled] + 0.5 * rng.normal(size=16)
    return X, y, labeled


# -- cross_val_predict ----------------------------------------------------------------------


def test_cross_val_predict_predicts_the_labeled_rows_out_of_fold(data):
    X, y, labeled = data
    predicted = cross_val_predict(Recorder(), X, y, cv=4)
    unlabeled = np.setdiff1d(np.arange(40), labeled)
    assert np.isnan(predicted[unlabeled]).all()
    assert np.isfinite(predicted[labeled]).all()
    assert len(FITS) == 4
    fits = list(FITS)  # the reference fits below record themselves too
    for (train, _), (_, test) in zip(fits, SemiSupervisedKFold(4).split(X, y), strict=True):
        assert np.isin(unlabeled, train).all()  # every unlabeled row in every fit
        assert not np.isin(test, train).any()
        reference = Recorder().fit(X[train], y[train])
        np.testing.assert_allclose(predicted[test], reference.predict(X[test]))


def test_cross_val_predict_refuses_folds_that_test_unlabeled_rows(data):
    X, y, _ = data
    with pytest.raises(ValueError, match=r"tests unlabeled row \d+"):
        cross_val_predict(Recorder(), X, y, cv=KFold(4))


def test_cross_val_predict_needs_each_labeled_row_tested_once(data):
    X, y, labeled = data
    half = [(np.setdiff1d(np.arange(40), labeled[:8]), labeled[:8])]
    with pytest.raises(ValueError, match="exactly once"):
        cross_val_predict(Recorder(), X, y, cv=half)


def test_cross_val_predict_with_several_targets():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(30, 2))
    Y = np.column_stack([X[:, 0], X[:, 1]])
    Y[:10] = np.nan
    predicted = cross_val_predict(LabeledOnly(LinearRegression()), X, Y, cv=3)
    assert predicted.shape == (30, 2)
    assert np.isnan(predicted[:10]).all()
    np.testing.assert_allclose(predicted[10:], Y[10:], atol=1e-8)


# -- learning_curve -----------------------------------------------------------------------


def test_learning_curve_counts_labels_and_keeps_the_pool_whole(data):
    X, y, _ = data
    sizes, train_scores, test_scores = learning_curve(
        Recorder(), X, y, train_sizes=[3, 6, 12], cv=4
    )
    assert sizes.tolist() == [3, 6, 12]
    assert train_scores.shape == test_scores.shape == (3, 4)
    folds = list(SemiSupervisedKFold(4).split(X, y))
    assert len(FITS) == 12
    for k, (rows, target) in enumerate(FITS):
        size, split = divmod(k, 4)
        train, _ = folds[split]
        np.testing.assert_array_equal(rows, train)  # the whole training pool, every time
        assert (~np.isnan(target)).sum() == sizes[size]  # holding that many labels
    # nested: the labels kept for 3 are among those kept for 6
    kept = [set(FITS[k][0][~np.isnan(FITS[k][1])]) for k in (0, 4)]
    assert kept[0] < kept[1]


def test_learning_curve_fractions_are_of_the_labeled_training_rows(data):
    X, y, _ = data
    sizes, _, _ = learning_curve(Recorder(), X, y, train_sizes=[0.25, 1.0], cv=4)
    assert sizes.tolist() == [3, 12]  # 12 labeled training rows in each of 4 folds of 16


def test_learning_curve_refuses_more_labels_than_there_are(data):
    X, y, _ = data
    with pytest.raises(ValueError, match="between 1 and 12 labels"):
        learning_curve(Recorder(), X, y, train_sizes=[13], cv=4)


def test_learning_curve_shuffles_which_labels_are_kept(data):
    X, y, _ = data
    learning_curve(Recorder(), X, y, train_sizes=[4], cv=2, shuffle=True, random_state=0)
    first = [set(rows[~np.isnan(target)]) for rows, target in FITS]
    FITS.clear()
    learning_curve(Recorder(), X, y, train_sizes=[4], cv=2, shuffle=True, random_state=1)
    second = [set(rows[~np.isnan(target)]) for rows, target in FITS]
    assert first != second


# -- permutation_test_score -----------------------------------------------------------------


def test_permutation_test_shuffles_targets_among_labeled_rows_only(data):
    X, y, labeled = data
    score, permuted, pvalue = permutation_test_score(
        Recorder(), X, y, cv=4, n_permutations=9, random_state=0
    )
    assert permuted.shape == (9,)
    assert len(FITS) == 4 * 10
    labels = np.sort(y[labeled])
    for rows, target in FITS:
        known = ~np.isnan(target)
        assert set(rows[known]) <= set(labeled)  # the unlabeled rows stay unlabeled
        assert np.isin(target[known], labels).all()  # only labeled targets move
    assert score > permuted.max() and pvalue == pytest.approx(0.1)


# -- splitters under meta-estimators --------------------------------------------------------


def test_kfold_ignores_a_random_state_set_without_shuffle(data):
    X, y, _ = data
    cv = SemiSupervisedKFold(4)
    cv.random_state = np.random.RandomState(0)  # what StackingRegressor does
    expected = list(SemiSupervisedKFold(4).split(X, y))
    for (train, test), (train_ref, test_ref) in zip(cv.split(X, y), expected, strict=True):
        np.testing.assert_array_equal(train, train_ref)
        np.testing.assert_array_equal(test, test_ref)


def test_stacking_recipe_of_the_guide():
    cells = NASBench101().sample(45, random_state=0)
    y = np.array([cell.n_edges + 0.3 * cell.n_vertices for cell in cells])
    y[::3] = np.nan
    space = NASBench101()
    stack = StackingRegressor(
        [
            ("ridge", make_pipeline(AdjacencyOpsEncoder(space=space), LabeledOnly(RidgeCV()))),
            (
                "propagation",
                make_pipeline(AdjacencyOpsEncoder(space=space), LabelPropagationRegressor()),
            ),
        ],
        final_estimator=LabeledOnly(RidgeCV()),
        cv=KFold(3, shuffle=True, random_state=0),
    ).fit(cells, y)
    assert np.isfinite(stack.predict(cells)).all()
    assert get_scorer("kendall_tau")(stack, cells, y) > 0.5
