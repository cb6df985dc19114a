"""The semi-supervised assessor of Tang et al. (CVPR 2020) as scikit-learn estimators.

- :class:`ArchitectureEmbedder`: a graph auto-encoder on cells (transformer).
- :class:`TransductiveGCNRegressor`: a GCN on a relation graph over feature rows,
  trained on the labeled rows, transductively using all of them (regressor).
- :class:`SemiSupervisedAssessor`: both trained jointly, end to end on cells.
- :func:`knn_graph`, :func:`attach` and :func:`neighbor_index`: the nearest-neighbour
  search behind the relation graph, exact or (for large pools) an inverted file.
"""

from importlib import import_module

_LAZY = {
    "ArchitectureEmbedder": "skassess.assessor._embedder",
    "TransductiveGCNRegressor": "skassess.assessor._gcn",
    "SemiSupervisedAssessor": "skassess.assessor._assessor",
    "ExactIndex": "skassess.assessor._graph",
    "attach": "skassess.assessor._graph",
    "knn_graph": "skassess.assessor._graph",
    "neighbor_index": "skassess.assessor._graph",
}

__all__ = [
    "ArchitectureEmbedder",
    "ExactIndex",
    "SemiSupervisedAssessor",
    "TransductiveGCNRegressor",
    "attach",
    "knn_graph",
    "neighbor_index",
]


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'skassess.assessor' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(list(globals()) + __all__)
