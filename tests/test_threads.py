"""Fits running in threads equal fits run one after the other, for every torch estimator.

Every random draw of a fit comes from a generator the fit owns (initial
weights, batch order, dropout, pair sampling), never from torch's global
generator, which threads would share.
"""

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.pipeline import make_pipeline

from skassess import ArchitectureEmbedder, SemiSupervisedAssessor, TransductiveGCNRegressor
from skassess.baselines import NeuralPredictor
from skassess.spaces import NASBench201


@pytest.fixture(scope="module")
def cells_and_targets():
    cells = NASBench201().sample(80, random_state=0)
    y = np.array([len(cell.ops) + 0.1 * cell.n_edges for cell in cells], dtype=float)
    y += np.random.default_rng(0).normal(scale=0.1, size=len(y))
    y[40:] = np.nan
    return cells, y


def _embedder():
    return ArchitectureEmbedder(embedding_dim=8, hidden_layer_sizes=(16,), max_iter=3)


ESTIMATORS = {
    "embedder": _embedder(),
    "pipeline": make_pipeline(_embedder(), TransductiveGCNRegressor(max_iter=5, dropout=0.3)),
    "assessor": SemiSupervisedAssessor(
        _embedder(),
        TransductiveGCNRegressor(max_iter=3, dropout=0.3),
        max_iter=3,
        n_ensemble=2,
        reconstruction_weight=0.5,
    ),
    "neural_predictor": NeuralPredictor(max_iter=5),
}


def _fit_output(estimator, cells, y):
    fitted = clone(estimator).set_params(**_seed(estimator)).fit(cells, y)
    return fitted.transform(cells) if hasattr(fitted, "transform") else fitted.predict(cells)


def _seed(estimator):
    return {name: 0 for name in estimator.get_params() if name.endswith("random_state")}


@pytest.mark.parametrize("name", list(ESTIMATORS))
def test_fits_in_threads_equal_a_sequential_fit(name, cells_and_targets):
    cells, y = cells_and_targets
    estimator = ESTIMATORS[name]
    expected = _fit_output(estimator, cells, y)
    with ThreadPoolExecutor(max_workers=4) as pool:
        outputs = list(pool.map(lambda _: _fit_output(estimator, cells, y), range(4)))
    for output in outputs:
        np.testing.assert_array_equal(output, expected)
