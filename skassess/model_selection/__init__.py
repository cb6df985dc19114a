"""Cross-validation for semi-supervised data: test on labeled rows, train on all.

- :class:`SemiSupervisedKFold`
- :class:`SemiSupervisedShuffleSplit`

Both plug into scikit-learn's ``cross_val_score``, ``cross_validate`` and
``GridSearchCV`` as ``cv=...``; use them with the scorers of
:mod:`skassess.metrics`.
"""

from skassess.model_selection._split import SemiSupervisedKFold, SemiSupervisedShuffleSplit

__all__ = ["SemiSupervisedKFold", "SemiSupervisedShuffleSplit"]
