"""TransductiveGCNRegressor: scikit-learn's common checks and skassess's own contract."""

import pickle

import joblib
import numpy as np
import pytest
import torch
from scipy.stats import kendalltau
from sklearn.base import clone
from sklearn.metrics import r2_score
from sklearn.utils.estimator_checks import parametrize_with_checks

from skassess.assessor import TransductiveGCNRegressor
from skassess.neighbors import recall


def _small(**params):
    """A tiny, quick configuration (the common checks fit it many times)."""
    defaults = dict(n_neighbors=5, hidden_layer_sizes=(16,), max_iter=60, random_state=0)
    return TransductiveGCNRegressor(**{**defaults, **params})


@parametrize_with_checks(
    [
        _small(),
        _small(loss="mse", kernel_width=1.0),
        _small(loss="pairwise_hinge", early_stopping=True, n_iter_no_change=30),
    ]
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


@pytest.fixture
def problem():
    """A smooth target on 2-D rows; the last 60 of 100 rows are unlabeled."""
    rng = np.random.RandomState(0)
    X = rng.uniform(-1, 1, size=(100, 2))
    y = np.sin(2 * X[:, 0]) + X[:, 1]
    y_semi = y.copy()
    y_semi[40:] = np.nan
    return X, y, y_semi


def test_unlabeled_rows_are_graph_nodes_without_loss(problem):
    X, y, y_semi = problem
    model = _small().fit(X, y_semi)
    assert model.graph_.indices_.shape == (100, 5)
    assert model.transduction_.shape == (100,)
    np.testing.assert_array_equal(model.labeled_mask_, ~np.isnan(y_semi))
    assert r2_score(y[40:], model.transduction_[40:]) > 0.8
    assert model.n_features_in_ == 2


def test_unlabeled_rows_change_the_fit(problem):
    X, _, y_semi = problem
    with_pool = _small().fit(X, y_semi)
    labeled_only = _small().fit(X[:40], y_semi[:40])
    assert not np.allclose(with_pool.predict(X[:40]), labeled_only.predict(X[:40]))


@pytest.mark.parametrize(
    ("y_change", "match"),
    [
        (lambda y: np.full_like(y, np.nan), "no labeled samples"),
        (lambda y: np.where(np.arange(len(y)) == 3, np.inf, y), "infinity"),
        (lambda y: np.c_[y, y], "1d array"),
    ],
)
def test_bad_targets_are_rejected(problem, y_change, match):
    X, y, _ = problem
    with pytest.raises(ValueError, match=match):
        _small().fit(X, y_change(y))


def test_pairwise_losses_need_two_different_labels(problem):
    X, y, _ = problem
    one_label = np.full_like(y, np.nan)
    one_label[0] = 1.0
    with pytest.raises(ValueError, match="needs at least 2 labeled samples, but y has 1 sample"):
        _small(loss="pairwise_logistic").fit(X, one_label)
    tied = np.where(np.arange(len(y)) < 5, 1.0, np.nan)
    with pytest.raises(ValueError, match="all labeled targets"):
        _small(loss="pairwise_hinge").fit(X, tied)
    with pytest.raises(ValueError, match="early_stopping=True needs at least 3"):
        _small(loss="mse", early_stopping=True).fit(X, np.where(np.arange(len(y)) < 2, y, np.nan))


def test_mismatched_lengths_are_rejected(problem):
    X, y, _ = problem
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        _small().fit(X, y[:-1])


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"loss": "l1"}, "'loss' parameter"),
        ({"hidden_layer_sizes": (8, 0)}, "hidden_layer_sizes"),
        ({"n_neighbors": 0}, "n_neighbors"),
        ({"dropout": 1.0}, "dropout"),
        ({"kernel_width": 0.0}, "kernel_width"),
        ({"validation_fraction": 1.0}, "validation_fraction"),
        ({"device": "tpu"}, "device"),
        ({"algorithm": "kd_tree"}, "'algorithm' parameter"),
    ],
)
def test_bad_parameters_are_rejected_in_fit(problem, params, match):
    X, y, _ = problem
    model = _small(**params)  # nothing is checked before fit
    with pytest.raises(ValueError, match=match):
        model.fit(X, y)


@pytest.mark.parametrize(
    ("sizes", "shapes"), [((), [(4, 1)]), (8, [(4, 8), (8, 1)]), ([4, 3], [(4, 4), (4, 3), (3, 1)])]
)
def test_layer_sizes(problem, sizes, shapes):
    X, y, _ = problem
    model = _small(hidden_layer_sizes=sizes).fit(X, y)
    # the head reads a row (2 features) beside its neighbourhood mean (2 more)
    linear = [layer for layer in model.head_.mlp if isinstance(layer, torch.nn.Linear)]
    assert [(layer.in_features, layer.out_features) for layer in linear] == shapes
    assert model.predict(X).shape == (100,)


def test_tiny_data_uses_fewer_neighbors():
    X = np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 2.0]])
    model = _small(n_neighbors=10).fit(X, [0.0, 1.0, 2.0])
    assert model.graph_.n_neighbors_ == 2
    single = _small(loss="mse").fit(X[:1], [3.0])
    assert single.graph_.n_neighbors_ == 0
    np.testing.assert_allclose(single.predict(X), 3.0, atol=0.5)


def test_same_random_state_gives_identical_results(problem):
    X, _, y_semi = problem
    first, second = _small(dropout=0.3).fit(X, y_semi), _small(dropout=0.3).fit(X, y_semi)
    np.testing.assert_array_equal(first.transduction_, second.transduction_)
    np.testing.assert_array_equal(first.predict(X), second.predict(X))
    other = _small(dropout=0.3, random_state=1).fit(X, y_semi)
    assert not np.array_equal(first.transduction_, other.transduction_)


def test_fit_leaves_global_random_state_alone(problem):
    X, y, _ = problem
    torch_state, numpy_state = torch.get_rng_state(), np.random.get_state()  # noqa: NPY002 (the legacy global state is what must stay)
    _small(dropout=0.5, loss="pairwise_logistic", early_stopping=True).fit(X, y)
    assert torch.equal(torch.get_rng_state(), torch_state)
    assert np.array_equal(np.random.get_state()[1], numpy_state[1])  # noqa: NPY002


@pytest.mark.parametrize("algorithm", ["exact", "ivf"])
def test_predict_is_row_independent(problem, algorithm, monkeypatch):
    from skassess.assessor import _gcn

    X, _, y_semi = problem
    model = _small(batch_size=7, algorithm=algorithm).fit(X, y_semi)
    X_new = np.random.RandomState(1).uniform(-1, 1, size=(30, 2))
    batch = model.predict(X_new)
    single = np.array([model.predict(row[None])[0] for row in X_new])
    np.testing.assert_allclose(single, batch, rtol=1e-12, atol=1e-12)
    order = np.random.RandomState(2).permutation(len(X_new))
    np.testing.assert_allclose(model.predict(X_new[order]), batch[order], rtol=1e-12, atol=1e-12)
    monkeypatch.setattr(_gcn, "_SCORE_CHUNK", 4)  # predicted four rows at a time
    np.testing.assert_allclose(model.predict(X_new), batch, rtol=1e-12, atol=1e-12)


def test_isolated_new_row_is_predicted_from_its_own_features(problem):
    X, _, y_semi = problem
    model = _small(distance_threshold=0.3).fit(X, y_semi)
    far = np.array([[10.0, -10.0]])
    # no edge is short enough: the neighbourhood mean is the row itself
    head = model.head_.double()
    with torch.no_grad():
        raw = head.mlp(torch.tensor(np.c_[far, far])).squeeze(-1).numpy()
    slope, intercept = model._line
    np.testing.assert_allclose(model.predict(far), slope * raw + intercept, rtol=1e-6)


@pytest.mark.parametrize("algorithm", ["exact", "ivf"])
def test_pickle_joblib_and_clone(problem, tmp_path, algorithm):
    X, _, y_semi = problem
    model = _small(algorithm=algorithm).fit(X, y_semi)
    expected = model.predict(X)
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(restored.predict(X), expected)
    joblib.dump(model, tmp_path / "model.joblib")
    np.testing.assert_array_equal(joblib.load(tmp_path / "model.joblib").predict(X), expected)
    # fitted state lives on the CPU, so a model fitted on a GPU loads on a CPU-only machine
    assert all(param.device.type == "cpu" for param in model.head_.parameters())
    assert model.graph_.embeddings_.device.type == "cpu"
    cloned = clone(model)
    assert cloned.get_params() == model.get_params()
    assert not hasattr(cloned, "transduction_")


def test_training_loss_falls(problem):
    X, y, _ = problem
    settings = dict(max_iter=100, dropout=0.0, tol=0.0, n_iter_no_change=100)
    model = _small(loss="mse", **settings).fit(X, y)
    assert model.n_iter_ == len(model.loss_curve_) == 100
    assert model.loss_curve_[-1] < 0.1 * model.loss_curve_[0]
    assert model.validation_scores_ is None
    ranking = _small(**settings).fit(X, y)
    assert ranking.loss_curve_[-1] < 0.5 * ranking.loss_curve_[0]


def test_early_stopping_holds_out_labeled_rows_only(problem):
    X, _, y_semi = problem
    model = _small(early_stopping=True, validation_fraction=0.25, n_iter_no_change=5)
    model.fit(X, y_semi)
    assert len(model.validation_scores_) == model.n_iter_
    assert model.best_validation_score_ == max(model.validation_scores_)


@pytest.mark.parametrize("loss", ["pairwise_logistic", "pairwise_hinge"])
def test_pairwise_losses_rank_and_match_the_target_scale(problem, loss):
    X, y, y_semi = problem
    model = _small(loss=loss, max_iter=100).fit(X, y_semi)
    assert kendalltau(y[40:], model.transduction_[40:]).statistic > 0.75
    # a least-squares line on the labeled rows: their mean, a spread no larger than theirs
    labeled = model.transduction_[:40]
    assert labeled.mean() == pytest.approx(y[:40].mean())
    assert 0.5 * y[:40].std() < labeled.std() <= y[:40].std() + 1e-12


def test_verbose_reports_progress(problem, capsys):
    X, y, _ = problem
    _small(max_iter=20, verbose=True, early_stopping=True).fit(X, y)
    output = capsys.readouterr().out
    assert "epoch 1: loss " in output
    assert "validation tau" in output


def test_labeled_rows_read_their_unlabeled_neighbours(problem):
    X, _, y_semi = problem
    model = _small(n_neighbors=5).fit(X, y_semi)
    labeled = np.flatnonzero(model.labeled_mask_)
    neighbours = model.graph_.indices_.numpy()[labeled]
    # 60 of the 100 rows are unlabeled: most labeled rows have unlabeled neighbours
    assert (~model.labeled_mask_[neighbours]).any(axis=1).mean() > 0.5
    # and a labeled row's score moves with them
    moved = X.copy()
    moved[40:] = moved[40:] * 0.9
    refitted = _small(n_neighbors=5).fit(moved, y_semi)
    assert not np.allclose(refitted.transduction_[:40], model.transduction_[:40])


def test_score_ignores_unlabeled_rows(problem):
    X, y, y_semi = problem
    model = _small().fit(X, y_semi)
    labeled = ~np.isnan(y_semi)
    assert model.score(X, y_semi) == pytest.approx(model.score(X[labeled], y[labeled]))
    with pytest.raises(ValueError, match="every target is NaN"):
        model.score(X, np.full(len(y), np.nan))


def test_inverted_file_graph_is_close_to_the_exact_one(problem):
    X, y, y_semi = problem
    exact = _small(algorithm="exact").fit(X, y_semi)
    approximate = _small(algorithm="ivf").fit(X, y_semi)
    # the same nodes, nearly the same edges
    assert recall(approximate.graph_.indices_.numpy(), exact.graph_.indices_.numpy()) > 0.9
    tau = kendalltau(approximate.transduction_[40:], y[40:]).statistic
    assert tau > 0.6


def test_predict_reuses_the_fitted_index(problem, monkeypatch):
    from skassess.nn import _relation_graph

    X, _, y_semi = problem
    model = _small(algorithm="ivf").fit(X, y_semi)
    built = []
    monkeypatch.setattr(_relation_graph, "neighbor_index", lambda *a, **k: built.append(1))
    model.predict(X[:5])
    assert not built
