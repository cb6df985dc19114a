"""The path encoding of BANANAS: which op sequences lead from input to output."""

from __future__ import annotations

import warnings
from numbers import Integral
from typing import Any, ClassVar

import numpy as np
from sklearn.utils._param_validation import Interval

from skassess._cell import Cell
from skassess.encoders._base import _BaseCellEncoder


class PathEncoder(_BaseCellEncoder):
    """Encode cells by the input-to-output paths they contain.

    The path encoding of BANANAS (White, Neiswanger and Savani, "BANANAS:
    Bayesian Optimization with Neural Architectures for Neural Architecture
    Search", AAAI 2021): one feature per possible path from the input to the
    output vertex, a path named by the sequence of inner ops along it, from
    the direct edge (no op) up to paths through ``max_path_length_`` inner
    vertices. With ``K`` inner ops there are ``sum(K**l for l in 0..L)``
    features, ordered by path length and then lexicographically in the order
    of ``ops_`` (for NAS-Bench-101, ``K = 3`` and ``L = 5`` give 364).

    Unlike :class:`AdjacencyOpsEncoder`, the encoding does not depend on the
    vertex order: isomorphic cells encode alike.

    Parameters
    ----------
    space : CellSpace, optional
        A search space from :mod:`skassess.spaces`; fixes ``ops_`` and
        ``max_vertices_`` and names integer op ids. When None, both are learned
        from the cells seen in :meth:`fit`. See :class:`AdjacencyOpsEncoder`
        for what is checked.
    max_path_length : int, optional
        Longest path encoded, counted in inner vertices; longer paths are not
        counted (the truncated encoding of White et al.). By default, the
        longest path among the cells seen in :meth:`fit`, as a vectorizer
        learns its vocabulary: 5 on NAS-Bench-101 (364 features), 3 on
        NAS-Bench-201 (156 features, where ``max_vertices - 2`` would give
        19,531 mostly empty ones). A cell with a longer path at
        :meth:`transform` then raises a warning.
    binary : bool, default=True
        If True, a feature says whether the cell has at least one path with
        that op sequence (BANANAS' indicator encoding); if False, it counts
        them (two parallel branches with the same ops count twice).
    dtype : float dtype, default=np.float64
        Type of the output array.

    Attributes
    ----------
    ops_ : tuple of str
        Inner operations, the alphabet of the paths.
    max_vertices_ : int
        Largest number of vertices of a cell.
    max_path_length_ : int
        Longest path encoded.

    See Also
    --------
    AdjacencyOpsEncoder : Flat adjacency and one-hot ops.

    Examples
    --------
    >>> from skassess.encoders import PathEncoder
    >>> cell = ([[0, 1, 1, 0], [0, 0, 0, 1], [0, 0, 0, 1], [0, 0, 0, 0]],
    ...         ["input", "a", "b", "output"])
    >>> encoder = PathEncoder().fit([cell])
    >>> encoder.get_feature_names_out()[:3].tolist()
    ['input->output', 'input->a->output', 'input->b->output']
    >>> encoder.transform([cell])[0, :3]
    array([0., 1., 1.])
    """

    _parameter_constraints: ClassVar[dict] = {
        **_BaseCellEncoder._parameter_constraints,
        "max_path_length": [None, Interval(Integral, 0, None, closed="left")],
        "binary": ["boolean"],
    }

    def __init__(
        self,
        space: Any = None,
        max_path_length: int | None = None,
        binary: bool = True,
        dtype: Any = np.float64,
    ) -> None:
        super().__init__(space=space, dtype=dtype)
        self.max_path_length = max_path_length
        self.binary = binary

    def _fit_features(self, cells: list[Cell]) -> None:
        if self.max_path_length is None:
            adjacency, _, n_vertices = self._pack(cells)
            self.max_path_length_ = int(_longest_paths(adjacency, n_vertices).max(initial=0))
        else:
            self.max_path_length_ = int(self.max_path_length)
        n_ops = len(self.ops_)
        # offsets[l]: index of the first feature of the paths through l inner vertices
        self._offsets = np.cumsum(
            [0] + [n_ops**length for length in range(self.max_path_length_ + 1)]
        )

    def _encode(
        self, adjacency: np.ndarray, op_ids: np.ndarray, n_vertices: np.ndarray
    ) -> np.ndarray:
        if self.max_path_length is None:
            self._warn_if_truncated(adjacency, n_vertices)
        n_cells = len(adjacency)
        n_ops = len(self.ops_)
        out = np.zeros((n_cells, int(self._offsets[-1])), dtype=self.dtype)
        rows = np.arange(n_cells)
        output = n_vertices - 1
        # Depth-first over chains input -> v1 -> ... -> vl of increasing vertex
        # positions, each step vectorised over all cells: `alive` says which
        # cells have the chain, `code` is the chain's op sequence in base n_ops.
        stack = [(0, 0, np.ones(n_cells, dtype=bool), np.zeros(n_cells, dtype=np.int64))]
        while stack:
            last, length, alive, code = stack.pop()
            closes = alive & (adjacency[rows, last, output] == 1)
            hit = np.flatnonzero(closes)
            out[hit, self._offsets[length] + code[hit]] += 1
            if length == self.max_path_length_:
                continue
            for vertex in range(last + 1, self.max_vertices_ - 1):
                extends = alive & (adjacency[:, last, vertex] == 1) & (vertex < output)
                if extends.any():
                    extended = code * n_ops + op_ids[:, vertex]
                    stack.append((vertex, length + 1, extends, extended))
        if self.binary:
            np.minimum(out, 1, out=out)
        return out

    def _warn_if_truncated(self, adjacency: np.ndarray, n_vertices: np.ndarray) -> None:
        longest = _longest_paths(adjacency, n_vertices)
        if (longest > self.max_path_length_).any():
            row = int(np.argmax(longest))
            warnings.warn(
                f"cell {row} has a path through {longest[row]} inner vertices, longer than any "
                f"seen in fit ({self.max_path_length_}); paths that long are not counted. Set "
                "max_path_length to encode them.",
                UserWarning,
                stacklevel=4,
            )

    def _feature_names(self) -> list[str]:
        names = []
        for length in range(self.max_path_length_ + 1):
            for code in range(len(self.ops_) ** length):
                ops = []
                for _ in range(length):
                    code, op = divmod(code, len(self.ops_))
                    ops.append(self.ops_[op])
                names.append("->".join(["input", *reversed(ops), "output"]))
        return names


def _longest_paths(adjacency: np.ndarray, n_vertices: np.ndarray) -> np.ndarray:
    """Inner vertices on each cell's longest input -> output path (-1 if none).

    Dynamic programming in vertex order, which is topological for upper
    triangular matrices, vectorised over the cells.
    """
    n_cells, size, _ = adjacency.shape
    depth = np.full((n_cells, size), -1, dtype=np.int64)  # -1: unreachable from the input
    depth[:, 0] = 0
    edges = adjacency.astype(bool)
    for vertex in range(1, size):
        reachable = edges[:, :vertex, vertex] & (depth[:, :vertex] >= 0)
        depth[:, vertex] = np.where(reachable, depth[:, :vertex] + 1, -1).max(axis=1)
    at_output = depth[np.arange(n_cells), n_vertices - 1]
    return np.where(at_output > 0, at_output - 1, -1)
