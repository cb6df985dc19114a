"""Baseline performance predictors from the NAS literature, and their building blocks.

Every predictor of skassess by name (the assessor, its two-stage form and the
baselines): :func:`get_predictor` and :func:`available_predictors`.

One-call pipelines from cells to predictions (all ignore NaN targets in
``fit``, so they work with :mod:`skassess.model_selection`):

- :func:`make_random_forest_predictor`: E2EPP (Sun et al., 2019).
- :func:`make_mlp_predictor`: BANANAS' MLP on path encodings (White et al., 2021).
- :func:`make_gradient_boosting_predictor`: gradient-boosted trees (as in NASLib).
- :func:`make_embedding_predictor`: label propagation / kNN on auto-encoder embeddings.
- :func:`make_two_stage_predictor`: the assessor's embedder, then its GCN (Tang et al., 2020).
- :class:`NeuralPredictor`: the GCN predictor of Wen et al. (2019).

Building blocks: :class:`LabeledOnly` (fit any regressor on the labeled rows)
and :class:`LabelPropagationRegressor` (semi-supervised kNN-graph regression).

Names are imported on first use, so that listing the predictors (as the
command line's ``--help`` does) imports neither scikit-learn nor torch.
"""

from importlib import import_module
from typing import TYPE_CHECKING

from skassess.baselines._registry import available_predictors, get_predictor

_LAZY = {
    "LabelPropagationRegressor": "skassess.baselines._label_propagation",
    "LabeledOnly": "skassess.baselines._labeled_only",
    "NeuralPredictor": "skassess.baselines._neural_predictor",
    "make_embedding_predictor": "skassess.baselines._factories",
    "make_gradient_boosting_predictor": "skassess.baselines._factories",
    "make_mlp_predictor": "skassess.baselines._factories",
    "make_random_forest_predictor": "skassess.baselines._factories",
    "make_two_stage_predictor": "skassess.baselines._factories",
}

__all__ = [
    "LabelPropagationRegressor",
    "LabeledOnly",
    "NeuralPredictor",
    "available_predictors",
    "get_predictor",
    "make_embedding_predictor",
    "make_gradient_boosting_predictor",
    "make_mlp_predictor",
    "make_random_forest_predictor",
    "make_two_stage_predictor",
]

if TYPE_CHECKING:  # pragma: no cover
    from skassess.baselines._factories import (
        make_embedding_predictor,
        make_gradient_boosting_predictor,
        make_mlp_predictor,
        make_random_forest_predictor,
        make_two_stage_predictor,
    )
    from skassess.baselines._label_propagation import LabelPropagationRegressor
    from skassess.baselines._labeled_only import LabeledOnly
    from skassess.baselines._neural_predictor import NeuralPredictor


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'skassess.baselines' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(list(globals()) + __all__)
