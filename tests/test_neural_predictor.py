import pickle

import numpy as np
import pytest
from scipy.stats import kendalltau

from skassess import Cell
from skassess.baselines import NeuralPredictor
from skassess.utils.estimator_checks import check_architecture_estimator


@pytest.fixture(scope="module")
def nb101(nb101_path):
    """200 real NAS-Bench-101 cells and their test accuracy."""
    with np.load(nb101_path) as data:
        adjacency, op_ids, accuracy = data["adjacency"], data["ops"], data["test_acc"]
        n_vertices, names = data["num_vertices"], [str(name) for name in data["op_names"]]
    rows = np.random.RandomState(1).choice(len(op_ids), 200, replace=False)
    cells = [
        Cell(adjacency[row, :v, :v], [names[i] for i in op_ids[row, :v]])
        for row, v in zip(rows, n_vertices[rows].astype(int), strict=True)
    ]
    return cells, accuracy[rows].astype(np.float64)


def tiny(**params):
    defaults = dict(embedding_dim=8, hidden_layer_sizes=(16, 16), max_iter=5, random_state=0)
    return NeuralPredictor(**{**defaults, **params})


def test_architecture_checks(nb101):
    cells, y = nb101
    ran = check_architecture_estimator(tiny(max_iter=2), cells[:30], y[:30])
    assert "check_regressor_nan_targets" in ran


def test_unlabeled_rows_are_ignored(nb101):
    cells, y = nb101
    partial = y.copy()
    partial[::2] = np.nan
    with_nan = tiny().fit(cells, partial).predict(cells)
    labeled_only = tiny().fit(cells[1::2], y[1::2]).predict(cells)
    np.testing.assert_allclose(with_nan, labeled_only, rtol=1e-6)


@pytest.mark.parametrize("loss", ["mse", "pairwise_logistic", "pairwise_hinge"])
def test_learns_to_rank_its_training_cells(nb101, loss):
    cells, y = nb101
    model = tiny(loss=loss, max_iter=40).fit(cells[:150], y[:150])
    assert np.mean(model.loss_curve_[-3:]) < np.mean(model.loss_curve_[:3])
    assert kendalltau(model.predict(cells[:150]), y[:150]).statistic > 0.4


def test_predictions_in_target_units_and_pickle(nb101):
    cells, y = nb101
    model = tiny().fit(cells, y)
    prediction = model.predict(cells)
    assert abs(prediction.mean() - y.mean()) < 1e-6
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(model)).predict(cells), prediction)


def test_errors(nb101):
    cells, y = nb101
    with pytest.raises(ValueError, match="labeled"):
        tiny().fit(cells, np.full(len(cells), np.nan))
    with pytest.raises(ValueError, match="infinite"):
        tiny().fit(cells, np.r_[np.inf, y[1:]])
    with pytest.raises(ValueError, match="hidden_layer_sizes"):
        tiny(hidden_layer_sizes=()).fit(cells, y)
