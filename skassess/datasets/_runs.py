"""Per-run, per-epoch-budget results of a benchmark whose cells were trained repeatedly."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["RunTable"]


@dataclass(frozen=True, eq=False)
class RunTable:
    """Every training run of every cell, at every epoch budget.

    NAS-Bench-101 trained each cell three times at each of four epoch budgets
    (4, 12, 36 and 108 epochs, each a separate training with its own schedule).
    A benchmark's ``metrics`` hold means over the runs at one budget; this table
    keeps the runs themselves, for studying run-to-run noise or
    multi-fidelity methods.

    Parameters
    ----------
    values : ndarray of shape (n_cells, n_epochs, n_runs, n_metrics)
        NaN where a run is missing.
    epochs : sequence of int
        The epoch budgets, labels of axis 1, ascending.
    metrics : sequence of str
        Metric names, labels of axis 3.

    Examples
    --------
    >>> import numpy as np
    >>> values = np.arange(2 * 1 * 3 * 1, dtype=float).reshape(2, 1, 3, 1)
    >>> runs = RunTable(values, epochs=[108], metrics=["test_accuracy"])
    >>> runs.get("test_accuracy", epochs=108)
    array([[0., 1., 2.],
           [3., 4., 5.]])
    >>> runs.mean("test_accuracy")
    array([1., 4.])
    """

    values: np.ndarray
    epochs: tuple[int, ...]
    metrics: tuple[str, ...]

    def __post_init__(self) -> None:
        values = np.asarray(self.values)
        epochs = tuple(int(e) for e in self.epochs)
        metrics = tuple(str(m) for m in self.metrics)
        if values.ndim != 4:
            raise ValueError(
                f"values must have shape (n_cells, n_epochs, n_runs, n_metrics), got {values.shape}"
            )
        if values.shape[1] != len(epochs) or values.shape[3] != len(metrics):
            raise ValueError(
                f"values of shape {values.shape} do not match {len(epochs)} epoch budget(s) "
                f"and {len(metrics)} metric(s)"
            )
        values.flags.writeable = False
        object.__setattr__(self, "values", values)
        object.__setattr__(self, "epochs", epochs)
        object.__setattr__(self, "metrics", metrics)

    @property
    def n_runs(self) -> int:
        """Number of runs per cell and budget (the most any cell has)."""
        return self.values.shape[2]

    def get(self, metric: str, epochs: int = 108) -> np.ndarray:
        """Values of one metric at one epoch budget, shape (n_cells, n_runs).

        Raises
        ------
        KeyError
            If the metric or the budget is not in the table.
        """
        return self.values[:, self._epoch_index(epochs), :, self._metric_index(metric)]

    def mean(self, metric: str, epochs: int = 108) -> np.ndarray:
        """Mean over the available runs, shape (n_cells,); NaN where there is none."""
        values = self.get(metric, epochs).astype(np.float64)
        counts = np.sum(~np.isnan(values), axis=1)
        sums = np.nansum(values, axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)

    def take(self, indices: Any) -> RunTable:
        """The rows of some cells, in the order given."""
        return RunTable(self.values[indices], self.epochs, self.metrics)

    def _epoch_index(self, epochs: int) -> int:
        try:
            return self.epochs.index(int(epochs))
        except ValueError:
            raise KeyError(
                f"no runs at {epochs} epochs; the table has budgets {list(self.epochs)}"
            ) from None

    def _metric_index(self, metric: str) -> int:
        try:
            return self.metrics.index(metric)
        except ValueError:
            raise KeyError(f"no metric {metric!r}; the table has {list(self.metrics)}") from None

    def __repr__(self) -> str:
        n_cells, _, n_runs, _ = self.values.shape
        return (
            f"RunTable(n_cells={n_cells}, epochs={list(self.epochs)}, n_runs={n_runs}, "
            f"metrics={list(self.metrics)})"
        )
