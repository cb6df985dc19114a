"""Nearest-neighbour search over embedding rows, exact or approximate, in torch.

The relation graph of the assessor links every architecture to its nearest
neighbours in embedding space. This package finds them:

- :class:`ExactIndex`: exact, blockwise search (tiles of matrix products,
  float64 re-ranking); its cost grows with the square of the rows.
- :class:`InvertedFileIndex`: an inverted file (k-means lists, a few probed
  per query), nearly exact and many times faster on large pools.
- :func:`neighbor_index` picks one (``algorithm="auto"``: exact up to 5,000
  rows, the inverted file beyond); :func:`knn_graph` gives each row's
  neighbours among the rows, :func:`attach` new rows' neighbours among
  indexed rows; :func:`recall` compares an approximate result with the exact.

Both indexes have the same ``fit`` / ``kneighbors`` interface, run on a GPU
with ``device="cuda"``, and return a query's neighbours independently of the
other queries searched with it.

Examples
--------
>>> import numpy as np
>>> from skassess.neighbors import knn_graph
>>> indices, distances = knn_graph(np.array([[0.0], [1.0], [3.0], [7.0]]), n_neighbors=1)
>>> indices.ravel().tolist(), distances.ravel().tolist()
([1, 0, 1, 2], [1.0, 1.0, 2.0, 4.0])
"""

from skassess.neighbors._exact import ExactIndex
from skassess.neighbors._ivf import InvertedFileIndex, recall
from skassess.neighbors._search import ALGORITHMS, attach, knn_graph, neighbor_index

__all__ = [
    "ALGORITHMS",
    "ExactIndex",
    "InvertedFileIndex",
    "attach",
    "knn_graph",
    "neighbor_index",
    "recall",
]
