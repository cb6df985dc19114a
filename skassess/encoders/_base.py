"""Shared machinery of the cell encoders: the op vocabulary and vectorised packing."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils._param_validation import HasMethods
from sklearn.utils.validation import check_is_fitted

from skassess._cell import Cell, InvalidCellError, cells_to_arrays
from skassess.utils.validation import check_cells


class _BaseCellEncoder(TransformerMixin, BaseEstimator):
    """Base of the encoders from cells to fixed-length feature vectors.

    ``fit`` learns (or takes from ``space``) the inner-op vocabulary ``ops_``
    and the padded size ``max_vertices_``; ``transform`` packs the cells with
    :func:`skassess._cell.cells_to_arrays` and hands the arrays to
    :meth:`_encode`, which subclasses implement without any Python loop over
    cells.
    """

    _parameter_constraints: ClassVar[dict] = {
        "space": [None, HasMethods(["validate"])],
        "dtype": "no_validation",  # any floating dtype spelling; checked in fit
    }

    def __init__(self, space: Any = None, dtype: Any = np.float64) -> None:
        self.space = space
        self.dtype = dtype

    def fit(self, X: Any, y: Any = None) -> _BaseCellEncoder:
        """Learn the op vocabulary and the largest cell size.

        Parameters
        ----------
        X : sequence of cells
            Any spelling :func:`skassess.as_cells` accepts.
        y : None
            Ignored; present for pipelines.

        Returns
        -------
        self
        """
        self._validate_params()
        cells = self._check_cells(X)
        if not np.issubdtype(np.dtype(self.dtype), np.floating):
            raise ValueError(f"dtype must be a floating-point type, got {self.dtype!r}")
        if self.space is None:
            self.ops_ = tuple(sorted({op for cell in cells for op in cell.ops[1:-1]}))
            self.max_vertices_ = max(cell.n_vertices for cell in cells)
            boundary = {op for cell in cells for op in (cell.ops[0], cell.ops[-1])}
        else:
            self.ops_ = tuple(self.space.ops)
            self.max_vertices_ = int(self.space.max_vertices)
            boundary = set(self.space.op_names)
        # Packing vocabulary: inner ops first, so that an op id < len(ops_) is
        # an inner op and any larger id is an input/output marker.
        self._vocabulary = self.ops_ + tuple(sorted(boundary - set(self.ops_)))
        self._fit_features(cells)
        return self

    def transform(self, X: Any) -> np.ndarray:
        """Encode cells as rows of features.

        Parameters
        ----------
        X : sequence of cells

        Returns
        -------
        ndarray of shape (n_cells, n_features_out)
        """
        check_is_fitted(self)
        cells = self._check_cells(X)
        adjacency, op_ids, n_vertices = self._pack(cells)
        return self._encode(adjacency, op_ids, n_vertices).astype(self.dtype, copy=False)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Names of the output features.

        Parameters
        ----------
        input_features : None
            Ignored; cells have no input feature names.

        Returns
        -------
        ndarray of str objects
        """
        check_is_fitted(self)
        return np.asarray(self._feature_names(), dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False  # X is a sequence of cells, not a table
        tags.input_tags.dict = True  # {"matrix": ..., "ops": ...} cells are accepted
        tags.transformer_tags.preserves_dtype = []  # output dtype is the `dtype` parameter
        return tags

    # -- helpers ------------------------------------------------------------------

    def _check_cells(self, X: Any) -> list[Cell]:
        # Validated and pruned in their space, when it is known, as every cell
        # estimator does; _pack checks, vectorised, what the feature layout needs.
        cells = check_cells(X, self.space, min_cells=0)
        if not cells:
            raise ValueError(
                f"{type(self).__name__} needs at least one cell, got an empty sequence"
            )
        return cells

    def _pack(self, cells: list[Cell]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Padded adjacency, op ids (into ``_vocabulary``) and vertex counts, checked."""
        try:
            adjacency, op_ids = cells_to_arrays(cells, self._vocabulary, self.max_vertices_)
        except InvalidCellError as exc:
            raise InvalidCellError(
                f"{exc}; {type(self).__name__} was fitted on inner ops {list(self.ops_)} "
                f"and cells of at most {self.max_vertices_} vertices (prune larger cells "
                "first: space.prune(cell))"
            ) from None
        n_vertices = (op_ids >= 0).sum(axis=1)
        if self.space is not None:
            self._check_endpoints(cells, op_ids, n_vertices)
        position = np.arange(self.max_vertices_)
        inner = (position >= 1) & (position < n_vertices[:, None] - 1)
        bad = inner & (op_ids >= len(self.ops_))
        if bad.any():
            row, vertex = (int(v) for v in np.argwhere(bad)[0])
            raise InvalidCellError(
                f"cell {row} has op {cells[row].ops[vertex]!r} at inner vertex {vertex}, "
                f"not one of the inner ops {list(self.ops_)} {type(self).__name__} was "
                "fitted on"
            )
        return adjacency, op_ids, n_vertices

    def _check_endpoints(
        self, cells: list[Cell], op_ids: np.ndarray, n_vertices: np.ndarray
    ) -> None:
        names = self.space.op_names
        first = self._vocabulary.index(names[0])
        last = self._vocabulary.index(names[-1])
        bad = (op_ids[:, 0] != first) | (op_ids[np.arange(len(op_ids)), n_vertices - 1] != last)
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise InvalidCellError(
                f"cell {row} must start with {names[0]!r} and end with {names[-1]!r} in "
                f"{self.space!r}, got ops {list(cells[row].ops)}"
            )

    def _fit_features(self, cells: list[Cell]) -> None:
        """Hook: learn what the feature layout needs beyond the vocabulary."""

    def _encode(
        self, adjacency: np.ndarray, op_ids: np.ndarray, n_vertices: np.ndarray
    ) -> np.ndarray:
        raise NotImplementedError

    def _feature_names(self) -> list[str]:
        raise NotImplementedError
