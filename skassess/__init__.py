"""skassess: predict how good a neural architecture is before training it.

A scikit-learn compatible implementation and extension of the semi-supervised
assessor of Tang et al., "A Semi-Supervised Assessor of Neural Architectures"
(CVPR 2020): an auto-encoder embeds architectures, a relation graph links
similar ones, and a graph convolutional network regresses their performance
from a few labeled architectures and many unlabeled ones.

Top-level names are imported lazily, so that ``import skassess`` (and the
command line's ``--help``) does not pay for importing torch.
"""

from importlib import import_module
from typing import TYPE_CHECKING

__version__ = "0.1.0"

_LAZY = {
    "Cell": "skassess._cell",
    "InvalidCellError": "skassess._cell",
    "as_cell": "skassess._cell",
    "as_cells": "skassess._cell",
    "ArchitectureEmbedder": "skassess.assessor",
    "TransductiveGCNRegressor": "skassess.assessor",
    "SemiSupervisedAssessor": "skassess.assessor",
}

__all__ = [
    "ArchitectureEmbedder",
    "Cell",
    "InvalidCellError",
    "SemiSupervisedAssessor",
    "TransductiveGCNRegressor",
    "as_cell",
    "as_cells",
]

if TYPE_CHECKING:  # pragma: no cover
    from skassess._cell import Cell, InvalidCellError, as_cell, as_cells
    from skassess.assessor import (
        ArchitectureEmbedder,
        SemiSupervisedAssessor,
        TransductiveGCNRegressor,
    )


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'skassess' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(list(globals()) + __all__)
