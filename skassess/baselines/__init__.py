"""Baseline performance predictors from the NAS literature, and their building blocks.

One-call pipelines from cells to predictions (all ignore NaN targets in
``fit``, so they work with :mod:`skassess.model_selection`):

- :func:`make_random_forest_predictor`: E2EPP (Sun et al., 2019).
- :func:`make_mlp_predictor`: BANANAS' MLP on path encodings (White et al., 2021).
- :func:`make_gradient_boosting_predictor`: gradient-boosted trees (as in NASLib).
- :func:`make_embedding_predictor`: label propagation / kNN on auto-encoder embeddings.
- :class:`NeuralPredictor`: the GCN predictor of Wen et al. (2019).

Building blocks: :class:`LabeledOnly` (fit any regressor on the labeled rows)
and :class:`LabelPropagationRegressor` (semi-supervised kNN-graph regression).
"""

from importlib import import_module
from typing import TYPE_CHECKING

from skassess.baselines._factories import (
    make_embedding_predictor,
    make_gradient_boosting_predictor,
    make_mlp_predictor,
    make_random_forest_predictor,
)
from skassess.baselines._label_propagation import LabelPropagationRegressor
from skassess.baselines._labeled_only import LabeledOnly

__all__ = [
    "LabelPropagationRegressor",
    "LabeledOnly",
    "NeuralPredictor",
    "make_embedding_predictor",
    "make_gradient_boosting_predictor",
    "make_mlp_predictor",
    "make_random_forest_predictor",
]

if TYPE_CHECKING:  # pragma: no cover
    from skassess.baselines._neural_predictor import NeuralPredictor


def __getattr__(name: str):
    # NeuralPredictor needs torch: imported on first use only.
    if name == "NeuralPredictor":
        value = import_module("skassess.baselines._neural_predictor").NeuralPredictor
        globals()[name] = value
        return value
    raise AttributeError(f"module 'skassess.baselines' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(list(globals()) + __all__)
