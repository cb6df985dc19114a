"""Cross-validation splitters for semi-supervised regression.

Unlabeled rows (``y`` is NaN) can never be scored, and a semi-supervised
estimator should see all of them whenever it is fitted. These splitters
therefore put only labeled rows in test folds and keep every unlabeled row in
every training fold, so that :func:`sklearn.model_selection.cross_val_score`
and :class:`~sklearn.model_selection.GridSearchCV` work on semi-supervised data
unchanged.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
from sklearn.model_selection import BaseCrossValidator, KFold, ShuffleSplit
from sklearn.utils import indexable
from sklearn.utils.validation import _num_samples

from skassess.utils.validation import labeled_mask


def _labeled_rows(X: Any, y: Any, splitter: str) -> tuple[int, np.ndarray]:
    """Number of rows and the labeled ones: every output not NaN, for a 2-D ``y``."""
    if y is None:
        raise ValueError(
            f"{splitter}.split needs y, to tell labeled rows (a number) from unlabeled ones (NaN)"
        )
    X, y = indexable(X, y)
    if np.ndim(y) not in (1, 2):
        raise ValueError(f"{splitter} needs a 1-D or 2-D y, got shape {np.shape(y)}")
    return _num_samples(X), np.flatnonzero(labeled_mask(y))


def _split_labeled(
    n_samples: int, labeled: np.ndarray, labeled_splits: Iterator[tuple[np.ndarray, np.ndarray]]
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Map splits of the labeled rows to splits of all rows, unlabeled in train."""
    for train, test in labeled_splits:
        test_rows = np.sort(labeled[test])
        in_train = np.ones(n_samples, dtype=bool)
        in_train[labeled] = False
        in_train[labeled[train]] = True
        yield np.flatnonzero(in_train), test_rows


class SemiSupervisedKFold(BaseCrossValidator):
    """K-fold cross-validation over the labeled rows; unlabeled rows always train.

    The labeled rows (``y`` not NaN) are split into ``n_splits`` folds as
    :class:`~sklearn.model_selection.KFold` would split them; each test fold
    holds labeled rows only, and its training set is every other row: the
    other labeled folds and all unlabeled rows.

    Parameters
    ----------
    n_splits : int, default=5
        Number of folds, at least 2 and at most the number of labeled rows.
    shuffle : bool, default=False
        Whether to shuffle the labeled rows before splitting them.
    random_state : int, RandomState instance or None, default=None
        Controls the shuffling; ignored when ``shuffle`` is False (where
        :class:`~sklearn.model_selection.KFold` raises instead, since a
        meta-estimator such as ``StackingRegressor`` sets it on any splitter).

    See Also
    --------
    SemiSupervisedShuffleSplit : Random labeled test sets, and learning curves.

    Examples
    --------
    >>> import numpy as np
    >>> from skassess.model_selection import SemiSupervisedKFold
    >>> y = np.array([0.9, np.nan, 0.8, np.nan, 0.7, 0.6])
    >>> for train, test in SemiSupervisedKFold(n_splits=2).split(np.zeros(6), y):
    ...     print(train, test)
    [1 3 4 5] [0 2]
    [0 1 2 3] [4 5]
    """

    def __init__(self, n_splits: int = 5, *, shuffle: bool = False, random_state: Any = None):
        self.n_splits = n_splits
        self.shuffle = shuffle
        self.random_state = random_state

    def split(
        self, X: Any, y: Any = None, groups: Any = None
    ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Generate train and test indices.

        Parameters
        ----------
        X : sequence of length n_samples
            The samples (cells, or feature rows); only their number is used.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Targets, NaN for unlabeled rows (a row is labeled when every
            output is). Required.
        groups : None
            Ignored.

        Yields
        ------
        train : ndarray
            Labeled rows of the other folds and every unlabeled row.
        test : ndarray
            Labeled rows of this fold.
        """
        n_samples, labeled = _labeled_rows(X, y, type(self).__name__)
        if len(labeled) < self.n_splits:
            raise ValueError(
                f"cannot split {len(labeled)} labeled rows (y not NaN) into "
                f"n_splits={self.n_splits} folds"
            )
        random_state = self.random_state if self.shuffle else None
        folds = KFold(self.n_splits, shuffle=self.shuffle, random_state=random_state)
        yield from _split_labeled(n_samples, labeled, folds.split(labeled))

    def get_n_splits(self, X: Any = None, y: Any = None, groups: Any = None) -> int:
        """Number of splits, ``n_splits``.

        Parameters
        ----------
        X, y, groups : object
            Ignored.

        Returns
        -------
        int
        """
        return self.n_splits


class SemiSupervisedShuffleSplit(BaseCrossValidator):
    """Random labeled test sets; unlabeled rows always train.

    Each split draws a test set from the labeled rows (``y`` not NaN), as
    :class:`~sklearn.model_selection.ShuffleSplit` would; the training set is
    every unlabeled row plus the remaining labeled rows, or ``train_size`` of
    them, which makes learning curves over the number of labels easy.

    Parameters
    ----------
    n_splits : int, default=10
        Number of re-shuffling and splitting iterations.
    test_size : float or int, default=None
        A float in (0, 1) is a fraction of the labeled rows, an int a count.
        None means the complement of ``train_size``, or 0.1 if that is None too.
    train_size : float or int, default=None
        Labeled rows kept for training (fraction or count); None keeps all the
        labeled rows outside the test set. Unlabeled rows are always kept.
    random_state : int, RandomState instance or None, default=None
        Controls the randomness of the splits.

    See Also
    --------
    SemiSupervisedKFold : Every labeled row tested exactly once.

    Examples
    --------
    >>> import numpy as np
    >>> from skassess.model_selection import SemiSupervisedShuffleSplit
    >>> y = np.array([0.9, np.nan, 0.8, np.nan, 0.7, 0.6])
    >>> cv = SemiSupervisedShuffleSplit(n_splits=3, test_size=2, random_state=0)
    >>> [len(test) for _, test in cv.split(np.zeros(6), y)]
    [2, 2, 2]
    """

    def __init__(
        self,
        n_splits: int = 10,
        *,
        test_size: float | int | None = None,
        train_size: float | int | None = None,
        random_state: Any = None,
    ):
        self.n_splits = n_splits
        self.test_size = test_size
        self.train_size = train_size
        self.random_state = random_state

    def split(
        self, X: Any, y: Any = None, groups: Any = None
    ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Generate train and test indices.

        Parameters
        ----------
        X : sequence of length n_samples
            The samples (cells, or feature rows); only their number is used.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Targets, NaN for unlabeled rows (a row is labeled when every
            output is). Required.
        groups : None
            Ignored.

        Yields
        ------
        train : ndarray
            Every unlabeled row and the labeled training rows.
        test : ndarray
            Labeled rows drawn for testing.
        """
        n_samples, labeled = _labeled_rows(X, y, type(self).__name__)
        splitter = ShuffleSplit(
            self.n_splits,
            test_size=self.test_size,
            train_size=self.train_size,
            random_state=self.random_state,
        )
        try:
            labeled_splits = list(splitter.split(labeled))
        except ValueError as exc:
            raise ValueError(f"{exc} (n_samples here counts the labeled rows only)") from None
        yield from _split_labeled(n_samples, labeled, iter(labeled_splits))

    def get_n_splits(self, X: Any = None, y: Any = None, groups: Any = None) -> int:
        """Number of splits, ``n_splits``.

        Parameters
        ----------
        X, y, groups : object
            Ignored.

        Returns
        -------
        int
        """
        return self.n_splits
