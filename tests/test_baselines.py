import subprocess
import sys
import warnings

import numpy as np
import pytest
from sklearn.ensemble import RandomForestRegressor
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LinearRegression
from sklearn.neighbors import NearestNeighbors
from sklearn.utils.estimator_checks import parametrize_with_checks

import skassess.baselines as baselines
from skassess import Cell
from skassess.baselines import (
    LabeledOnly,
    LabelPropagationRegressor,
    make_embedding_predictor,
    make_gradient_boosting_predictor,
    make_mlp_predictor,
    make_random_forest_predictor,
)
from skassess.encoders import AdjacencyOpsEncoder, PathEncoder
from skassess.metrics import kendall_tau
from skassess.utils.estimator_checks import parametrize_with_architecture_checks


def _nb101_sample(path, n, seed):
    with np.load(path) as data:
        rows = np.sort(np.random.default_rng(seed).choice(len(data["test_acc"]), n, replace=False))
        names = data["op_names"].astype(str)
        adjacency, ops, sizes = (
            data["adjacency"][rows],
            data["ops"][rows],
            data["num_vertices"][rows],
        )
        y = data["test_acc"][rows].astype(np.float64)
    cells = [
        Cell(a[:v, :v], list(names[o[:v]])) for a, o, v in zip(adjacency, ops, sizes, strict=True)
    ]
    return cells, y


@pytest.fixture(scope="module")
def sample(nb101_path):
    """400 real cells: the first 300 for training (half unlabeled), the rest for testing."""
    cells, y = _nb101_sample(nb101_path, 400, seed=0)
    y_train = y[:300].copy()
    y_train[::2] = np.nan
    return cells[:300], y_train, cells[300:], y[300:]


@pytest.fixture(scope="module")
def check_data(nb101_path):
    return _nb101_sample(nb101_path, 40, seed=1)


FACTORIES = {
    "random_forest": lambda: make_random_forest_predictor(n_estimators=50, random_state=0),
    "mlp": lambda: make_mlp_predictor(hidden_layer_sizes=(32, 32), max_iter=100, random_state=0),
    "gradient_boosting": lambda: make_gradient_boosting_predictor(max_iter=50, random_state=0),
    "label_propagation": lambda: make_embedding_predictor(PathEncoder(), n_neighbors=5),
    "knn": lambda: make_embedding_predictor(AdjacencyOpsEncoder(), method="knn"),
}


@pytest.mark.parametrize("name", FACTORIES)
def test_baselines_learn_from_partly_labeled_cells(name, sample):
    cells, y, test_cells, y_test = sample
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = FACTORIES[name]().fit(cells, y)
    prediction = model.predict(test_cells)
    assert prediction.shape == (len(test_cells),) and np.isfinite(prediction).all()
    assert kendall_tau(y_test, prediction) > 0.15  # well above a random ranking's 0 +- 0.07


@pytest.mark.parametrize("name", ["random_forest", "mlp", "gradient_boosting"])
def test_supervised_baselines_ignore_unlabeled_rows(name, sample):
    cells, y, test_cells, _ = sample
    labeled = np.flatnonzero(~np.isnan(y))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        with_unlabeled = FACTORIES[name]().fit(cells, y).predict(test_cells)
        labeled_only = FACTORIES[name]().fit([cells[i] for i in labeled], y[labeled])
    # the encoder learns the same vocabulary and sizes either way on NAS-Bench-101 samples
    # (the embedding pipelines differ: their scaler and embedder use every row, by design)
    np.testing.assert_allclose(with_unlabeled, labeled_only.predict(test_cells))


@pytest.mark.slow  # the first torch optimizer step imports torch's compiler stack (seconds)
def test_embedding_predictor_defaults_to_the_architecture_embedder(sample):
    from skassess import ArchitectureEmbedder

    cells, y, test_cells, _ = sample
    cells, y = cells[:60], y[:60]  # small: this test is about the wiring, not the quality
    model = make_embedding_predictor(random_state=0)
    embedder = model.named_steps["embed"]
    assert isinstance(embedder, ArchitectureEmbedder) and embedder.random_state == 0
    model.set_params(embed__max_iter=2, embed__hidden_layer_sizes=(8,), embed__embedding_dim=4)
    prediction = model.fit(cells, y).predict(test_cells)
    assert prediction.shape == (len(test_cells),) and np.isfinite(prediction).all()
    # the embedder was fitted on every cell, labeled or not
    assert model.named_steps["regress"].transduction_.shape == (len(cells),)


def test_factory_parameters():
    forest = make_random_forest_predictor(encoding="path", n_estimators=7, max_depth=3, n_jobs=2)
    assert isinstance(forest.named_steps["encode"], PathEncoder)
    regressor = forest.named_steps["regress"].estimator
    assert (regressor.n_estimators, regressor.max_depth, regressor.n_jobs) == (7, 3, 2)
    assert make_random_forest_predictor().named_steps["regress"].estimator.n_estimators == 300
    mlp = make_mlp_predictor().named_steps["regress"].estimator.regressor
    assert mlp.hidden_layer_sizes == (20,) * 10 and mlp.learning_rate_init == 0.01
    with pytest.raises(ValueError, match="encoding"):
        make_gradient_boosting_predictor(encoding="graph")
    with pytest.raises(ValueError, match="method"):
        make_embedding_predictor(PathEncoder(), method="gcn")


# -- LabeledOnly ----------------------------------------------------------------------


def test_labeled_only_fits_on_labeled_rows():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 3))
    y = X @ [1.0, 2.0, -1.0] + rng.normal(size=50)
    y_partial = y.copy()
    y_partial[rng.random(50) < 0.4] = np.nan
    labeled = ~np.isnan(y_partial)
    weights = rng.random(50)
    model = LabeledOnly(RandomForestRegressor(n_estimators=5, random_state=0))
    model.fit(X, y_partial, sample_weight=weights)
    reference = RandomForestRegressor(n_estimators=5, random_state=0)
    reference.fit(X[labeled], y[labeled], sample_weight=weights[labeled])
    np.testing.assert_array_equal(model.predict(X), reference.predict(X))
    assert model.n_labeled_ == labeled.sum() and model.n_features_in_ == 3
    expected = kendall_tau(y[labeled], reference.predict(X[labeled]))  # score ranks
    assert model.score(X, y_partial) == pytest.approx(expected)


def test_labeled_only_errors():
    X = np.zeros((4, 1))
    with pytest.raises(ValueError, match="no labeled rows"):
        LabeledOnly(LinearRegression()).fit(X, np.full(4, np.nan))
    with pytest.raises(ValueError, match="different numbers of rows"):
        LabeledOnly(LinearRegression()).fit(X, np.ones(3))
    with pytest.raises(ValueError, match="requires y"):
        LabeledOnly(LinearRegression()).fit(X, None)


def test_labeled_only_takes_the_input_tags_of_its_estimator():
    assert not LabeledOnly(AdjacencyOpsEncoder()).__sklearn_tags__().input_tags.two_d_array
    assert LabeledOnly(LinearRegression()).__sklearn_tags__().input_tags.two_d_array


# -- LabelPropagationRegressor ------------------------------------------------------


def test_label_propagation_by_hand():
    # three rows, each linked to both others: the unlabeled middle is the mean of its neighbours
    model = LabelPropagationRegressor(n_neighbors=2).fit([[0.0], [1.0], [2.0]], [0.0, np.nan, 4.0])
    np.testing.assert_allclose(model.transduction_, [0, 2, 4])
    np.testing.assert_array_equal(model.labeled_mask_, [True, False, True])
    # inductive: the mean over the two nearest training rows
    np.testing.assert_allclose(model.predict([[0.4], [1.9]]), [(0 + 2) / 2, (4 + 2) / 2])


def test_label_propagation_is_harmonic_on_the_knn_graph():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    y = X.sum(axis=1)
    y[rng.random(200) < 0.8] = np.nan
    model = LabelPropagationRegressor(n_neighbors=6, tol=1e-10).fit(X, y)
    graph = NearestNeighbors(n_neighbors=6).fit(X).kneighbors_graph(mode="connectivity")
    graph = graph.maximum(graph.T).toarray()
    labeled = ~np.isnan(y)
    np.testing.assert_array_equal(model.transduction_[labeled], y[labeled])
    neighbour_mean = graph @ model.transduction_ / graph.sum(axis=1)
    np.testing.assert_allclose(model.transduction_[~labeled], neighbour_mean[~labeled], atol=1e-6)
    assert model.n_iter_ >= 1


def test_labeled_only_checks_its_estimator():
    with pytest.raises(ValueError, match="The 'estimator' parameter of LabeledOnly must be"):
        LabeledOnly("forest").fit([[0.0], [1.0]], [0.0, 1.0])


def test_label_propagation_counts_at_least_one_iteration():
    # scikit-learn's convention for iterative estimators, also with nothing to propagate
    X = np.arange(6.0).reshape(-1, 1)
    assert LabelPropagationRegressor(n_neighbors=2).fit(X, X.ravel()).n_iter_ == 1


def test_label_propagation_uses_the_unlabeled_rows():
    # two clusters; the unlabeled rows bridge nothing, so each cluster keeps its label
    X = np.r_[np.zeros((5, 1)), np.full((5, 1), 10.0)] + np.arange(10).reshape(-1, 1) * 0.01
    y = np.full(10, np.nan)
    y[0], y[9] = 1.0, 5.0
    model = LabelPropagationRegressor(n_neighbors=3).fit(X, y)
    np.testing.assert_allclose(model.transduction_[:5], 1.0)
    np.testing.assert_allclose(model.transduction_[5:], 5.0)


def test_label_propagation_errors_and_warnings():
    X = np.arange(20.0).reshape(-1, 1)
    with pytest.raises(ValueError, match="no labeled rows"):
        LabelPropagationRegressor().fit(X, np.full(20, np.nan))
    y = np.full(20, np.nan)
    y[0], y[19] = 0.0, 1.0
    with pytest.warns(ConvergenceWarning, match="max_iter=1 "):
        LabelPropagationRegressor(n_neighbors=2, max_iter=1).fit(X, y)
    with pytest.raises(ValueError, match="n_neighbors"):
        LabelPropagationRegressor(n_neighbors=0).fit(X, y)


@parametrize_with_checks(
    [LabelPropagationRegressor(n_neighbors=3), LabeledOnly(LinearRegression())]
)
def test_sklearn_common_checks(estimator, check):
    check(estimator)


# -- cell-input checks on every baseline ----------------------------------------------


@parametrize_with_architecture_checks(
    [
        make_random_forest_predictor(n_estimators=10),
        make_mlp_predictor(hidden_layer_sizes=(8,), max_iter=20),
        make_gradient_boosting_predictor(encoding="path", max_iter=10),
        make_embedding_predictor(PathEncoder(), n_neighbors=3),
        make_embedding_predictor(AdjacencyOpsEncoder(), method="knn", n_neighbors=3),
    ]
)
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_architecture_checks(estimator, check, check_data):
    cells, y = check_data
    check(estimator, cells, y)


# -- the lazily exported NeuralPredictor ----------------------------------------------


def test_importing_baselines_does_not_import_torch():
    code = "import sys, skassess.baselines; assert 'torch' not in sys.modules; print('ok')"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "ok", result.stderr
    assert "NeuralPredictor" in baselines.__all__ and "NeuralPredictor" in dir(baselines)
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        baselines.Nope  # noqa: B018
