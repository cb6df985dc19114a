import pickle
from types import SimpleNamespace

import joblib
import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.linear_model import Ridge
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.utils.estimator_checks import (
    check_get_params_invariance,
    check_no_attributes_set_in_init,
    check_parameters_default_constructible,
    check_set_params,
)

from skassess import ArchitectureEmbedder, Cell, InvalidCellError

# Not NAS-Bench-101's names: cells with those are read as NAS-Bench-101 cells, validated
# and pruned, and these random DAGs (up to 21 edges) are not (see test_cell_inputs.py).
OPS = ("conv1x1", "conv3x3", "pool")


def random_cells(n, seed=0, n_vertices=(3, 7)):
    """Random DAG cells of a space of one's own: no inferred space validates them."""
    rng = np.random.RandomState(seed)
    cells = []
    while len(cells) < n:
        v = rng.randint(n_vertices[0], n_vertices[1] + 1)
        matrix = np.triu(rng.rand(v, v) < 0.5, k=1).astype(np.uint8)
        matrix[0, 1] = matrix[v - 2, v - 1] = 1
        ops = ["input", *(OPS[i] for i in rng.randint(len(OPS), size=v - 2)), "output"]
        cells.append(Cell(matrix, ops))
    return cells


@pytest.fixture(scope="module")
def nb101_cells(nb101_path):
    with np.load(nb101_path) as data:
        adjacency, op_ids = data["adjacency"], data["ops"]
        n_vertices, names = data["num_vertices"], [str(name) for name in data["op_names"]]
    rows = np.random.RandomState(0).choice(len(op_ids), 200, replace=False)
    return [
        Cell(adjacency[row, :v, :v], [names[i] for i in op_ids[row, :v]])
        for row, v in zip(rows, n_vertices[rows].astype(int), strict=True)
    ]


def tiny(**params):
    defaults = dict(embedding_dim=8, hidden_layer_sizes=(16, 16), max_iter=3, random_state=0)
    return ArchitectureEmbedder(**{**defaults, **params})


def test_fit_returns_self_and_transform_shape():
    cells = random_cells(30)
    embedder = tiny()
    assert embedder.fit(cells) is embedder
    embedding = embedder.transform(cells)
    assert embedding.shape == (30, 8)
    assert embedding.dtype == np.float32
    assert np.isfinite(embedding).all()
    assert embedder.n_iter_ == len(embedder.loss_curve_) == 3


def test_transform_equals_fit_transform_and_is_deterministic():
    cells = random_cells(30)
    first = tiny().fit(cells).transform(cells)
    np.testing.assert_array_equal(first, tiny().fit_transform(cells))
    different = tiny(random_state=1).fit(cells).transform(cells)
    assert not np.allclose(first, different)


def test_refit_is_idempotent():
    cells = random_cells(30)
    embedder = tiny().fit(cells)
    first = embedder.transform(cells)
    np.testing.assert_array_equal(first, embedder.fit(cells).transform(cells))


def test_transform_is_subset_and_order_invariant():
    cells = random_cells(40)
    embedder = tiny().fit(cells)
    whole = embedder.transform(cells)
    order = np.random.RandomState(1).permutation(40)
    np.testing.assert_allclose(
        embedder.transform([cells[i] for i in order]), whole[order], atol=1e-6
    )
    np.testing.assert_allclose(embedder.transform(cells[5:9]), whole[5:9], atol=1e-6)
    small_batches = clone(embedder).set_params(batch_size=7).fit(cells)
    np.testing.assert_allclose(
        small_batches.transform(cells)[:3], small_batches.transform(cells[:3])
    )


def test_accepts_every_cell_spelling():
    cells = random_cells(10)
    embedder = tiny().fit(cells)
    as_pairs = [(cell.matrix, list(cell.ops)) for cell in cells]
    as_dicts = [cell.to_dict() for cell in cells]
    np.testing.assert_allclose(embedder.transform(as_pairs), embedder.transform(cells))
    np.testing.assert_allclose(embedder.transform(as_dicts), embedder.transform(cells))


def test_pickle_joblib_and_clone(tmp_path):
    cells = random_cells(20)
    embedder = tiny().fit(cells)
    expected = embedder.transform(cells)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(embedder)).transform(cells), expected)
    joblib.dump(embedder, tmp_path / "embedder.joblib")
    np.testing.assert_array_equal(
        joblib.load(tmp_path / "embedder.joblib").transform(cells), expected
    )
    fresh = clone(embedder)
    assert not hasattr(fresh, "encoder_")
    np.testing.assert_array_equal(fresh.fit(cells).transform(cells), expected)


def test_global_torch_rng_is_untouched():
    state = torch.get_rng_state()
    tiny().fit(random_cells(10))
    assert torch.equal(state, torch.get_rng_state())


@pytest.mark.parametrize(
    ("X", "error", "match"),
    [
        ([], ValueError, "0 cell"),
        (([[0, 1], [0, 0]], ["input", "output"]), TypeError, "single cell"),
        ([([[0, 1], [1, 0]], ["input", "output"])], InvalidCellError, "cell 0"),
        (np.zeros((3, 4)), TypeError, "numeric array"),
    ],
)
def test_bad_input_errors(X, error, match):
    with pytest.raises(error, match=match):
        tiny().fit(X)


def test_unknown_op_at_transform_is_an_error():
    embedder = tiny().fit(random_cells(10))
    strange = Cell([[0, 1, 0], [0, 0, 1], [0, 0, 0]], ["input", "sepconv5x5", "output"])
    with pytest.raises(InvalidCellError, match="sepconv5x5"):
        embedder.transform([strange])


def test_larger_cells_than_seen_in_fit_are_embedded():
    embedder = tiny().fit(random_cells(10, n_vertices=(3, 4)))
    assert embedder.transform(random_cells(5, n_vertices=(7, 7))).shape == (5, 8)


def test_space_defines_the_vocabulary():
    space = SimpleNamespace(
        op_names=("input", *OPS, "output", "unused"), max_vertices=7, validate=lambda cell: cell
    )
    embedder = tiny(space=space).fit(random_cells(10))
    assert embedder.vocabulary_.op_names == space.op_names
    assert embedder.encoder_.layers[0].combine.in_features == 3 * len(space.op_names)


def test_y_is_ignored_nan_included():
    cells = random_cells(20)
    y = np.full(20, np.nan)
    np.testing.assert_array_equal(
        tiny().fit(cells, y).transform(cells), tiny().fit_transform(cells)
    )


def test_training_loss_falls_and_reconstruction_improves(nb101_cells):
    train, held_out = nb101_cells[:150], nb101_cells[150:]
    short = tiny(hidden_layer_sizes=(32, 32), embedding_dim=16, max_iter=1, batch_size=32)
    long = clone(short).set_params(max_iter=60, n_iter_no_change=60, learning_rate_init=3e-3)
    short.fit(train)
    long.fit(train)
    assert long.loss_curve_[-1] < 0.5 * long.loss_curve_[0]
    before = short.reconstruction_score(held_out, detail=True)
    after = long.reconstruction_score(held_out, detail=True)
    assert after["edge"] > before["edge"]
    assert after["op"] > before["op"]
    assert after["op"] > 0.9
    assert 0.0 <= after["cell"] <= 1.0


def test_two_stage_pipeline_in_cross_validation(nb101_path, nb101_cells):
    y = np.random.RandomState(0).rand(len(nb101_cells))
    pipeline = make_pipeline(tiny(), Ridge())
    scores = cross_val_score(pipeline, nb101_cells, y, cv=KFold(3))
    assert scores.shape == (3,)
    assert np.isfinite(scores).all()
    search = GridSearchCV(pipeline, {"architectureembedder__embedding_dim": [4, 8]}, cv=KFold(2))
    search.fit(nb101_cells, y)
    assert search.best_params_["architectureembedder__embedding_dim"] in (4, 8)
    assert search.best_estimator_[0].transform(nb101_cells[:3]).shape[1] in (4, 8)


def test_feature_names_and_tags():
    embedder = tiny().fit(random_cells(10))
    assert list(embedder.get_feature_names_out())[:2] == [
        "architectureembedder0",
        "architectureembedder1",
    ]
    assert embedder.__sklearn_tags__().input_tags.two_d_array is False


@pytest.mark.parametrize(
    "check",
    [
        check_no_attributes_set_in_init,
        check_parameters_default_constructible,
        check_get_params_invariance,
        check_set_params,
    ],
)
def test_data_free_sklearn_checks(check):
    check("ArchitectureEmbedder", ArchitectureEmbedder())


def test_architecture_checks(nb101_cells):
    from skassess.utils.estimator_checks import check_architecture_estimator

    ran = check_architecture_estimator(tiny(max_iter=2), nb101_cells[:30])
    assert "check_transform_equals_fit_transform" in ran


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_two_stage_pipeline_in_semi_supervised_cross_validation(nb101_cells):
    from skassess import TransductiveGCNRegressor
    from skassess.metrics import get_scorer
    from skassess.model_selection import SemiSupervisedKFold

    y = np.array([cell.n_edges + 0.1 * cell.n_vertices for cell in nb101_cells])
    y[::3] = np.nan
    pipeline = make_pipeline(tiny(), TransductiveGCNRegressor(max_iter=20, random_state=0))
    scores = cross_val_score(
        pipeline,
        nb101_cells,
        y,
        cv=SemiSupervisedKFold(3),
        scoring=get_scorer("kendall_tau"),
    )
    assert scores.shape == (3,)
    assert np.isfinite(scores).all()


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_two_stage_pipeline_passes_the_architecture_checks(nb101_cells):
    from skassess import TransductiveGCNRegressor
    from skassess.utils.estimator_checks import check_architecture_estimator

    cells = nb101_cells[:40]
    y = np.array([cell.n_edges + 0.1 * cell.n_vertices for cell in cells])
    pipeline = make_pipeline(
        tiny(max_iter=2), TransductiveGCNRegressor(n_neighbors=5, max_iter=10, random_state=0)
    )
    ran = check_architecture_estimator(pipeline, cells, y)
    assert "check_regressor_score_ignores_nan" in ran
