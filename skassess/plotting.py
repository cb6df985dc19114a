"""Figures for assessors and searches, with matplotlib's object-oriented API.

The functions draw on an :class:`~matplotlib.axes.Axes` you pass, or on a new
figure that is not registered with :mod:`matplotlib.pyplot` (so they work on
machines without a display and never change the pyplot state of your program),
and return the axes. :func:`save_figure` writes a figure to a file.

- :func:`plot_predicted_vs_true`: a scatter of predictions against true values.
- :func:`plot_best_so_far`: search curves, median and spread over seeds.
- :func:`plot_tau_vs_labeled`: ranking quality against the number of labels.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["plot_best_so_far", "plot_predicted_vs_true", "plot_tau_vs_labeled", "save_figure"]


def _new_axes(ax: Any, figsize: tuple[float, float]) -> Any:
    if ax is not None:
        return ax
    from matplotlib.figure import Figure

    return Figure(figsize=figsize, layout="constrained").add_subplot()


def save_figure(ax_or_figure: Any, path: str | os.PathLike, *, dpi: int = 120) -> Path:
    """Write the figure of ``ax_or_figure`` to ``path`` (format from the suffix).

    Parameters
    ----------
    ax_or_figure : Axes or Figure
    path : str or path-like
        Parent folders are created.
    dpi : int, default=120

    Returns
    -------
    pathlib.Path
        The path written.
    """
    figure = getattr(ax_or_figure, "figure", ax_or_figure)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=dpi)
    return path


def plot_predicted_vs_true(
    y_true: Sequence[float] | np.ndarray,
    y_pred: Sequence[float] | np.ndarray,
    *,
    ax: Any = None,
    highlight: Sequence[int] | np.ndarray | None = None,
    title: str | None = None,
    xlabel: str = "true performance",
    ylabel: str = "predicted score",
) -> Any:
    """Scatter predictions against true values, one point per architecture.

    Rows with a NaN on either side are left out.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
    ax : Axes, optional
        Where to draw; a new figure by default.
    highlight : array-like of int, optional
        Positions to mark (e.g. the top predicted architectures).
    title, xlabel, ylabel : str

    Returns
    -------
    Axes

    Examples
    --------
    >>> ax = plot_predicted_vs_true([0.1, 0.5, 0.9], [0.2, 0.4, 0.8], title="toy")
    >>> len(ax.collections)
    1
    """
    y_true = np.asarray(y_true, dtype=float)
    y_pred = np.asarray(y_pred, dtype=float)
    if y_true.shape != y_pred.shape or y_true.ndim != 1:
        raise ValueError(
            f"y_true and y_pred must be 1-d of the same length, got {y_true.shape} and "
            f"{y_pred.shape}"
        )
    ax = _new_axes(ax, (5.0, 4.5))
    finite = np.isfinite(y_true) & np.isfinite(y_pred)
    size = 4.0 if finite.sum() > 2000 else 12.0
    ax.scatter(y_true[finite], y_pred[finite], s=size, alpha=0.5, linewidths=0)
    if highlight is not None and len(highlight):
        highlight = np.asarray(highlight, dtype=int)
        ax.scatter(
            y_true[highlight],
            y_pred[highlight],
            s=40,
            facecolors="none",
            edgecolors="tab:red",
            label="top predicted",
        )
        ax.legend(loc="lower right")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.grid(alpha=0.3)
    return ax


def plot_best_so_far(
    curves: Mapping[str, Sequence[Sequence[float]] | np.ndarray],
    *,
    ax: Any = None,
    spread: tuple[float, float] = (25.0, 75.0),
    log_x: bool = False,
    title: str | None = None,
    xlabel: str = "trained architectures (queries)",
    ylabel: str = "best performance found",
) -> Any:
    """Median best-so-far curve of each method over seeds, with a shaded spread.

    Parameters
    ----------
    curves : mapping of str to array-like of shape (n_seeds, n_queries)
        One entry per method, e.g. ``{"random": [result.best_so_far() for result
        in results]}``. Runs shorter than the longest are padded with their last
        value (a finished search keeps its best). A 1-d array is one seed.
    ax : Axes, optional
    spread : (float, float), default=(25, 75)
        Percentiles bounding the shaded band.
    log_x : bool, default=False
    title, xlabel, ylabel : str

    Returns
    -------
    Axes

    Examples
    --------
    >>> ax = plot_best_so_far({"random": [[0.1, 0.5, 0.5], [0.3, 0.3, 0.9]]})
    >>> ax.get_lines()[0].get_ydata().tolist()
    [0.2, 0.4, 0.7]
    """
    ax = _new_axes(ax, (6.0, 4.0))
    for label, runs in curves.items():
        matrix = _pad_runs(runs, label)
        steps = np.arange(1, matrix.shape[1] + 1)
        (line,) = ax.plot(steps, np.median(matrix, axis=0), label=f"{label} (n={len(matrix)})")
        if len(matrix) > 1:
            low, high = np.percentile(matrix, spread, axis=0)
            ax.fill_between(steps, low, high, color=line.get_color(), alpha=0.2, linewidth=0)
    if log_x:
        ax.set_xscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    return ax


def _pad_runs(runs: Any, label: str) -> np.ndarray:
    if len(runs) and np.ndim(runs[0]) == 0:  # a single run
        runs = [runs]
    runs = [np.asarray(run, dtype=float) for run in runs]
    if not runs or any(run.ndim != 1 or run.size == 0 for run in runs):
        raise ValueError(f"curves[{label!r}] must hold non-empty 1-d runs")
    length = max(run.size for run in runs)
    return np.array([np.pad(run, (0, length - run.size), mode="edge") for run in runs])


def plot_tau_vs_labeled(
    results: Mapping[str, Mapping[int, Sequence[float]]],
    *,
    ax: Any = None,
    log_x: bool = True,
    title: str | None = None,
    ylabel: str = "Kendall tau",
) -> Any:
    """Ranking quality of each predictor against the number of labeled architectures.

    Parameters
    ----------
    results : mapping of str to mapping of int to sequence of float
        ``{predictor: {n_labeled: [tau of each seed or fold]}}``; the mean is
        drawn with the standard deviation as error bars.
    ax : Axes, optional
    log_x : bool, default=True
    title, ylabel : str

    Returns
    -------
    Axes

    Examples
    --------
    >>> ax = plot_tau_vs_labeled({"forest": {100: [0.5, 0.48], 1000: [0.6, 0.62]}})
    >>> ax.get_xlabel()
    'labeled architectures'
    """
    ax = _new_axes(ax, (6.0, 4.0))
    for label, by_size in results.items():
        sizes = sorted(by_size)
        means = [float(np.mean(by_size[size])) for size in sizes]
        stds = [float(np.std(by_size[size])) for size in sizes]
        ax.errorbar(sizes, means, yerr=stds, marker="o", capsize=3, label=label)
    if log_x:
        ax.set_xscale("log")
    ax.set_xlabel("labeled architectures")
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    return ax
