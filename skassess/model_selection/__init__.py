"""Model selection for semi-supervised data: test on labeled rows, train on all.

- :class:`SemiSupervisedKFold`, :class:`SemiSupervisedShuffleSplit`: splitters
  whose test folds hold labeled rows only and whose training folds keep every
  unlabeled row; they plug into scikit-learn's ``cross_val_score``,
  ``cross_validate`` and ``GridSearchCV`` as ``cv=...``.
- :func:`cross_val_predict`: out-of-fold predictions for the labeled rows.
- :func:`learning_curve`: scores against the number of labels, the unlabeled
  pool kept whole.
- :func:`permutation_test_score`: targets shuffled among the labeled rows only.

Use them with the scorers of :mod:`skassess.metrics`, or with the default
``score`` of skassess's predictors (Kendall tau).
"""

from skassess.model_selection._split import SemiSupervisedKFold, SemiSupervisedShuffleSplit
from skassess.model_selection._validation import (
    cross_val_predict,
    learning_curve,
    permutation_test_score,
)

__all__ = [
    "SemiSupervisedKFold",
    "SemiSupervisedShuffleSplit",
    "cross_val_predict",
    "learning_curve",
    "permutation_test_score",
]
