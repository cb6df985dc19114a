"""What every search strategy shares: the budget, the record, the look-ups.

A search talks to a benchmark only through :class:`_Oracle`, which plays the
part of the expensive training: it answers "how good is this architecture?"
from the benchmark table, charges one unit of budget per *new* architecture and
records the answer. Asking again about an architecture already trained is free
and leaves the record unchanged: the NAS-Bench convention of counting unique
trainings (Ying et al., 2019), since a real search would keep a cache.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator

from skassess._cell import Cell
from skassess.search._result import Query, SearchResult
from skassess.utils.validation import check_positive_int

__all__ = ["BaseSearch"]


def _metric_values(benchmark: Any, metric: str | None) -> tuple[str, np.ndarray]:
    """The searched metric's name and values, aligned with ``benchmark.cells``."""
    if metric is None:
        name = getattr(benchmark, "target", None) or "target"
        values = benchmark.y
    else:
        metrics = getattr(benchmark, "metrics", {})
        if metric not in metrics:
            known = ", ".join(sorted(metrics)) or "none"
            raise ValueError(f"unknown metric {metric!r}; this benchmark has: {known}")
        name, values = metric, metrics[metric]
    values = np.asarray(values, dtype=float)
    if values.shape != (len(benchmark.cells),):
        raise ValueError(
            f"the metric has shape {values.shape}, expected one value per cell "
            f"({len(benchmark.cells)})"
        )
    return name, values


class _Oracle:
    """Budgeted, recorded access to a benchmark's true performance values.

    Architectures whose metric is NaN (not measured) are not searchable: they
    are neither sampled nor returned by :meth:`index_of`.
    """

    def __init__(
        self,
        benchmark: Any,
        budget: int,
        metric: str | None,
        method: str,
        callback: Callable[[Query], Any] | None = None,
    ) -> None:
        self.benchmark = benchmark
        self.cells = benchmark.cells
        self.metric, self.values = _metric_values(benchmark, metric)
        self.searchable = np.isfinite(self.values)
        if not self.searchable.any():
            raise ValueError(f"the metric {self.metric!r} is NaN for every architecture")
        self.queried = np.zeros(len(self.values), dtype=bool)
        self._n_left_in_space = int(np.count_nonzero(self.searchable))
        self.callback = callback
        self.result = SearchResult(
            method=method,
            benchmark=str(getattr(benchmark, "name", type(benchmark).__name__)),
            metric=self.metric,
            budget=budget,
        )
        self._hashes: Any = None  # every cell's hash, fetched when a look-up by cell needs it
        self._index_by_hash: dict[str, int] | None = None
        self._index_by_cell: dict[Cell, int | None] = {}  # memo of index_of
        self._start = time.perf_counter()

    @property
    def n_queries(self) -> int:
        return len(self.result.history)

    @property
    def remaining(self) -> int:
        """Trainings left: the budget minus those paid, or fewer if the space runs out."""
        return max(0, min(self.result.budget - self.n_queries, self._n_left_in_space))

    @property
    def done(self) -> bool:
        return self.remaining == 0

    def unqueried(self) -> np.ndarray:
        """Rows that are searchable and not yet trained, ascending."""
        return np.flatnonzero(self.searchable & ~self.queried)

    def queried_indices(self) -> np.ndarray:
        """Rows trained so far, in query order."""
        return self.result.indices

    def hashes(self, rows: np.ndarray) -> np.ndarray:
        """Canonical hashes of rows ``rows``."""
        return np.asarray(self._all_hashes())[rows]

    def hash_of(self, index: int) -> str:
        """Canonical hash of row ``index``, without hashing the whole benchmark for it."""
        space = getattr(self.benchmark, "space", None)
        if self._hashes is None and space is not None:
            return str(space.hash(self.cells[index]))
        return str(self._all_hashes()[index])

    def _all_hashes(self) -> Any:
        if self._hashes is None:
            hashes = getattr(self.benchmark, "hashes", None)
            if hashes is None:
                hashes = self.benchmark.space.hash_many(self.cells)
            self._hashes = hashes
        return self._hashes

    def index_of(self, cell: Cell) -> int | None:
        """Row of ``cell`` in the benchmark (by canonical hash), or None if absent."""
        if self._index_by_hash is None:
            hashes = self._all_hashes()
            index_by_hash: dict[str, int] = {}
            for row in np.flatnonzero(self.searchable):
                index_by_hash.setdefault(str(hashes[row]), int(row))
            self._index_by_hash = index_by_hash
        if cell not in self._index_by_cell:  # mutations often find the same cell again
            canonical = str(self.benchmark.space.hash(cell))
            self._index_by_cell[cell] = self._index_by_hash.get(canonical)
        return self._index_by_cell[cell]

    def query(self, index: int) -> float:
        """True performance of row ``index``; charges the budget on the first ask only."""
        index = int(index)
        value = float(self.values[index])
        if self.queried[index]:
            self.result.n_repeated_queries += 1
            return value
        if self.done:
            raise RuntimeError("the search budget is spent")  # a bug of the strategy
        self.queried[index] = True
        self._n_left_in_space -= 1
        record = Query(
            step=self.n_queries,
            index=index,
            cell=self.cells[index],
            hash=self.hash_of(index),
            value=value,
            time=time.perf_counter() - self._start,
        )
        self.result.history.append(record)
        if self.callback is not None:
            self.callback(record)
        return value


def _check_budget(budget: Any) -> int:
    return check_positive_int(budget, "budget")


class BaseSearch(BaseEstimator):
    """Base class of the search strategies: parameters as in scikit-learn, one ``run`` method.

    A search is configured by its constructor parameters (``get_params``,
    ``set_params`` and ``clone`` work as for estimators) and carried out by
    :meth:`run`, which returns a :class:`SearchResult` and leaves the search
    object unchanged, so the same object can be run on several benchmarks or
    budgets.
    """

    def run(
        self,
        benchmark: Any,
        budget: int,
        *,
        metric: str | None = None,
        callback: Callable[[Query], Any] | None = None,
    ) -> SearchResult:
        """Search ``benchmark`` for its best architecture with ``budget`` trainings.

        Parameters
        ----------
        benchmark : Benchmark
            A table of trained architectures, e.g. from
            ``skassess.datasets.load_nasbench101``: it needs ``cells``, ``y``
            (or ``metrics``), ``space`` and, optionally, ``hashes`` and ``name``.
        budget : int
            Number of distinct architectures the search may train (look up).
        metric : str, optional
            Which of ``benchmark.metrics`` to maximise; default ``benchmark.y``.
        callback : callable, optional
            Called with each new :class:`Query` right after it is made (for
            progress bars or logging).

        Returns
        -------
        SearchResult
            Every training in order; ``len(result) == budget`` unless the
            benchmark has fewer searchable architectures.
        """
        budget = _check_budget(budget)
        self._check_params()
        oracle = _Oracle(benchmark, budget, metric, type(self).__name__, callback)
        self._search(oracle)
        return oracle.result

    def _check_params(self) -> None:
        """Validate the constructor parameters against ``_parameter_constraints``."""
        self._validate_params()

    def _search(self, oracle: _Oracle) -> None:  # pragma: no cover - abstract
        raise NotImplementedError
