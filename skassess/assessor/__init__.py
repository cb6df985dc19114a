"""The semi-supervised assessor of Tang et al. (CVPR 2020) as scikit-learn estimators.

- :class:`ArchitectureEmbedder`: a graph auto-encoder on cells (transformer),
  whose embedding the labeled targets also arrange when there are any.
- :class:`TransductiveGCNRegressor`: a graph convolution on a relation graph
  over feature rows, trained on the labeled rows, transductively using all of
  them (regressor).
- :class:`SemiSupervisedAssessor`: both, fitted in turn and then fine-tuned
  together end to end on cells.

``make_pipeline(ArchitectureEmbedder(), TransductiveGCNRegressor())`` is the
two-stage assessor. Their building blocks are in :mod:`skassess.nn`, the
nearest-neighbour search in :mod:`skassess.neighbors`.
"""

from importlib import import_module

_LAZY = {
    "ArchitectureEmbedder": "skassess.assessor._embedder",
    "TransductiveGCNRegressor": "skassess.assessor._gcn",
    "SemiSupervisedAssessor": "skassess.assessor._assessor",
}

__all__ = ["ArchitectureEmbedder", "SemiSupervisedAssessor", "TransductiveGCNRegressor"]


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'skassess.assessor' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(list(globals()) + __all__)
