"""A skassess predictor's ``score`` ranks; R^2 stays a scorer; weights are taken or refused.

Issue 12, point 4.
"""

import numpy as np
import pytest
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.linear_model import LinearRegression
from sklearn.metrics import r2_score
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline

from skassess.assessor import (
    ArchitectureEmbedder,
    SemiSupervisedAssessor,
    TransductiveGCNRegressor,
)
from skassess.base import RankingScoreMixin
from skassess.baselines import LabeledOnly, LabelPropagationRegressor, NeuralPredictor
from skassess.metrics import get_scorer, kendall_tau
from skassess.model_selection import SemiSupervisedKFold
from skassess.spaces import NASBench101

PREDICTORS = [
    SemiSupervisedAssessor,
    TransductiveGCNRegressor,
    NeuralPredictor,
    LabelPropagationRegressor,
    LabeledOnly,
]


@pytest.fixture(scope="module")
def rows():
    """A target that a linear model ranks imperfectly; a third of it unlabeled."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 2))
    y = X[:, 0] + 0.5 * np.sin(3 * X[:, 1]) + 0.3 * rng.normal(size=60)
    y_partial = y.copy()
    y_partial[::3] = np.nan
    return X, y, y_partial


@pytest.mark.parametrize("cls", PREDICTORS, ids=lambda cls: cls.__name__)
def test_every_predictor_scores_by_ranking(cls):
    assert issubclass(cls, RankingScoreMixin)
    assert cls.score is RankingScoreMixin.score  # no score of its own shadows it


@pytest.mark.parametrize(
    "model",
    [
        LabeledOnly(LinearRegression()),
        LabelPropagationRegressor(n_neighbors=5),
        TransductiveGCNRegressor(
            n_neighbors=5, hidden_layer_sizes=(8,), max_iter=20, random_state=0
        ),
    ],
    ids=lambda model: type(model).__name__,
)
def test_score_is_kendall_tau_over_the_labeled_rows(model, rows):
    X, y, y_partial = rows
    model.fit(X, y_partial)
    labeled = ~np.isnan(y_partial)
    expected = kendall_tau(y[labeled], model.predict(X[labeled]))
    assert model.score(X, y_partial) == pytest.approx(expected)
    r2 = r2_score(y[labeled], model.predict(X[labeled]))
    assert model.score(X, y_partial) != pytest.approx(r2)


def test_cell_predictor_score_ranks_cells():
    cells = NASBench101().sample(40, random_state=0)
    y = np.array([cell.n_edges + 0.1 * cell.n_vertices for cell in cells])
    y[::4] = np.nan
    model = NeuralPredictor(embedding_dim=4, hidden_layer_sizes=(8,), max_iter=3, random_state=0)
    model.fit(cells, y)
    labeled = np.flatnonzero(~np.isnan(y))
    predicted = model.predict([cells[i] for i in labeled])
    assert model.score(cells, y) == pytest.approx(kendall_tau(y[labeled], predicted))


def test_cross_val_score_without_scoring_ranks(rows):
    X, _, y_partial = rows
    model = LabeledOnly(LinearRegression())
    cv = SemiSupervisedKFold(3)
    default = cross_val_score(model, X, y_partial, cv=cv)
    ranked = cross_val_score(model, X, y_partial, cv=cv, scoring=get_scorer("kendall_tau"))
    np.testing.assert_allclose(default, ranked)


def test_a_pipeline_ending_in_a_predictor_ranks(rows):
    cells = NASBench101().sample(30, random_state=0)
    y = np.array([float(cell.n_edges) for cell in cells])
    pipeline = make_pipeline(
        ArchitectureEmbedder(embedding_dim=4, hidden_layer_sizes=(8,), max_iter=2, random_state=0),
        LabeledOnly(LinearRegression()),
    ).fit(cells, y)
    assert pipeline.score(cells, y) == pytest.approx(kendall_tau(y, pipeline.predict(cells)))


def test_constant_predictions_score_zero_not_nan():
    class Constant(RankingScoreMixin, RegressorMixin, BaseEstimator):
        def fit(self, X, y):
            return self

        def predict(self, X):
            return np.full(len(X), 0.5)

    assert Constant().fit(None, None).score(np.zeros((4, 1)), [1.0, 2.0, np.nan, 3.0]) == 0.0


def test_multi_output_score_is_the_mean_of_the_taus(rows):
    X, y, _ = rows
    Y = np.column_stack([y, -(y**3)])
    model = LabeledOnly(LinearRegression()).fit(X, Y)
    predicted = model.predict(X)
    expected = np.mean([kendall_tau(Y[:, k], predicted[:, k]) for k in range(2)])
    assert model.score(X, Y) == pytest.approx(expected)


def test_score_refuses_sample_weight(rows):
    X, _, y_partial = rows
    model = LabeledOnly(LinearRegression()).fit(X, y_partial)
    with pytest.raises(ValueError, match=r"LabeledOnly.score is Kendall's tau.*get_scorer\('r2'\)"):
        model.score(X, y_partial, sample_weight=np.ones(len(X)))


def test_r2_stays_available_as_a_scorer_and_takes_weights(rows):
    X, y, y_partial = rows
    model = LabeledOnly(LinearRegression()).fit(X, y_partial)
    labeled = ~np.isnan(y_partial)
    weights = np.linspace(0.1, 1.0, len(X))
    r2 = get_scorer("r2")
    assert r2(model, X, y_partial) == pytest.approx(r2_score(y[labeled], model.predict(X[labeled])))
    assert r2(model, X, y_partial, sample_weight=weights) == pytest.approx(
        r2_score(y[labeled], model.predict(X[labeled]), sample_weight=weights[labeled])
    )
    scores = cross_val_score(model, X, y_partial, cv=SemiSupervisedKFold(3), scoring=r2)
    assert np.isfinite(scores).all()


@pytest.mark.parametrize(
    "name", ["kendall_tau", "spearman_rho", "precision_at_k", "neg_top_k_regret", "neg_n_at_k"]
)
def test_ranking_scorers_refuse_sample_weight_clearly(name, rows):
    X, _, y_partial = rows
    model = LabeledOnly(LinearRegression()).fit(X, y_partial)
    scorer = get_scorer(name)
    assert np.isfinite(scorer(model, X, y_partial))
    with pytest.raises(ValueError, match=f"the '{name}' scorer takes no sample_weight"):
        scorer(model, X, y_partial, sample_weight=np.ones(len(X)))
