"""Parallel model selection: joblib workers, their torch threads, and a Dask cluster.

The Dask test starts a local ``dask.distributed`` cluster of two worker
processes and runs a small grid search over a skassess pipeline on it through
joblib's ``"dask"`` backend; it must find what the default backend finds.
"""

import os

import joblib
import numpy as np
import pytest
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline

from skassess.utils.parallel import available_cores, limit_torch_threads, threads_per_job


class ThreadProbe(RegressorMixin, BaseEstimator):
    """Records the torch threads available to the process that fits it."""

    def __init__(self, a=0):
        self.a = a

    def fit(self, X, y):
        import torch

        self.threads_ = torch.get_num_threads()
        self.pid_ = os.getpid()
        return self

    def predict(self, X):
        return np.zeros(len(X))


def _threads_seen(estimator, X, y):
    return float(estimator.threads_)


def _search_threads(n_jobs):
    X, y = np.zeros((12, 1)), np.zeros(12)
    search = GridSearchCV(
        ThreadProbe(), {"a": [0, 1]}, cv=2, n_jobs=n_jobs, scoring=_threads_seen, refit=False
    )
    search.fit(X, y)
    results = search.cv_results_
    return np.concatenate([results["split0_test_score"], results["split1_test_score"]])


def test_threads_per_job_divides_the_cores():
    cores = available_cores()
    assert threads_per_job(None) == threads_per_job(1) == cores
    assert threads_per_job(2) == max(1, cores // 2)
    assert threads_per_job(-1) == 1
    assert threads_per_job(10 * cores) == 1
    with pytest.raises(ValueError, match="n_jobs"):
        threads_per_job(0)


def test_limit_torch_threads_restores_and_rejects_bad_values():
    import torch

    before = torch.get_num_threads()
    with limit_torch_threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
    with limit_torch_threads(before + 5):  # never raises the count
        assert torch.get_num_threads() == before
    with pytest.raises(ValueError, match="positive integer"), limit_torch_threads(0):
        pass


@pytest.mark.slow
def test_loky_workers_share_the_cores():
    # joblib's default backend starts its workers with cores // n_jobs threads
    seen = _search_threads(n_jobs=2)
    assert (seen <= max(1, available_cores() // 2)).all()


@pytest.mark.parametrize("backend", ["threading", "multiprocessing"])
def test_limit_torch_threads_caps_unlimited_backends(backend):
    with joblib.parallel_config(backend=backend), limit_torch_threads(threads_per_job(2)):
        seen = _search_threads(n_jobs=2)
    assert (seen <= max(1, available_cores() // 2)).all()


# ------------------------------------------------------------------ Dask


@pytest.fixture(scope="module")
def sample(nb101_path):
    """300 NAS-Bench-101 cells, 150 of them labeled (the others NaN)."""
    from skassess.datasets import load_nasbench101

    benchmark = load_nasbench101(nb101_path).sample(300, random_state=0)
    y = benchmark.y.astype(float).copy()
    y[150:] = np.nan
    return benchmark.cells, y


def _search(n_jobs):
    from skassess.assessor import ArchitectureEmbedder, TransductiveGCNRegressor
    from skassess.metrics import get_scorer
    from skassess.model_selection import SemiSupervisedKFold

    pipeline = make_pipeline(
        ArchitectureEmbedder(embedding_dim=8, hidden_layer_sizes=(16,), max_iter=3, random_state=0),
        TransductiveGCNRegressor(loss="pairwise_logistic", max_iter=20, random_state=0),
    )
    grid = {
        "transductivegcnregressor__n_neighbors": [3, 8],
        "transductivegcnregressor__kernel_width": [0.25, 1.0],
    }
    return GridSearchCV(
        pipeline,
        grid,
        cv=SemiSupervisedKFold(n_splits=3, shuffle=True, random_state=0),
        scoring=get_scorer("kendall_tau"),
        n_jobs=n_jobs,
    )


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_grid_search_on_a_local_dask_cluster_matches_the_default_backend(sample):
    distributed = pytest.importorskip("distributed")
    cells, y = sample
    expected = _search(n_jobs=1).fit(cells, y)

    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        with joblib.parallel_config(backend="dask"):
            found = _search(n_jobs=-1).fit(cells, y)
        worker_threads = client.run(lambda: __import__("torch").get_num_threads())

    assert found.best_params_ == expected.best_params_
    np.testing.assert_allclose(
        found.cv_results_["mean_test_score"], expected.cv_results_["mean_test_score"], atol=1e-6
    )
    np.testing.assert_allclose(found.predict(cells[:20]), expected.predict(cells[:20]))
    # the nanny starts each worker with one torch thread: two workers never oversubscribe
    assert set(worker_threads.values()) == {1}
