"""Validation of what skassess's estimators are given: cells and partly unlabeled targets.

Semi-supervised regression marks an unlabeled row with a NaN target. Every
estimator, metric and splitter checks its inputs with these functions, so a
mistake gets the same clear message wherever it is made.
"""

from __future__ import annotations

from numbers import Integral
from typing import Any

import numpy as np
from sklearn.metrics import r2_score
from sklearn.utils import _safe_indexing, indexable
from sklearn.utils.validation import _check_sample_weight, check_array

from skassess._cell import Cell, as_cell, cell_sequence

__all__ = [
    "as_1d_float",
    "check_cells",
    "check_not_cells",
    "check_int",
    "check_positive_int",
    "check_partial_targets",
    "check_targets",
    "indexable_rows",
    "labeled_mask",
    "labeled_predictions",
    "labeled_r2_score",
]


def check_cells(X: Any, space: Any = None, *, min_cells: int = 1, what: str = "X") -> list[Cell]:
    """The cells of ``X``, validated and pruned when their space is known; at least ``min_cells``.

    What every cell estimator does with its ``X``, in ``fit`` and ``predict``
    alike. When the space is known (``space``, a Benchmark's, or the public
    space whose ops the cells use), every cell is validated against it and
    its vertices on no input -> output path are dropped, so that one
    architecture gets one prediction however it is written
    (:func:`skassess.spaces._inputs.prepare_cells`).

    Parameters
    ----------
    X : sequence of cells, one-column DataFrame, (n, 1) object array or Benchmark
        Any spelling :func:`skassess.as_cells` accepts; NAS-Bench-201
        architecture strings when the space is NAS-Bench-201.
    space : CellSpace, optional
    min_cells : int, default=1
    what : str, default="X"
        The name of ``X`` in the error message.

    Returns
    -------
    list of Cell

    Examples
    --------
    >>> ops = ["input", "conv3x3-bn-relu", "maxpool3x3", "output"]
    >>> dangling = ([[0, 1, 1, 0], [0, 0, 0, 1], [0, 0, 0, 0], [0, 0, 0, 0]], ops)
    >>> check_cells([dangling])[0].n_vertices  # a NAS-Bench-101 cell, pruned
    3
    """
    # The spaces use this module's integer checks: import them only when called.
    from skassess.spaces._inputs import prepare_cells

    cells = prepare_cells(X, space)
    if len(cells) < min_cells:
        raise ValueError(
            f"{what} holds {len(cells)} cell(s), but at least {min_cells} are required"
        )
    return cells


def check_not_cells(X: Any, estimator: Any, first: str = "ArchitectureEmbedder") -> None:
    """Raise a TypeError naming the step to put first if ``X`` holds cells.

    For estimators of numeric features (embeddings, encodings), which would
    otherwise fail deep inside with ``float() argument must be ... not 'Cell'``.

    Examples
    --------
    >>> from sklearn.linear_model import Ridge
    >>> cell = ([[0, 1], [0, 0]], ["input", "output"])
    >>> check_not_cells([cell], Ridge())
    Traceback (most recent call last):
    ...
    TypeError: Ridge takes numeric features, one row per cell, but X holds cells; put an ...
    """
    if isinstance(X, np.ndarray) and X.dtype != object:
        return
    try:
        items = cell_sequence(X)
        head = next(iter(items), None)
        if head is None or isinstance(head, int | float | np.number):
            return
        if not isinstance(head, str):
            as_cell(head)
    except Exception:  # not cells: the estimator's own validation words the error
        return
    name = type(estimator).__name__
    raise TypeError(
        f"{name} takes numeric features, one row per cell, but X holds cells; put an "
        f"{first} first: make_pipeline({first}(), {name}())"
    )


def as_1d_float(y: Any, name: str) -> np.ndarray:
    """``y`` as a 1-D float64 array (a single column is flattened); NaN and inf pass.

    Examples
    --------
    >>> as_1d_float([[0.5], [np.nan]], "y_true")
    array([0.5, nan])
    """
    try:
        array = np.asarray(y, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be an array of numbers (NaN for unlabeled): {exc}") from None
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {array.shape}")
    return array


def check_targets(y: Any, n_cells: int) -> np.ndarray:
    """A float64 vector of one target per cell; NaN marks an unlabeled cell.

    Raises
    ------
    ValueError
        If ``y`` is not 1-D or not numeric, has the wrong length, or holds an
        infinite value (the message names the first one).
    """
    target = as_1d_float(y, "y")
    if target.shape[0] != n_cells:
        raise ValueError(f"X holds {n_cells} cells but y holds {target.shape[0]} targets")
    infinite = np.flatnonzero(np.isinf(target))
    if infinite.size:
        raise ValueError(
            f"y holds an infinite value at position {infinite[0]}; mark unlabeled cells with np.nan"
        )
    return target


def check_partial_targets(y: Any, n_cells: int, *, min_labeled: int = 2) -> np.ndarray:
    """Like :func:`check_targets`, and require ``min_labeled`` distinct labeled targets."""
    target = check_targets(y, n_cells)
    labeled = target[~np.isnan(target)]
    if labeled.size < min_labeled:
        raise ValueError(
            f"y holds {labeled.size} labeled target(s) (the others are NaN); at least "
            f"{min_labeled} are required"
        )
    if np.ptp(labeled) == 0:
        raise ValueError("all labeled targets are equal; there is nothing to rank")
    return target


def labeled_mask(y: Any) -> np.ndarray:
    """Which rows of ``y`` are labeled: not NaN (every output, for 2-D ``y``).

    Parameters
    ----------
    y : array-like of shape (n_samples,) or (n_samples, n_outputs)

    Returns
    -------
    ndarray of bool, shape (n_samples,)
    """
    y = check_array(y, ensure_2d=False, ensure_all_finite="allow-nan", dtype=np.float64)
    return ~np.isnan(y.reshape(len(y), -1)).any(axis=1)


def labeled_predictions(
    estimator: Any, X: Any, y: Any, sample_weight: Any = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """``estimator.predict`` on the rows of ``X`` whose target is not NaN, and those targets.

    What a score compares: unlabeled rows have nothing to be compared with,
    and are not even predicted.

    Parameters
    ----------
    estimator : fitted regressor
    X : array-like or sequence of cells
    y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        True targets, NaN for unlabeled rows.
    sample_weight : array-like of shape (n_samples,), optional

    Returns
    -------
    y_true, y_pred : ndarray
        The labeled rows' targets and predictions.
    sample_weight : ndarray or None
        The labeled rows' weights.
    """
    X = indexable_rows(X)
    rows = np.flatnonzero(labeled_mask(y))
    if rows.size == 0:
        raise ValueError("every target is NaN; score needs labeled rows")
    weights = None if sample_weight is None else _check_sample_weight(sample_weight, X)[rows]
    y_pred = estimator.predict(_safe_indexing(X, rows))
    return np.asarray(y, dtype=np.float64)[rows], np.asarray(y_pred), weights


def indexable_rows(X: Any) -> Any:
    """``X`` in a form that ``sklearn.utils._safe_indexing`` takes: a Benchmark as its cells.

    Examples
    --------
    >>> indexable_rows([[0.0], [1.0]])
    [[0.0], [1.0]]
    """
    cells = getattr(X, "cells", None)
    if cells is not None and not hasattr(X, "__iter__"):
        return cells
    (X,) = indexable(X)
    return X


def labeled_r2_score(estimator: Any, X: Any, y: Any, sample_weight: Any = None) -> float:
    """R^2 of ``estimator.predict`` on the rows of ``X`` whose target is not NaN.

    A scorer (``scorer(estimator, X, y)``), ``get_scorer("r2")`` of
    :mod:`skassess.metrics`: the calibration of a predictor, where its
    ``score`` is the ranking (Kendall tau).

    Parameters
    ----------
    estimator : fitted regressor
    X : array-like or sequence of cells
    y : array-like of shape (n_samples,)
        True targets, NaN for unlabeled rows.
    sample_weight : array-like of shape (n_samples,), optional

    Returns
    -------
    float
    """
    y_true, y_pred, weights = labeled_predictions(estimator, X, y, sample_weight)
    return float(r2_score(y_true, y_pred, sample_weight=weights))


def check_int(
    value: Any,
    name: str,
    *,
    minimum: int = 1,
    maximum: int | None = None,
    allow_none: bool = False,
) -> int | None:
    """``value`` as an int if it is an integer in ``[minimum, maximum]`` (``None`` too, if allowed).

    For the arguments of functions and of objects that are not scikit-learn
    estimators (spaces, searches' ``run``, neighbour indexes, loaders);
    estimators declare theirs in ``_parameter_constraints``.

    Raises
    ------
    ValueError
        Saying what was expected: ``"{name} must be a positive integer"``
        (``minimum=1``), ``"a non-negative integer"`` (``minimum=0``), ``"an
        integer >= {minimum}"`` or ``"an integer in [{minimum}, {maximum}]"``,
        then what was given.

    Examples
    --------
    >>> check_int(3, "n_probe")
    3
    >>> check_int(0, "n", minimum=0, maximum=5)
    0
    """
    if value is None and allow_none:
        return None
    integer = isinstance(value, Integral) and not isinstance(value, bool)
    if integer and minimum <= value and (maximum is None or value <= maximum):
        return int(value)
    if maximum is not None:
        expected = f"an integer in [{minimum}, {maximum}]"
    elif minimum in (0, 1):
        expected = "a positive integer" if minimum == 1 else "a non-negative integer"
    else:
        expected = f"an integer >= {minimum}"
    raise ValueError(f"{name} must be {expected}, got {value!r}")


def check_positive_int(value: Any, name: str, *, allow_none: bool = False) -> int | None:
    """:func:`check_int` with ``minimum=1``.

    Examples
    --------
    >>> check_positive_int(3, "n_probe")
    3
    """
    return check_int(value, name, allow_none=allow_none)
