"""Utilities for developers of architecture estimators.

- :func:`uses_unlabeled` and :func:`mark_uses_unlabeled`: the estimator tag
  saying that ``fit`` learns from unlabeled rows (targets ``NaN``), see
  :mod:`skassess.utils.tags`.
- :mod:`skassess.utils.estimator_checks`: common checks for estimators whose
  input is a sequence of cells.
"""

from skassess.utils.tags import mark_uses_unlabeled, uses_unlabeled

__all__ = ["mark_uses_unlabeled", "uses_unlabeled"]
