"""The relation graph of Tang et al. (CVPR 2020): architectures linked to their nearest embeddings.

Each row (an architecture's embedding) is linked to its ``k`` nearest other
rows (:mod:`skassess.neighbors`), with Gaussian edge weights
``exp(-d ** 2 / (2 * sigma ** 2))`` where ``sigma = kernel_width`` x the mean
neighbour distance of the reference (labeled) rows. The graph is kept as
neighbour lists, ``(n, k)`` indices and weights, which is all a one-hop graph
convolution (:class:`~skassess.nn.GraphConvHead`) needs, and a new row is
attached to its ``k`` nearest indexed rows on its own, so predictions are
row-independent.

A graph can cover every row (``fit(X)``: the index is kept to attach new rows)
or only the neighbourhoods of some rows, found among all of them
(``fit(X, rows=labeled)``): training on a few labeled cells of a large pool
needs only theirs.

Examples
--------
>>> import numpy as np
>>> from skassess.nn import RelationGraph
>>> graph = RelationGraph(n_neighbors=1).fit(np.array([[0.0], [1.0], [3.0]]))
>>> graph.indices_.ravel().tolist()
[1, 0, 1]
>>> neighbours, weights = graph.attach(np.array([[2.9]]))
>>> neighbours.ravel().tolist()
[3.0]
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from numpy.typing import ArrayLike

from skassess.neighbors import knn_graph, neighbor_index

__all__ = ["RelationGraph", "kernel_bandwidth", "kernel_weights"]


def kernel_bandwidth(distances: ArrayLike, kernel_width: float = 1.0) -> float:
    """The Gaussian kernel's ``sigma``: ``kernel_width`` times the mean kNN distance.

    Parameters
    ----------
    distances : array-like
        kNN distances.
    kernel_width : float, default=1.0
        Multiplier of the mean distance; smaller values make weaker edges.

    Returns
    -------
    float
        ``sigma``; 0.0 when there are no distances or all are 0.

    Examples
    --------
    >>> kernel_bandwidth([[1.0, 3.0]], kernel_width=0.5)
    1.0
    """
    distances = np.asarray(distances, dtype=np.float64)
    if distances.size == 0:
        return 0.0
    return float(kernel_width * distances.mean())


def kernel_weights(
    distances: ArrayLike, bandwidth: float, *, distance_threshold: float | None = None
) -> np.ndarray:
    """Gaussian edge weights ``exp(-d ** 2 / (2 * bandwidth ** 2))``.

    Parameters
    ----------
    distances : array-like
        Edge lengths.
    bandwidth : float
        The kernel's ``sigma``. With 0, only edges of length 0 keep a weight (of 1).
    distance_threshold : float, default=None
        Edges longer than this get weight 0.

    Returns
    -------
    ndarray of float32, the shape of ``distances``

    Examples
    --------
    >>> kernel_weights([0.0, 1.0, 2.0], bandwidth=1.0, distance_threshold=1.5).round(3)
    array([1.   , 0.607, 0.   ], dtype=float32)
    """
    distances = np.asarray(distances, dtype=np.float64)
    if bandwidth > 0:
        weights = np.exp(-(distances**2) / (2.0 * bandwidth**2))
    else:
        weights = (distances == 0).astype(np.float64)
    if distance_threshold is not None:
        weights[distances > distance_threshold] = 0.0
    return weights.astype(np.float32)


class RelationGraph:
    """Neighbour lists with Gaussian weights over embedding rows.

    Parameters
    ----------
    n_neighbors : int, default=10
        Neighbours per row (fewer when there are fewer other rows).
    kernel_width : float, default=0.25
        ``sigma`` as a multiple of the reference rows' mean neighbour distance.
    distance_threshold : float, default=None
        Edges longer than this get weight 0.
    algorithm : {"auto", "exact", "ivf"}, default="auto"
        Nearest-neighbour search; see :func:`skassess.neighbors.neighbor_index`.
    block_size : int, default=2048
        Rows per tile of the exact search.
    device : str or torch.device, default="cpu"
        Where distances are computed and the neighbourhoods are gathered.
    random_state : int or None, default=None
        Seeds the inverted file's k-means.

    Attributes
    ----------
    embeddings_ : Tensor of shape (n_rows, n_features)
        The rows, as float32 on ``device``.
    n_neighbors_ : int
    bandwidth_ : float
    indices_ : Tensor of shape (n_queried, n_neighbors_)
        Neighbours of the rows whose neighbourhoods were computed.
    weights_ : Tensor of shape (n_queried, n_neighbors_)
    index_ : ExactIndex or InvertedFileIndex or None
        The search index over every row, kept when every row was queried
        (for :meth:`attach`).
    """

    def __init__(
        self,
        n_neighbors: int = 10,
        *,
        kernel_width: float = 0.25,
        distance_threshold: float | None = None,
        algorithm: str = "auto",
        block_size: int = 2048,
        device: str | torch.device = "cpu",
        random_state: int | None = None,
    ) -> None:
        self.n_neighbors = n_neighbors
        self.kernel_width = kernel_width
        self.distance_threshold = distance_threshold
        self.algorithm = algorithm
        self.block_size = block_size
        self.device = device
        self.random_state = random_state

    def fit(
        self,
        X: ArrayLike | torch.Tensor,
        *,
        rows: ArrayLike | None = None,
        reference_rows: ArrayLike | None = None,
    ) -> RelationGraph:
        """Find the neighbourhoods of ``rows`` (all by default) among all rows of ``X``.

        Parameters
        ----------
        X : array-like or Tensor of shape (n_rows, n_features)
        rows : array-like of int, default=None
            Rows whose neighbourhoods are needed. ``None``: every row, and the
            search index is kept to attach new rows.
        reference_rows : array-like of int, default=None
            Rows whose mean neighbour distance sets the bandwidth (the labeled
            rows); a subset of ``rows``. All queried rows by default.

        Returns
        -------
        self
        """
        if isinstance(X, torch.Tensor):
            embeddings = X.detach().float()
        else:  # a copy: the caller's array may be read-only, or change later
            embeddings = torch.from_numpy(np.array(X, dtype=np.float32))
        self.embeddings_ = embeddings.to(self.device)
        self._points = self.embeddings_.cpu().numpy()
        n_rows = len(self._points)
        self.n_neighbors_ = max(0, min(int(self.n_neighbors), n_rows - 1))
        search = {"algorithm": self.algorithm, "device": self.device}
        if rows is None:
            self.index_ = neighbor_index(
                self._points, block_size=self.block_size, random_state=self.random_state, **search
            )
            indices, distances = self.index_.kneighbors(n_neighbors=self.n_neighbors_)
            self._position = None
        else:
            rows = np.asarray(rows, dtype=np.int64)
            self.index_ = None
            indices, distances = knn_graph(
                self._points,
                self.n_neighbors_,
                rows=rows,
                block_size=self.block_size,
                random_state=self.random_state,
                **search,
            )
            self._position = np.full(n_rows, -1)
            self._position[rows] = np.arange(len(rows))
        reference = self._positions(reference_rows) if reference_rows is not None else slice(None)
        self.bandwidth_ = kernel_bandwidth(distances[reference], self.kernel_width)
        self.indices_ = torch.as_tensor(indices, device=self.device)
        self.weights_ = self._weights(distances)
        return self

    @property
    def is_full(self) -> bool:
        """Whether every row has its neighbourhood (and new rows can be attached)."""
        return self.index_ is not None

    def neighbourhood(self, rows: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Neighbour embeddings (b, k, d) and edge weights (b, k) of fitted rows ``rows``."""
        position = torch.as_tensor(self._positions(rows.cpu().numpy()), device=self.device)
        return self.embeddings_[self.indices_[position]], self.weights_[position]

    def attach(self, X: ArrayLike | torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Neighbour embeddings (b, k, d) and weights (b, k) of new rows, each on its own."""
        if self.index_ is None:
            raise ValueError("this RelationGraph covers some rows only; fit it with rows=None")
        queries = torch.as_tensor(X, dtype=torch.float32).detach().cpu().numpy()
        indices, distances = self.index_.kneighbors(queries, self.n_neighbors_)
        indices = torch.as_tensor(indices, device=self.embeddings_.device)
        return self.embeddings_[indices], self._weights(distances)

    def cpu(self) -> RelationGraph:
        """Move to the CPU, for keeping after a fit on another device."""
        self.device = "cpu"
        self.embeddings_ = torch.from_numpy(self._points)
        self.indices_, self.weights_ = self.indices_.cpu(), self.weights_.cpu()
        if self.index_ is not None:
            self.index_.device = "cpu"
        return self

    def _positions(self, rows: ArrayLike) -> np.ndarray:
        rows = np.asarray(rows, dtype=np.int64)
        if self._position is None:
            return rows
        position = self._position[rows]
        if (position < 0).any():
            raise ValueError("some rows have no neighbourhood in this RelationGraph")
        return position

    def _weights(self, distances: np.ndarray) -> torch.Tensor:
        weights = kernel_weights(
            distances, self.bandwidth_, distance_threshold=self.distance_threshold
        )
        return torch.as_tensor(weights, device=self.embeddings_.device)

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["embeddings_"] = None  # the same numbers as ``_points``
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        if "_points" in state:
            self.embeddings_ = torch.from_numpy(self._points)
