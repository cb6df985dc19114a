import pickle

import joblib
import numpy as np
import pytest
import torch
from scipy.stats import kendalltau
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.utils.estimator_checks import (
    check_get_params_invariance,
    check_no_attributes_set_in_init,
    check_parameters_default_constructible,
    check_set_params,
)

from skassess import ArchitectureEmbedder, Cell, SemiSupervisedAssessor, TransductiveGCNRegressor


@pytest.fixture(scope="module")
def nb101(nb101_path):
    """200 real NAS-Bench-101 cells and their test accuracy."""
    with np.load(nb101_path) as data:
        adjacency, op_ids, accuracy = data["adjacency"], data["ops"], data["test_acc"]
        n_vertices, names = data["num_vertices"], [str(name) for name in data["op_names"]]
    rows = np.random.RandomState(0).choice(len(op_ids), 200, replace=False)
    cells = [
        Cell(adjacency[row, :v, :v], [names[i] for i in op_ids[row, :v]])
        for row, v in zip(rows, n_vertices[rows].astype(int), strict=True)
    ]
    return cells, accuracy[rows].astype(np.float64)


def tiny(**params):
    defaults = dict(
        embedder=ArchitectureEmbedder(embedding_dim=8, hidden_layer_sizes=(16, 16), max_iter=2),
        regressor=TransductiveGCNRegressor(batch_size=32, max_iter=5),
        max_iter=4,
        n_ensemble=1,
        graph_update_interval=2,
        random_state=0,
    )
    return SemiSupervisedAssessor(**{**defaults, **params})


ESTIMATOR_DEFAULTS = (
    "the parts' defaults are estimators, so that nested parameters (embedder__*, "
    "regressor__*) work on the defaults; sklearn's check allows only scalars, tuples, "
    "types and callables as defaults"
)


def half_labeled(y):
    partial = y.copy()
    partial[1::2] = np.nan
    return partial


def test_fit_returns_self_and_fitted_attributes(nb101):
    cells, y = nb101
    partial = half_labeled(y)
    assessor = tiny()
    assert assessor.fit(cells, partial) is assessor
    assert assessor.transduction_.shape == (200,)
    assert np.isfinite(assessor.transduction_).all()
    np.testing.assert_array_equal(assessor.labeled_mask_, ~np.isnan(partial))
    assert assessor.n_iter_ == len(assessor.loss_curve_) == 4
    assert assessor.predict(cells[:7]).shape == (7,)


def test_deterministic_with_random_state(nb101):
    cells, y = nb101
    partial = half_labeled(y)
    first = tiny().fit(cells, partial).predict(cells)
    np.testing.assert_array_equal(tiny().fit(cells, partial).predict(cells), first)
    assert not np.allclose(tiny(random_state=1).fit(cells, partial).predict(cells), first)


def test_predict_is_row_independent_and_order_invariant(nb101):
    cells, y = nb101
    assessor = tiny(n_ensemble=2).fit(cells[:150], half_labeled(y[:150]))
    new = cells[150:]
    whole = assessor.predict(new)
    np.testing.assert_allclose(assessor.predict(new[:5]), whole[:5], rtol=1e-6)
    np.testing.assert_allclose(
        [assessor.predict([cell])[0] for cell in new[:5]], whole[:5], rtol=1e-6
    )
    order = np.random.RandomState(0).permutation(len(new))
    np.testing.assert_allclose(assessor.predict([new[i] for i in order]), whole[order], rtol=1e-6)


def test_pickle_joblib_and_clone(nb101, tmp_path):
    cells, y = nb101
    assessor = tiny().fit(cells[:100], half_labeled(y[:100]))
    expected = assessor.predict(cells[100:])
    restored = pickle.loads(pickle.dumps(assessor))
    np.testing.assert_array_equal(restored.predict(cells[100:]), expected)
    joblib.dump(assessor, tmp_path / "assessor.joblib")
    np.testing.assert_array_equal(
        joblib.load(tmp_path / "assessor.joblib").predict(cells[100:]), expected
    )
    fresh = clone(assessor)
    assert not hasattr(fresh, "estimators_")
    np.testing.assert_array_equal(
        fresh.fit(cells[:100], half_labeled(y[:100])).predict(cells[100:]), expected
    )


@pytest.mark.parametrize("loss", ["pairwise_logistic", "pairwise_hinge", "mse"])
def test_training_loss_falls(nb101, loss):
    cells, y = nb101
    assessor = tiny(
        regressor=TransductiveGCNRegressor(loss=loss, batch_size=32, max_iter=5),
        max_iter=15,
        reconstruction_weight=0.5,
    ).fit(cells, half_labeled(y))
    assert np.mean(assessor.loss_curve_[-3:]) < np.mean(assessor.loss_curve_[:3])


def test_learns_to_rank_its_labeled_cells(nb101):
    cells, y = nb101
    partial = half_labeled(y)
    assessor = tiny(max_iter=30).fit(cells, partial)
    labeled = assessor.labeled_mask_
    assert kendalltau(assessor.transduction_[labeled], y[labeled]).statistic > 0.5


def test_predictions_are_in_target_units(nb101):
    cells, y = nb101
    assessor = tiny(max_iter=10).fit(cells, half_labeled(y))
    labeled = assessor.labeled_mask_
    assert abs(assessor.transduction_[labeled].mean() - y[labeled].mean()) < 1e-6


def test_early_stopping_keeps_a_validated_epoch(nb101):
    cells, y = nb101
    assessor = tiny(early_stopping=True, max_iter=30, n_iter_no_change=3).fit(cells, y)
    assert np.isfinite(assessor.predict(cells[:3])).all()
    # A learning rate too small to change the validation ranking: no epoch beats
    # the first, so training stops after 1 + n_iter_no_change epochs.
    frozen = tiny(early_stopping=True, max_iter=30, n_iter_no_change=3, learning_rate_init=1e-12)
    assert frozen.fit(cells, y).n_iter_ == 4


def test_unlabeled_cells_change_the_model(nb101):
    cells, y = nb101
    partial = half_labeled(y)
    labeled = ~np.isnan(partial)
    with_pool = tiny().fit(cells, partial).predict(cells[:20])
    without = tiny().fit([c for c, keep in zip(cells, labeled, strict=True) if keep], y[labeled])
    assert not np.allclose(without.predict(cells[:20]), with_pool)


@pytest.mark.parametrize(
    ("y", "match"),
    [
        (np.full(200, np.nan), "labeled"),
        (np.r_[np.inf, np.zeros(199)], "infinite value at position 0"),
        (np.zeros(199), "200 cells but y holds 199"),
        (np.full(200, 0.9), "all labeled targets are equal"),
    ],
)
def test_bad_targets_errors(nb101, y, match):
    cells, _ = nb101
    with pytest.raises(ValueError, match=match):
        tiny().fit(cells, y)


def test_bad_cells_errors(nb101):
    cells, y = nb101
    with pytest.raises(TypeError, match="single cell"):
        tiny().fit(cells[0], y[:1])
    with pytest.raises(ValueError, match="at least 2"):
        tiny().fit(cells[:1], y[:1])
    with pytest.raises(ValueError, match="loss"):
        tiny(regressor=TransductiveGCNRegressor(loss="l1")).fit(cells, y)


def test_global_torch_rng_is_untouched(nb101):
    cells, y = nb101
    state = torch.get_rng_state()
    tiny(max_iter=1).fit(cells[:50], y[:50])
    assert torch.equal(state, torch.get_rng_state())


def test_nested_params_in_grid_search(nb101):
    cells, y = nb101
    search = GridSearchCV(
        tiny(max_iter=2), {"embedder__embedding_dim": [4, 8]}, cv=KFold(2), scoring="r2"
    )
    search.fit(cells[:80], y[:80])
    assert search.best_params_["embedder__embedding_dim"] in (4, 8)
    best = search.best_estimator_
    assert (
        best.embedder_.encoder_.to_latent.out_features
        == search.best_params_["embedder__embedding_dim"]
    )


def test_nested_params_work_on_the_defaults_and_leave_them_alone(nb101):
    cells, y = nb101
    search = GridSearchCV(
        SemiSupervisedAssessor(max_iter=1, n_ensemble=1, random_state=0),
        {"embedder__embedding_dim": [4], "embedder__max_iter": [1], "regressor__n_neighbors": [3]},
        cv=KFold(2),
        scoring="r2",
    )
    search.fit(cells[:40], y[:40])
    assert search.best_estimator_.regressor_.graph_.n_neighbors_ == 3
    assessor = SemiSupervisedAssessor().set_params(embedder__embedding_dim=4)
    assert assessor.embedder.embedding_dim == 4
    assert SemiSupervisedAssessor().embedder.embedding_dim == 32  # the shared default is intact


@pytest.mark.parametrize(
    "check",
    [
        check_no_attributes_set_in_init,
        pytest.param(
            check_parameters_default_constructible,
            marks=pytest.mark.xfail(strict=True, reason=ESTIMATOR_DEFAULTS),
        ),
        check_get_params_invariance,
        check_set_params,
    ],
)
def test_data_free_sklearn_checks(check):
    check("SemiSupervisedAssessor", SemiSupervisedAssessor())


def test_architecture_checks(nb101):
    from skassess.utils.estimator_checks import check_architecture_estimator

    cells, y = nb101
    ran = check_architecture_estimator(
        tiny(max_iter=2),
        cells[:30],
        y[:30],
        expected_failed_checks={"check_parameters_default_constructible": ESTIMATOR_DEFAULTS},
    )
    assert "check_regressor_score_ignores_nan" in ran


def test_semi_supervised_grid_search_and_cross_validation(nb101):
    from sklearn.model_selection import cross_val_score

    from skassess.metrics import get_scorer
    from skassess.model_selection import SemiSupervisedKFold

    cells, y = nb101
    partial = half_labeled(y)
    cv = SemiSupervisedKFold(2, shuffle=True, random_state=0)
    search = GridSearchCV(
        tiny(max_iter=2),
        {"embedder__embedding_dim": [4, 8], "regressor__loss": ["mse", "pairwise_logistic"]},
        cv=cv,
        scoring=get_scorer("kendall_tau"),
    )
    search.fit(cells, partial)
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    scores = cross_val_score(tiny(max_iter=2), cells, partial, cv=cv)
    assert np.isfinite(scores).all()


def test_fitted_parts_work_alone(nb101):
    cells, y = nb101
    partial = half_labeled(y)
    assessor = tiny().fit(cells, partial)
    # the embeddings the regressor was fitted on are the fine-tuned embedder's
    np.testing.assert_allclose(
        assessor.embedder_.transform(cells),
        assessor.regressor_.graph_.embeddings_.numpy(),
        atol=1e-6,
    )
    # one member: the assessor's prediction is an increasing line of its parts' prediction
    parts = assessor.regressor_.predict(assessor.embedder_.transform(cells))
    slope, intercept = np.polyfit(parts, assessor.predict(cells), 1)
    assert slope > 0
    np.testing.assert_allclose(slope * parts + intercept, assessor.predict(cells), atol=1e-9)
    assert assessor.estimators_[0].named_steps["regressor"] is assessor.regressor_


def test_members_start_from_the_pretrained_auto_encoder(nb101):
    cells, y = nb101
    partial = half_labeled(y)
    embedder = ArchitectureEmbedder(embedding_dim=8, hidden_layer_sizes=(16, 16), batch_size=32)
    edges = {}
    for epochs in (0, 40):
        assessor = tiny(
            embedder=clone(embedder).set_params(max_iter=epochs), reconstruction_weight=1.0
        ).fit(cells, partial)
        edges[epochs] = assessor.embedder_.reconstruction_score(cells, detail=True)["edge"]
    # four epochs of fine-tuning do not learn what forty of pretraining did
    assert edges[40] > edges[0] + 0.1


def test_regressor_parameters_define_the_graph(nb101):
    from skassess import TransductiveGCNRegressor

    cells, y = nb101
    assessor = tiny(regressor=TransductiveGCNRegressor(n_neighbors=3, hidden_layer_sizes=(5,)))
    assessor.set_params(regressor__kernel_width=0.5)
    assessor.fit(cells[:60], half_labeled(y[:60]))
    graph = assessor.regressor_.graph_
    assert graph.n_neighbors_ == 3 and graph.kernel_width == 0.5
    assert graph.indices_.shape == (60, 3)
    assert assessor.regressor_.head_.mlp[0].out_features == 5
    assert not hasattr(assessor.regressor, "transduction_")  # a template, never fitted


# ------------------------------------------------------------------ scale


def test_only_the_last_graph_covers_every_cell(nb101, monkeypatch):
    from skassess.nn import RelationGraph

    built = []
    original = RelationGraph.fit

    def recording(self, X, *, rows=None, reference_rows=None):
        built.append(None if rows is None else len(rows))
        return original(self, X, rows=rows, reference_rows=reference_rows)

    monkeypatch.setattr(RelationGraph, "fit", recording)
    cells, y = nb101
    partial = half_labeled(y)
    tiny(max_iter=4, graph_update_interval=2).fit(cells, partial)
    n_labeled = int((~np.isnan(partial)).sum())
    # training: start and epoch 2 (the labeled cells' neighbourhoods only), then the
    # last graph over every cell after epoch 4
    assert built == [n_labeled, n_labeled, None]


def test_predict_in_chunks_equals_predict_at_once(nb101, monkeypatch):
    from skassess.assessor import _gcn

    cells, y = nb101
    assessor = tiny(n_ensemble=2).fit(cells[:100], half_labeled(y[:100]))
    at_once = assessor.predict(cells[100:])
    transduction = assessor.transduction_.copy()
    monkeypatch.setattr(_gcn, "_SCORE_CHUNK", 7)
    np.testing.assert_allclose(assessor.predict(cells[100:]), at_once, rtol=1e-6, atol=1e-9)
    refit = tiny(n_ensemble=2).fit(cells[:100], half_labeled(y[:100]))
    np.testing.assert_allclose(refit.transduction_, transduction, rtol=1e-6, atol=1e-9)


def test_embedder_sample_caps_the_cells_reconstructed(nb101):
    cells, _ = nb101
    embedder = ArchitectureEmbedder(
        embedding_dim=8, hidden_layer_sizes=(16,), max_iter=1, random_state=0
    )
    everything = clone(embedder).set_params(max_samples=None).fit(cells)
    enough = clone(embedder).set_params(max_samples=len(cells)).fit(cells)
    np.testing.assert_array_equal(enough.transform(cells), everything.transform(cells))
    sampled = clone(embedder).set_params(max_samples=50, verbose=0).fit(cells)
    assert sampled.n_iter_ == 1
    assert not np.allclose(sampled.transform(cells), everything.transform(cells))
    with pytest.raises(ValueError, match="max_samples"):
        clone(embedder).set_params(max_samples=0).fit(cells)


def test_inverted_file_graph_through_the_regressor_template(nb101):
    from skassess import TransductiveGCNRegressor
    from skassess.neighbors import InvertedFileIndex

    cells, y = nb101
    partial = half_labeled(y[:150])
    assessor = tiny(regressor=TransductiveGCNRegressor(algorithm="ivf"))
    assessor.fit(cells[:150], partial)
    assert isinstance(assessor.regressor_.graph_.index_, InvertedFileIndex)
    predictions = assessor.predict(cells[150:])
    assert np.isfinite(predictions).all()
    restored = pickle.loads(pickle.dumps(assessor))
    np.testing.assert_array_equal(restored.predict(cells[150:]), predictions)
    with pytest.raises(ValueError, match="'algorithm' parameter"):
        tiny(regressor=TransductiveGCNRegressor(algorithm="hnsw")).fit(cells, half_labeled(y))


def test_pickled_graph_holds_the_embeddings_once(nb101):
    cells, y = nb101
    assessor = tiny().fit(cells, half_labeled(y))
    graph = assessor.regressor_.graph_
    restored = pickle.loads(pickle.dumps(graph))
    assert np.shares_memory(restored.embeddings_.numpy(), restored._points)
    assert restored.index_._X is restored._points


def test_members_in_parallel_give_the_same_model(nb101):
    cells, y = nb101
    partial = half_labeled(y[:120])
    one = tiny(n_ensemble=2).fit(cells[:120], partial)
    two = tiny(n_ensemble=2, n_jobs=2).fit(cells[:120], partial)
    np.testing.assert_allclose(two.transduction_, one.transduction_, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(two.predict(cells[120:]), one.predict(cells[120:]), rtol=1e-6)
    assert two.loss_curve_ == one.loss_curve_


def test_members_share_one_pretrained_embedder_unless_asked_not_to(nb101):
    cells, y = nb101
    partial = half_labeled(y)
    embedder = ArchitectureEmbedder(embedding_dim=8, hidden_layer_sizes=(16, 16), max_iter=3)

    def pretraining_curves(share):
        assessor = tiny(embedder=embedder, n_ensemble=2, share_embedder=share).fit(cells, partial)
        # fine-tuning leaves the embedder's own (stage 1) loss curve as it was
        return [tuple(pipeline[0].loss_curve_) for pipeline in assessor.estimators_]

    shared, own = pretraining_curves(True), pretraining_curves(False)
    assert shared[0] == shared[1]
    assert own[0] != own[1]
