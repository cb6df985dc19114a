"""The predictor registry: skassess.baselines.get_predictor and available_predictors."""

import subprocess
import sys

import numpy as np
import pytest
from sklearn.base import clone, is_regressor
from sklearn.pipeline import Pipeline

from skassess import ArchitectureEmbedder, SemiSupervisedAssessor, TransductiveGCNRegressor
from skassess.baselines import (
    LabeledOnly,
    LabelPropagationRegressor,
    NeuralPredictor,
    available_predictors,
    get_predictor,
)
from skassess.spaces import NASBench201

NAMES = list(available_predictors())


def test_names_and_descriptions():
    predictors = available_predictors()
    assert {"assessor", "pipeline", "random-forest", "neural-predictor"} <= set(predictors)
    assert all(isinstance(text, str) and len(text) > 10 for text in predictors.values())
    predictors.clear()  # a copy: the registry is not changed
    assert available_predictors()


def test_listing_imports_neither_sklearn_nor_torch():
    code = (
        "import sys; from skassess.baselines import available_predictors; available_predictors(); "
        "print(sorted(m for m in ('torch', 'sklearn') if m in sys.modules))"
    )
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert completed.stdout.strip() == "[]", completed.stderr


@pytest.mark.parametrize("name", NAMES)
def test_each_predictor_is_a_fresh_unfitted_regressor(name):
    first, second = get_predictor(name), get_predictor(name)
    assert first is not second
    assert is_regressor(first)
    assert not hasattr(first, "n_features_in_") and not hasattr(first, "transduction_")
    assert clone(first).get_params().keys() == first.get_params().keys()


def test_what_the_names_build():
    assert type(get_predictor("assessor")) is SemiSupervisedAssessor
    assert type(get_predictor("neural-predictor")) is NeuralPredictor
    steps = [type(step) for _, step in get_predictor("pipeline").steps]
    assert steps == [ArchitectureEmbedder, TransductiveGCNRegressor]
    assert type(get_predictor("embedding").steps[-1][1]) is LabelPropagationRegressor
    assert type(get_predictor("embedding-knn").steps[-1][1]) is LabeledOnly


def test_a_plain_name_sets_the_parameter_at_every_depth():
    pipeline = get_predictor("pipeline", random_state=7, max_iter=3)
    params = pipeline.get_params()
    for step in ("architectureembedder", "transductivegcnregressor"):
        assert params[f"{step}__random_state"] == 7
        assert params[f"{step}__max_iter"] == 3
    forest = get_predictor("random-forest", n_estimators=12)
    assert forest.get_params()["regress__estimator__n_estimators"] == 12


def test_a_step_name_sets_one_parameter():
    pipeline = get_predictor("pipeline", architectureembedder__max_iter=4)
    params = pipeline.get_params()
    assert params["architectureembedder__max_iter"] == 4
    assert params["transductivegcnregressor__max_iter"] != 4


def test_underscores_and_case_are_accepted():
    assert isinstance(get_predictor("Random_Forest"), Pipeline)


@pytest.mark.parametrize(
    "name, params, words",
    [
        ("oracle", {}, "unknown predictor 'oracle'; choose from assessor"),
        ("assessor", {"kernel": None}, "'assessor' has no parameter 'kernel'"),
        ("pipeline", {"nope__max_iter": 1}, "no parameter 'nope__max_iter'"),
    ],
)
def test_bad_names_say_what_exists(name, params, words):
    with pytest.raises(ValueError, match=words):
        get_predictor(name, **params)


def test_a_name_is_a_string():
    with pytest.raises(TypeError, match="a predictor name is a str"):
        get_predictor(None)


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("name", NAMES)
def test_each_predictor_fits_cells_with_unlabeled_ones(name):
    space = NASBench201()
    cells = space.sample(60, random_state=0)
    y = np.random.default_rng(0).normal(size=60)
    y[30:] = np.nan
    predictor = get_predictor(name, random_state=0)
    short = {"max_iter": 2, "n_ensemble": 1, "n_estimators": 5}
    names = {path.rpartition("__")[2] for path in predictor.get_params(deep=True)}
    predictor = get_predictor(
        name, random_state=0, **{k: v for k, v in short.items() if k in names}
    )
    predicted = predictor.fit(cells, y).predict(cells[:10])
    assert predicted.shape == (10,) and np.isfinite(predicted).all()


def test_shared_params_are_set_where_the_predictor_has_them():
    space = NASBench201()
    shared = {"space": space, "max_iter": 4}
    assessor = get_predictor("assessor", shared_params=shared)
    assert assessor.max_iter == 4
    assert assessor.embedder.space is space  # its embedder's parameter
    forest = get_predictor("random-forest", shared_params=shared)
    assert forest.get_params()["encode__space"] is space  # no `max_iter`: left out
    explicit = get_predictor("assessor", shared_params=shared, max_iter=9)
    assert explicit.max_iter == 9  # a keyword wins over a shared setting
