"""The record of a search: every training it paid for, in order."""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from skassess._cell import Cell

__all__ = ["Query", "SearchResult"]


@dataclass(frozen=True)
class Query:
    """One training: an architecture whose true performance a search looked up.

    Attributes
    ----------
    step : int
        Position in the search, from 0; also the number of trainings paid before it.
    index : int
        Row of the architecture in the benchmark.
    cell : Cell
        The architecture.
    hash : str
        Its canonical hash in the benchmark's space.
    value : float
        Its true performance (the searched metric).
    time : float
        Wall-clock seconds from the start of the run to this query, predictor
        fitting included.
    """

    step: int
    index: int
    cell: Cell
    hash: str
    value: float
    time: float

    def to_record(self) -> dict[str, Any]:
        """The query as a JSON-ready dict; the cell as its ``matrix`` and ``ops``."""
        return {
            "step": self.step,
            "index": self.index,
            "hash": self.hash,
            "value": self.value,
            "time": self.time,
            **self.cell.to_dict(),
        }


@dataclass
class SearchResult:
    """What a search did: its queries in order and how good the best one was over time.

    Attributes
    ----------
    method : str
        Name of the search strategy, e.g. ``"RandomSearch"``.
    benchmark : str
        Name of the benchmark searched.
    metric : str
        The metric the search maximised.
    budget : int
        Trainings the search was allowed.
    history : list of Query
        Every training, in order. Its length is ``budget`` unless the benchmark ran
        out of architectures first.
    n_repeated_queries : int
        Look-ups of architectures already trained (evolution revisits some); they are
        answered from the record, cost no budget and are not in ``history``.

    Examples
    --------
    >>> from skassess import Cell
    >>> from skassess.search import Query, SearchResult
    >>> cell = Cell([[0, 1], [0, 0]], ["input", "output"])
    >>> history = [Query(i, i, cell, f"h{i}", v, 0.0) for i, v in enumerate([0.3, 0.9, 0.5])]
    >>> SearchResult("demo", "toy", "acc", 3, history).best_so_far()
    array([0.3, 0.9, 0.9])
    """

    method: str
    benchmark: str
    metric: str
    budget: int
    history: list[Query] = field(default_factory=list)
    n_repeated_queries: int = 0

    def __len__(self) -> int:
        return len(self.history)

    @property
    def values(self) -> np.ndarray:
        """True performance of each query, in query order."""
        return np.array([query.value for query in self.history], dtype=float)

    @property
    def indices(self) -> np.ndarray:
        """Benchmark row of each query, in query order."""
        return np.array([query.index for query in self.history], dtype=np.int64)

    @property
    def best(self) -> Query:
        """The best query found (the first one on ties)."""
        if not self.history:
            raise ValueError("the search made no query")
        return self.history[int(np.argmax(self.values))]

    def best_so_far(self) -> np.ndarray:
        """Best true performance after each query: a non-decreasing curve.

        Returns
        -------
        ndarray of shape (len(history),)
            Element ``i`` is the best value among queries ``0..i``.
        """
        values = self.values
        return np.maximum.accumulate(values) if values.size else values

    def rank_so_far(self, reference: Sequence[float] | np.ndarray) -> np.ndarray:
        """Rank of the best-so-far architecture among ``reference`` values, after each query.

        Parameters
        ----------
        reference : array-like of float
            The metric over the whole space (e.g. ``benchmark.y``); NaNs are ignored.

        Returns
        -------
        ndarray of int of shape (len(history),)
            1 means the best architecture of the space was found; a value ``v``
            ranks ``1 + (number of reference values strictly greater than v)``.
        """
        reference = np.asarray(reference, dtype=float)
        reference = np.sort(reference[np.isfinite(reference)])
        best = self.best_so_far()
        return reference.size - np.searchsorted(reference, best, side="right") + 1

    def to_records(self) -> list[dict[str, Any]]:
        """Every query as a JSON-ready dict (see :meth:`Query.to_record`)."""
        return [query.to_record() for query in self.history]

    def to_dict(self) -> dict[str, Any]:
        """The whole result as a JSON-ready dict."""
        return {
            "method": self.method,
            "benchmark": self.benchmark,
            "metric": self.metric,
            "budget": self.budget,
            "n_queries": len(self.history),
            "n_repeated_queries": self.n_repeated_queries,
            "best_value": float(self.best.value) if self.history else None,
            "best_so_far": self.best_so_far().tolist(),
            "queries": self.to_records(),
        }

    def to_json(self, path: str | os.PathLike) -> None:
        """Write :meth:`to_dict` to ``path`` as JSON."""
        with open(path, "w", encoding="utf-8") as stream:
            json.dump(self.to_dict(), stream, indent=1)

    def to_csv(self, path: str | os.PathLike) -> None:
        """Write the query log to ``path``, one row per query.

        Columns: ``step, index, hash, value, best_so_far, time, matrix, ops``;
        ``matrix`` and ``ops`` are JSON-encoded.
        """
        columns = ["step", "index", "hash", "value", "best_so_far", "time", "matrix", "ops"]
        with open(path, "w", encoding="utf-8", newline="") as stream:
            writer = csv.writer(stream)
            writer.writerow(columns)
            for query, best in zip(self.history, self.best_so_far(), strict=True):
                writer.writerow(
                    [
                        query.step,
                        query.index,
                        query.hash,
                        repr(float(query.value)),
                        repr(float(best)),
                        f"{query.time:.6f}",
                        json.dumps(query.cell.matrix.tolist()),
                        json.dumps(list(query.cell.ops)),
                    ]
                )
