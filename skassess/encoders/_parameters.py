"""The size of the network a cell builds: its trainable parameter count as a feature."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from skassess._cell import as_cells
from skassess.spaces import NASBench101


class ParameterCountEncoder(TransformerMixin, BaseEstimator):
    """Encode cells as the trainable parameters of the network they build.

    One feature per cell: the number of trainable parameters of the
    benchmark's network built from it (the space's ``trainable_parameters``:
    :meth:`skassess.spaces.NASBench101.trainable_parameters` by default,
    :meth:`skassess.spaces.NASBench201.trainable_parameters`), exact and
    known without training anything, so it is available for unlabeled
    architectures too. Network size is one of the strongest single predictors
    of accuracy in NAS-Bench-101 (Ying et al., 2019, Fig. 6); stack it with
    another encoding with :class:`~sklearn.pipeline.FeatureUnion`.

    Stateless: :meth:`fit` only checks its parameters.

    Parameters
    ----------
    space : CellSpace, default=None
        A space with a ``trainable_parameters(cells)`` method; ``None`` means
        :class:`~skassess.spaces.NASBench101`.
    log : bool, default=False
        Return the natural logarithm of the count, whose scale suits linear
        models and distances (counts span 0.2 to 50 million).
    dtype : float dtype, default=np.float64
        Type of the output array.

    See Also
    --------
    AdjacencyOpsEncoder, PathEncoder : encodings of the graph itself.

    Examples
    --------
    >>> from skassess.encoders import ParameterCountEncoder
    >>> cells = [([[0, 1], [0, 0]], ["input", "output"]),
    ...          ([[0, 1, 0], [0, 0, 1], [0, 0, 0]], ["input", "conv3x3-bn-relu", "output"])]
    >>> ParameterCountEncoder().fit_transform(cells)
    array([[  882570.],
           [10177674.]])
    >>> ParameterCountEncoder().fit(cells).get_feature_names_out().tolist()
    ['n_parameters']
    """

    def __init__(self, space: Any = None, *, log: bool = False, dtype: Any = np.float64) -> None:
        self.space = space
        self.log = log
        self.dtype = dtype

    def fit(self, X: Any, y: Any = None) -> ParameterCountEncoder:
        """Check the parameters; nothing is learned.

        Parameters
        ----------
        X : sequence of cells
            Ignored beyond a check that it is one.
        y : None
            Ignored; present for pipelines.

        Returns
        -------
        self
        """
        if not np.issubdtype(np.dtype(self.dtype), np.floating):
            raise ValueError(f"dtype must be a floating-point type, got {self.dtype!r}")
        if not isinstance(self.log, bool | np.bool_):
            raise ValueError(f"log must be True or False, got {self.log!r}")
        if not callable(getattr(self._space(), "trainable_parameters", None)):
            raise ValueError(
                f"space must have a trainable_parameters(cells) method, got {self.space!r}"
            )
        if not as_cells(X, space=self._space()):
            raise ValueError("ParameterCountEncoder needs at least one cell, got an empty sequence")
        return self

    def transform(self, X: Any) -> np.ndarray:
        """The parameter count of each cell's network, as a column.

        Parameters
        ----------
        X : sequence of cells of the space
            Any spelling :func:`skassess.as_cells` accepts; unpruned
            NAS-Bench-101 cells are pruned first, as the official builder does.

        Returns
        -------
        ndarray of shape (n_cells, 1)

        Raises
        ------
        InvalidCellError
            If a cell is not in the space.
        """
        counts = self._space().trainable_parameters(X).astype(np.float64)
        if self.log:
            counts = np.log(counts)
        return counts[:, None].astype(self.dtype, copy=False)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Names of the output feature: ``n_parameters`` or ``log_n_parameters``.

        Parameters
        ----------
        input_features : None
            Ignored; cells have no input feature names.

        Returns
        -------
        ndarray of str objects
        """
        return np.asarray(["log_n_parameters" if self.log else "n_parameters"], dtype=object)

    def _space(self) -> Any:
        return NASBench101() if self.space is None else self.space

    def __sklearn_is_fitted__(self) -> bool:
        return True

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False  # X is a sequence of cells, not a table
        tags.input_tags.dict = True
        tags.requires_fit = False
        tags.transformer_tags.preserves_dtype = []
        return tags
