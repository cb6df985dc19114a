"""Utilities for developers of architecture estimators.

- :mod:`skassess.utils.estimator_checks`: common checks for estimators whose
  input is a sequence of cells.
"""
