"""Encoders from architectures to feature vectors, for any scikit-learn regressor.

Each takes a sequence of cells (any spelling :func:`skassess.as_cells`
accepts) and returns a 2-D float array, so it can open a
:class:`~sklearn.pipeline.Pipeline`::

    make_pipeline(AdjacencyOpsEncoder(), RandomForestRegressor())

- :class:`AdjacencyOpsEncoder`: flat adjacency plus one-hot ops (E2EPP, NASLib).
- :class:`PathEncoder`: input-to-output paths as op sequences (BANANAS).
- :class:`ParameterCountEncoder`: the trainable parameters of a NAS-Bench-101
  cell's network, exact and known before training.
"""

from skassess.encoders._adjacency import AdjacencyOpsEncoder
from skassess.encoders._parameters import ParameterCountEncoder
from skassess.encoders._path import PathEncoder

__all__ = ["AdjacencyOpsEncoder", "ParameterCountEncoder", "PathEncoder"]
