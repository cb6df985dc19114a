import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from sklearn.dummy import DummyRegressor
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.linear_model import LinearRegression
from sklearn.model_selection import cross_val_score

from skassess.metrics import (
    get_scorer,
    get_scorers,
    kendall_tau,
    n_at_k,
    precision_at_k,
    spearman_rho,
    top_k_regret,
)
from skassess.model_selection import SemiSupervisedKFold

TOP_K_METRICS = [precision_at_k, top_k_regret, n_at_k]
ALL_METRICS = [kendall_tau, spearman_rho, *TOP_K_METRICS]


# -- hand-computed values ------------------------------------------------------------


def test_kendall_tau_by_hand():
    # pairs of (1,2,3,4) vs (1,3,2,4): 5 concordant, 1 discordant -> 4/6
    assert kendall_tau([1, 2, 3, 4], [1, 3, 2, 4]) == pytest.approx(4 / 6)
    assert kendall_tau([1, 2, 3], [3, 2, 1]) == pytest.approx(-1)


def test_kendall_tau_is_tau_b_with_ties():
    y_true, y_pred = [1, 2, 2, 3], [1, 2, 3, 3]
    # concordant 4, discordant 0, ties only in x: 1, only in y: 1 -> 4 / sqrt(5 * 5)
    assert kendall_tau(y_true, y_pred) == pytest.approx(4 / 5)
    assert kendall_tau(y_true, y_pred) == pytest.approx(stats.kendalltau(y_true, y_pred)[0])


def test_spearman_rho_by_hand():
    # rank differences (0, 1, -1, 0): 1 - 6 * 2 / (4 * 15)
    assert spearman_rho([1, 2, 3, 4], [1, 3, 2, 4]) == pytest.approx(0.8)


def test_correlations_match_scipy_on_random_data():
    rng = np.random.default_rng(0)
    y_true, y_pred = rng.normal(size=50), rng.normal(size=50)
    assert kendall_tau(y_true, y_pred) == pytest.approx(stats.kendalltau(y_true, y_pred)[0])
    assert spearman_rho(y_true, y_pred) == pytest.approx(stats.spearmanr(y_true, y_pred)[0])


def test_precision_at_k_by_hand():
    y_true = [10, 9, 8, 7, 6, 5]
    y_pred = [6, 1, 5, 4, 3, 2]  # predicted top 2: rows 0 and 2; true top 2: rows 0 and 1
    assert precision_at_k(y_true, y_pred, k=2) == 0.5
    assert precision_at_k(y_true, y_pred, k=1) == 1.0
    assert precision_at_k(y_true, y_pred, k=6) == 1.0
    # a fraction: ceil(0.5 * 6) = 3, predicted top 3 = rows 0, 2, 3 -> rows 0, 2 in true top 3
    assert precision_at_k(y_true, y_pred, k=0.5) == pytest.approx(2 / 3)


def test_top_k_regret_by_hand():
    y_true = [0.95, 0.90, 0.80, 0.70]
    assert top_k_regret(y_true, [1, 4, 3, 2], k=1) == pytest.approx(0.05)
    assert top_k_regret(y_true, [1, 4, 3, 2], k=2) == pytest.approx(0.05)
    assert top_k_regret(y_true, [1, 4, 3, 2], k=4) == 0
    assert top_k_regret(y_true, [4, 3, 2, 1], k=1) == 0


def test_n_at_k_by_hand():
    y_true = [0.95, 0.90, 0.80, 0.70]
    assert n_at_k(y_true, [1, 2, 4, 3], k=1) == 3
    assert n_at_k(y_true, [1, 2, 4, 3], k=2) == 3
    assert n_at_k(y_true, [1, 2, 4, 3], k=3) == 2
    assert n_at_k(y_true, [4, 3, 2, 1], k=1) == 1


def test_n_at_k_tied_true_values_share_the_best_rank():
    assert n_at_k([5, 5, 1], [0, 1, 2], k=2) == 1  # predicted top 2: rows 2, 1; row 1 ties first


def test_tied_predictions_are_resolved_against_the_predictor():
    y_true = [4, 3, 2, 1]
    constant = [0, 0, 0, 0]
    assert precision_at_k(y_true, constant, k=1) == 0
    assert top_k_regret(y_true, constant, k=1) == 3
    assert n_at_k(y_true, constant, k=2) == 3


def test_top_k_metrics_do_not_depend_on_row_order():
    rng = np.random.default_rng(1)
    y_true = rng.integers(0, 5, 40).astype(float)
    y_pred = rng.integers(0, 5, 40).astype(float)  # many ties on both sides
    order = rng.permutation(40)
    for metric in TOP_K_METRICS:
        assert metric(y_true, y_pred, k=7) == metric(y_true[order], y_pred[order], k=7)


def test_perfect_prediction_scores_best():
    y = np.arange(20.0)
    assert precision_at_k(y, 2 * y, k=3) == 1
    assert top_k_regret(y, 2 * y, k=3) == 0
    assert n_at_k(y, 2 * y, k=3) == 1
    assert kendall_tau(y, 2 * y) == pytest.approx(1)


# -- NaN masking and errors ------------------------------------------------------------


@pytest.mark.parametrize("metric", ALL_METRICS)
def test_nan_true_rows_are_ignored(metric):
    rng = np.random.default_rng(2)
    y_true, y_pred = rng.normal(size=30), rng.normal(size=30)
    with_nan, padded_pred = (
        np.insert(y_true, [0, 10, 30], np.nan),
        np.insert(y_pred, [0, 10, 30], 9.0),
    )
    assert metric(with_nan, padded_pred) == pytest.approx(metric(y_true, y_pred))


@pytest.mark.parametrize("metric", ALL_METRICS)
def test_errors(metric):
    with pytest.raises(ValueError, match="at least 2 labeled rows"):
        metric([1.0, np.nan, np.nan], [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="different lengths"):
        metric([1.0, 2.0, 3.0], [1.0, 2.0])
    with pytest.raises(ValueError, match="non-finite"):
        metric([1.0, 2.0, 3.0], [1.0, np.nan, 3.0])
    with pytest.raises(ValueError, match="non-finite"):
        metric([1.0, 2.0, 3.0], [1.0, np.inf, 3.0])
    with pytest.raises(ValueError, match="infinite"):
        metric([1.0, np.inf, 3.0], [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="1-D"):
        metric(np.ones((3, 2)), np.ones((3, 2)))


@pytest.mark.parametrize("metric", TOP_K_METRICS)
@pytest.mark.parametrize("k", [0, 5, 0.0, 1.5, -0.1, True, "3"])
def test_invalid_k(metric, k):
    with pytest.raises(ValueError, match="k"):
        metric([1.0, 2.0, 3.0, 4.0], [1.0, 2.0, 3.0, 4.0], k=k)


@pytest.mark.parametrize("metric", [kendall_tau, spearman_rho])
def test_constant_prediction_is_undefined_correlation(metric):
    with pytest.warns(UndefinedMetricWarning, match="constant"):
        assert np.isnan(metric([1.0, 2.0, 3.0], [5.0, 5.0, 5.0]))


# -- scorers ------------------------------------------------------------------------


def test_scorers_call_predict_and_ignore_nan_rows():
    X = np.arange(6.0).reshape(-1, 1)
    model = LinearRegression().fit(X, np.arange(6.0))
    y = np.array([0.0, np.nan, 3.0, 2.0, np.nan, 5.0])
    labeled = ~np.isnan(y)
    predicted = model.predict(X[labeled])
    assert get_scorer("kendall_tau")(model, X, y) == pytest.approx(
        kendall_tau(y[labeled], predicted)
    )
    assert get_scorer("spearman_rho")(model, X, y) == pytest.approx(
        spearman_rho(y[labeled], predicted)
    )
    assert get_scorer("precision_at_k", k=2)(model, X, y) == precision_at_k(
        y, model.predict(X), k=2
    )


@pytest.mark.parametrize("name", ["neg_top_k_regret", "top_k_regret", "neg_n_at_k", "n_at_k"])
def test_loss_scorers_are_negated(name):
    X = np.arange(5.0).reshape(-1, 1)
    model = LinearRegression().fit(X, -np.arange(5.0))  # ranks backwards
    y = np.arange(5.0)
    metric = top_k_regret if "regret" in name else n_at_k
    value = get_scorer(name, k=1)(model, X, y)
    assert value == -metric(y, model.predict(X), k=1)
    assert value < 0


def test_get_scorer_errors():
    with pytest.raises(ValueError, match="unknown scorer"):
        get_scorer("accuracy")
    with pytest.raises(TypeError, match="takes no parameters"):
        get_scorer("kendall_tau", k=3)


def test_get_scorers_passes_k_to_top_k_scorers_only():
    scorers = get_scorers(["kendall_tau", "precision_at_k", "neg_n_at_k"], k=1)
    assert sorted(scorers) == ["kendall_tau", "neg_n_at_k", "precision_at_k"]
    X = np.arange(10.0).reshape(-1, 1)
    model = LinearRegression().fit(X, np.arange(10.0))
    y = np.r_[np.arange(9.0), -1.0]  # the predicted best is the true worst
    assert scorers["precision_at_k"](model, X, y) == 0
    assert scorers["neg_n_at_k"](model, X, y) == -10


def test_scorer_in_cross_val_score_with_semi_supervised_folds():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(60, 2))
    y = X[:, 0] + 0.1 * rng.normal(size=60)
    y[rng.random(60) < 0.5] = np.nan
    scores = cross_val_score(
        _labeled_linear(), X, y, cv=SemiSupervisedKFold(3), scoring=get_scorer("kendall_tau")
    )
    assert scores.shape == (3,) and (scores > 0.5).all()
    dummy = cross_val_score(
        _labeled_linear(DummyRegressor()),
        X,
        y,
        cv=SemiSupervisedKFold(3),
        scoring=get_scorer("precision_at_k", k=1),
    )
    assert (dummy == 0).all()  # a constant predictor gets the worst score


def _labeled_linear(estimator=None):
    from skassess.baselines import LabeledOnly

    return LabeledOnly(estimator or LinearRegression())


# -- properties -------------------------------------------------------------------------

finite = st.floats(-1e6, 1e6, allow_nan=False)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 5).map(float), finite), min_size=2, max_size=30))
def test_top_k_metric_ranges_and_monotonicity(pairs):
    y_true, y_pred = map(np.array, zip(*pairs, strict=True))
    n = len(y_true)
    previous_regret, previous_rank = np.inf, np.inf
    for k in range(1, n + 1):
        precision = precision_at_k(y_true, y_pred, k=k)
        regret = top_k_regret(y_true, y_pred, k=k)
        rank = n_at_k(y_true, y_pred, k=k)
        assert 0 <= precision <= 1 and regret >= 0 and 1 <= rank <= n
        assert regret <= previous_regret and rank <= previous_rank  # more picks never hurt
        assert (regret == 0) == (rank == 1)
        previous_regret, previous_rank = regret, rank
    assert precision_at_k(y_true, y_pred, k=n) == 1 and top_k_regret(y_true, y_pred, k=n) == 0


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(-1000, 1000), min_size=3, max_size=30, unique=True))
def test_correlations_of_a_monotone_transform_are_one(values):
    y = np.array(values, dtype=float)
    assert kendall_tau(y, y**3) == pytest.approx(1)
    assert spearman_rho(y, -y) == pytest.approx(-1)
