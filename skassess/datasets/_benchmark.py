"""The :class:`Benchmark` type: a table of architectures and their measured performance."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from sklearn.utils import check_random_state

from skassess._cell import Cell, InvalidCellError, as_cells
from skassess.datasets._runs import RunTable
from skassess.utils.validation import check_int

__all__ = ["Benchmark", "UnknownCellError"]


# Below this many cells, hashing one by one beats the vectorised hash_many.
_VECTORISE_FROM = 32


class _Vocabulary:
    """Names integer op ids as a space does, for :func:`as_cells`, without validating."""

    def __init__(self, space: Any) -> None:
        self.op_names = space.op_names

    def validate(self, cell: Cell) -> Cell:
        return cell


class UnknownCellError(KeyError):
    """A queried cell is not in the benchmark (or not even in its search space).

    A :class:`KeyError`, as for a missing key of a mapping; the message names
    the position of the cell in the query and why it was not found.
    """

    def __str__(self) -> str:
        # KeyError shows the repr of its argument; a sentence reads better.
        return str(self.args[0]) if self.args else ""


class Benchmark:
    """A tabular NAS benchmark: architectures and what training them measured.

    Returned by the loaders (:func:`load_nasbench101`, :func:`load_nasbench201`,
    :func:`load_nasbench_graph`); rarely built by hand.

    Parameters
    ----------
    name : str
        Human-readable name, e.g. ``"NAS-Bench-101"``.
    space : CellSpace
        The search space of the cells (:mod:`skassess.spaces`); it validates
        and hashes queried cells.
    cells : sequence of Cell
        The architectures. They are trusted as given: loaders validate them.
    metrics : mapping of str to array-like of shape (n_cells,)
        Measured values aligned with ``cells``; NaN where unknown.
    target : str
        The default metric, a key of ``metrics``.
    hashes : array-like of str, optional
        Canonical hashes of the cells (``space.hash_many(cells)``) when the
        loader knows them already; otherwise computed on first use.
    runs : RunTable, optional
        Per-run and per-epoch-budget values, where the source keeps them.
    info : mapping of str to array-like of shape (n_cells,), optional
        Other per-cell data that are not measurements, such as an official
        index or architecture string.

    Attributes
    ----------
    name, space, cells, metrics, target, runs, info
        As given; metric and info arrays are read-only.

    Notes
    -----
    :meth:`query` finds cells by their canonical hash, so any spelling and any
    isomorphic vertex order of a cell finds the same row. Where a benchmark
    lists several isomorphic cells as separate entries (NAS-Bench-201 does,
    each with its own training results), a query returns the entry whose
    labelled cell equals the queried one, and otherwise the first entry in
    benchmark order.

    Examples
    --------
    >>> from skassess import Cell
    >>> from skassess.datasets import Benchmark
    >>> cells = [Cell([[0, 1], [0, 0]], ["input", "output"])]
    >>> bench = Benchmark("toy", None, cells, {"accuracy": [0.5]}, "accuracy",
    ...                   hashes=["a"])
    >>> bench
    Benchmark('toy', n_cells=1, target='accuracy', metrics=['accuracy'])
    >>> bench.y
    array([0.5])
    """

    def __init__(
        self,
        name: str,
        space: Any,
        cells: Sequence[Cell],
        metrics: Mapping[str, Any],
        target: str,
        *,
        hashes: Any = None,
        runs: RunTable | None = None,
        info: Mapping[str, Any] | None = None,
    ) -> None:
        self.name = str(name)
        self.space = space
        self.cells = list(cells)
        n_cells = len(self.cells)
        self.metrics = {
            str(key): _aligned(value, f"metric {key!r}", n_cells, np.float64)
            for key, value in metrics.items()
        }
        if target not in self.metrics:
            raise ValueError(f"target {target!r} is not a metric; metrics are {list(self.metrics)}")
        self.target = str(target)
        if runs is not None and len(runs.values) != n_cells:
            raise ValueError(f"runs has {len(runs.values)} rows for {n_cells} cells")
        self.runs = runs
        self.info = {
            str(key): _aligned(value, f"info {key!r}", n_cells, None)
            for key, value in (info or {}).items()
        }
        self._hashes = None if hashes is None else _aligned(hashes, "hashes", n_cells, str)
        self._sorted_hashes: np.ndarray | None = None
        self._hash_order: np.ndarray | None = None
        self._exact: dict[Cell, int] | None = None

    # -- basic access ----------------------------------------------------------

    def __len__(self) -> int:
        return len(self.cells)

    @property
    def y(self) -> np.ndarray:
        """Values of the default metric, ``metrics[target]`` (read-only)."""
        return self.metrics[self.target]

    @property
    def hashes(self) -> np.ndarray:
        """Canonical hash of every cell, ``space.hash_many(cells)``, as strings."""
        if self._hashes is None:
            hashes = np.asarray(self.space.hash_many(self.cells)).astype(str)
            self._hashes = _aligned(hashes, "hashes", len(self), str)
        return self._hashes

    def __repr__(self) -> str:
        text = (
            f"Benchmark({self.name!r}, n_cells={len(self)}, target={self.target!r}, "
            f"metrics={list(self.metrics)}"
        )
        if self.runs is not None:
            text += f", runs={self.runs!r}"
        return text + ")"

    # -- look-up ---------------------------------------------------------------

    def locate(self, cells: Any) -> np.ndarray:
        """Row of each queried cell in this benchmark.

        Parameters
        ----------
        cells : sequence of cells
            Any spelling :func:`skassess.as_cells` accepts, in any vertex order.

        Returns
        -------
        ndarray of int, shape (n_queried,)

        Raises
        ------
        UnknownCellError
            A :class:`KeyError`, for a cell that is not in the benchmark or not
            a valid cell of its space; the message names the first such cell
            and its position.
        TypeError
            If ``cells`` is a single cell rather than a sequence of cells.
        """
        vocabulary = None if self.space is None else _Vocabulary(self.space)
        try:
            cells = as_cells(cells, space=vocabulary)  # parse only: hashing validates
        except InvalidCellError as exc:
            raise UnknownCellError(f"{exc}; it cannot be in {self.name}") from None
        if self._sorted_hashes is None:
            self._build_index()
        rows = np.empty(len(cells), dtype=np.intp)
        pending = []
        for position, cell in enumerate(cells):
            row = self._exact.get(cell) if self._exact is not None else None
            if row is None:
                pending.append(position)
            else:
                rows[position] = row
        if pending:
            keys = self._hash(cells, pending)
            found = np.searchsorted(self._sorted_hashes, keys)
            found = np.minimum(found, max(len(self) - 1, 0))
            missing = self._sorted_hashes[found] != keys if len(self) else np.ones(len(keys), bool)
            if missing.any():
                first = int(np.argmax(missing))
                position = pending[first]
                raise UnknownCellError(
                    f"cell {position} is not in {self.name} (canonical hash {keys[first]}): "
                    f"{cells[position]!r}"
                )
            rows[pending] = self._hash_order[found]
        return rows

    def _hash(self, cells: list[Cell], positions: list[int]) -> np.ndarray:
        """Canonical hashes of some query cells, validating them on the way."""
        if len(positions) > _VECTORISE_FROM:
            try:
                return np.asarray(self.space.hash_many([cells[p] for p in positions])).astype(str)
            except InvalidCellError:
                pass  # find and name the first invalid cell below
        keys = []
        for position in positions:
            try:
                keys.append(self.space.hash(cells[position]))
            except InvalidCellError as exc:
                raise UnknownCellError(
                    f"cell {position}: {exc}; it cannot be in {self.name}"
                ) from None
        return np.asarray(keys, dtype=str)

    def query(self, cells: Any, metric: str | None = None) -> np.ndarray:
        """Look up a metric of some cells.

        Parameters
        ----------
        cells : sequence of cells
            Any spelling :func:`skassess.as_cells` accepts, in any vertex order.
        metric : str, optional
            A key of :attr:`metrics`; defaults to :attr:`target`.

        Returns
        -------
        ndarray of shape (n_queried,)

        Raises
        ------
        UnknownCellError
            A :class:`KeyError`, for a cell not in the benchmark.
        KeyError
            For an unknown metric.
        """
        values = self._metric(metric)
        return values[self.locate(cells)]

    def _metric(self, metric: str | None) -> np.ndarray:
        name = self.target if metric is None else metric
        try:
            return self.metrics[name]
        except KeyError:
            raise KeyError(
                f"{self.name} has no metric {name!r}; metrics are {list(self.metrics)}"
            ) from None

    def _build_index(self) -> None:
        """Sort the hashes once; a look-up is then a binary search."""
        hashes = self.hashes
        if (hashes[1:] >= hashes[:-1]).all():  # NAS-Bench-101 comes sorted by hash
            order = np.arange(len(hashes))
        else:
            order = np.argsort(hashes, kind="stable")  # the first of equal hashes first
        sorted_hashes = hashes[order]
        if (sorted_hashes[1:] == sorted_hashes[:-1]).any():
            # Isomorphic cells listed separately: an exact (labelled) match wins.
            n_cells = len(self.cells)
            rows = range(n_cells - 1, -1, -1)
            self._exact = dict(zip(reversed(self.cells), rows, strict=True))
        self._hash_order, self._sorted_hashes = order, sorted_hashes

    # -- subsets ---------------------------------------------------------------

    def subset(self, indices: Any) -> Benchmark:
        """A benchmark of some of the cells, in the order given.

        Parameters
        ----------
        indices : array-like of int, or boolean mask of shape (n_cells,)

        Returns
        -------
        Benchmark
        """
        rows = _as_rows(indices, len(self))
        return Benchmark(
            self.name,
            self.space,
            [self.cells[row] for row in rows.tolist()],
            {key: value[rows] for key, value in self.metrics.items()},
            self.target,
            hashes=None if self._hashes is None else self._hashes[rows],
            runs=None if self.runs is None else self.runs.take(rows),
            info={key: value[rows] for key, value in self.info.items()},
        )

    def sample(self, n: int, random_state: Any = None) -> Benchmark:
        """A uniformly random subset of ``n`` distinct cells, in random order.

        Parameters
        ----------
        n : int
            Number of cells, at most ``len(self)``.
        random_state : int, RandomState instance or None, default=None
            Controls the draw; pass an int for reproducible output.

        Returns
        -------
        Benchmark
        """
        n = check_int(n, "n", minimum=0, maximum=len(self))
        rng = check_random_state(random_state)
        return self.subset(rng.choice(len(self), size=n, replace=False))

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_sorted_hashes"] = state["_hash_order"] = state["_exact"] = None  # rebuilt
        return state


def _aligned(values: Any, what: str, n_cells: int, dtype: Any) -> np.ndarray:
    array = np.array(values, dtype=dtype, copy=True)
    if array.ndim != 1 or len(array) != n_cells:
        raise ValueError(f"{what} must have shape ({n_cells},), got {array.shape}")
    array.flags.writeable = False
    return array


def _as_rows(indices: Any, n_cells: int) -> np.ndarray:
    rows = np.asarray(indices)
    if rows.dtype == bool:
        if rows.shape != (n_cells,):
            raise IndexError(f"a boolean mask must have shape ({n_cells},), got {rows.shape}")
        return np.flatnonzero(rows)
    if rows.size == 0:
        return np.zeros(0, dtype=np.intp)
    if rows.ndim != 1 or not np.issubdtype(rows.dtype, np.integer):
        raise IndexError(f"indices must be a 1-d array of integers or a boolean mask, got {rows!r}")
    if rows.min() < -n_cells or rows.max() >= n_cells:
        raise IndexError(f"indices out of range for a benchmark of {n_cells} cells")
    return rows.astype(np.intp) % n_cells
