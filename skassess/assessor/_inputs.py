"""Validation of the cells and the partly unlabeled targets given to the assessors."""

from __future__ import annotations

from typing import Any

import numpy as np

from skassess._cell import Cell, as_cells
from skassess.baselines._labeled_only import labeled_r2_score as _labeled_r2_score

__all__ = ["check_cells", "check_partial_targets", "check_targets", "labeled_r2_score"]


def check_cells(X: Any, space: Any = None, *, min_cells: int = 1, what: str = "X") -> list[Cell]:
    """Normalise ``X`` to a list of cells and require at least ``min_cells``."""
    cells = as_cells(X, space)
    if len(cells) < min_cells:
        raise ValueError(
            f"{what} holds {len(cells)} cell(s), but at least {min_cells} are required"
        )
    return cells


def check_targets(y: Any, n_cells: int) -> np.ndarray:
    """A float64 vector of one target per cell; NaN marks an unlabeled cell.

    Raises
    ------
    ValueError
        If ``y`` is not 1-D or not numeric, has the wrong length, or holds an
        infinite value (the message names the first one).
    """
    try:
        target = np.asarray(y, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"y must be numeric (np.nan for unlabeled cells): {exc}") from None
    if target.ndim == 2 and target.shape[1] == 1:
        target = target[:, 0]
    if target.ndim != 1:
        raise ValueError(f"y must be 1-D, one target per cell; got shape {target.shape}")
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


def labeled_r2_score(estimator: Any, X: Any, y: Any, sample_weight: Any = None) -> float:
    """R^2 of ``estimator.predict(X)`` on the cells whose target is not NaN.

    Checks the cells and targets with the messages of the cell estimators, then
    scores as every skassess regressor does (``baselines._labeled_only.labeled_r2_score``).
    """
    cells = as_cells(X)
    target = check_targets(y, len(cells))
    return _labeled_r2_score(estimator, cells, target, sample_weight)
