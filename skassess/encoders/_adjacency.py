"""Flat adjacency plus one-hot operations: the tabular encoding of a cell."""

from __future__ import annotations

from typing import Any

import numpy as np

from skassess.encoders._base import _BaseCellEncoder


class AdjacencyOpsEncoder(_BaseCellEncoder):
    """Encode cells as their flattened upper-triangular adjacency and one-hot ops.

    The encoding of the E2EPP random forest (Sun et al., "Surrogate-Assisted
    Evolutionary Deep Learning Using an End-to-End Random Forest-Based
    Performance Predictor", IEEE TEVC 2019) and of most tabular NAS predictors
    (NASLib's "adjacency one-hot"): one 0/1 feature per possible edge
    ``i -> j`` (``i < j``) of a cell padded to ``max_vertices_`` vertices,
    followed by a one-hot block over the inner ops for each vertex position
    ``1 .. max_vertices_ - 2`` that can hold an inner op.

    Vertices are taken in each cell's stored order, padded at the end: a cell
    of ``V`` vertices fills positions ``0 .. V-1``, its output vertex at
    ``V-1`` (whose op block is all zeros, as is a padding vertex's). The
    encoding therefore depends on the vertex order; the NAS-Bench-101 table
    stores each cell in one canonical order, so isomorphic cells loaded from it
    encode alike.

    Parameters
    ----------
    space : CellSpace, optional
        A search space from :mod:`skassess.spaces`. When given, its ``ops`` and
        ``max_vertices`` fix the feature layout (the same for every data set of
        the space) and integer op ids are understood. When None, the inner-op
        vocabulary and the largest cell size are learned from the cells seen in
        :meth:`fit`, as a vectorizer learns its vocabulary. Either way, a cell
        with an unknown inner op or too many vertices is an error; cells are
        encoded as given, so prune them first
        (:meth:`~skassess.spaces.CellSpace.prune`) if they may hold vertices
        off every input-output path. Full membership of the space is not
        checked (it is slow): see :meth:`~skassess.spaces.CellSpace.validate`.
    dtype : float dtype, default=np.float64
        Type of the output array.

    Attributes
    ----------
    ops_ : tuple of str
        Inner operations, in the order of each one-hot block.
    max_vertices_ : int
        Padded number of vertices.

    See Also
    --------
    PathEncoder : Input-to-output paths, independent of the vertex order.

    Examples
    --------
    >>> from skassess.encoders import AdjacencyOpsEncoder
    >>> cells = [([[0, 1, 0], [0, 0, 1], [0, 0, 0]], ["input", "conv", "output"]),
    ...          ([[0, 1], [0, 0]], ["input", "output"])]
    >>> encoder = AdjacencyOpsEncoder().fit(cells)
    >>> encoder.get_feature_names_out().tolist()
    ['edge_0_1', 'edge_0_2', 'edge_1_2', 'vertex1_conv']
    >>> encoder.transform(cells)
    array([[1., 0., 1., 1.],
           [1., 0., 0., 0.]])
    """

    def __init__(self, space: Any = None, dtype: Any = np.float64) -> None:
        super().__init__(space=space, dtype=dtype)

    def _encode(
        self, adjacency: np.ndarray, op_ids: np.ndarray, n_vertices: np.ndarray
    ) -> np.ndarray:
        rows, cols = np.triu_indices(self.max_vertices_, k=1)
        edges = adjacency[:, rows, cols]
        inner_ids = op_ids[:, 1 : self.max_vertices_ - 1]
        one_hot = inner_ids[:, :, None] == np.arange(len(self.ops_), dtype=op_ids.dtype)
        one_hot = one_hot.reshape(len(op_ids), -1)
        out = np.empty((len(op_ids), edges.shape[1] + one_hot.shape[1]), dtype=self.dtype)
        out[:, : edges.shape[1]] = edges
        out[:, edges.shape[1] :] = one_hot
        return out

    def _feature_names(self) -> list[str]:
        rows, cols = np.triu_indices(self.max_vertices_, k=1)
        names = [f"edge_{i}_{j}" for i, j in zip(rows, cols, strict=True)]
        names += [
            f"vertex{vertex}_{op}"
            for vertex in range(1, self.max_vertices_ - 1)
            for op in self.ops_
        ]
        return names
