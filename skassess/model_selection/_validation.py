"""Model evaluation when most targets are unknown: predictions, learning curves, permutation tests.

scikit-learn's :func:`~sklearn.model_selection.cross_val_predict`,
:func:`~sklearn.model_selection.learning_curve` and
:func:`~sklearn.model_selection.permutation_test_score` treat every row alike.
With unlabeled architectures (target NaN) each goes wrong in its own way:
``cross_val_predict`` wants test folds that cover every row, ``learning_curve``
counts rows, so that its smallest training set of 16 rows may hold 3 labels
and a fraction of the unlabeled pool, and ``permutation_test_score`` moves the
NaN targets about with the labels. The functions here keep the unlabeled
architectures out of every test set and in every training set, whole, and
count, shuffle and score only the labeled ones.
"""

from __future__ import annotations

from collections.abc import Iterable
from numbers import Integral
from typing import Any

import numpy as np
from sklearn.base import clone
from sklearn.metrics import check_scoring
from sklearn.model_selection import cross_val_score
from sklearn.utils import _safe_indexing, check_random_state
from sklearn.utils.parallel import Parallel, delayed

from skassess.model_selection._split import SemiSupervisedKFold
from skassess.utils.validation import check_int, indexable_rows, labeled_mask

__all__ = ["cross_val_predict", "learning_curve", "permutation_test_score"]


def _targets(y: Any, n_samples: int) -> tuple[np.ndarray, np.ndarray]:
    """``y`` as a float array (1-D or 2-D) and its labeled mask, checked against ``X``."""
    if y is None:
        raise ValueError("y is required: its NaN entries mark the unlabeled rows")
    labeled = labeled_mask(y)
    y = np.asarray(y, dtype=np.float64)
    if len(y) != n_samples:
        raise ValueError(f"X holds {n_samples} rows but y holds {len(y)}")
    if not labeled.any():
        raise ValueError("every target is NaN; there is nothing to predict or score")
    return y, labeled


def _check_cv(cv: Any) -> Any:
    if cv is None:
        return SemiSupervisedKFold()
    if isinstance(cv, Integral) and not isinstance(cv, bool):
        return SemiSupervisedKFold(int(cv))
    if isinstance(cv, Iterable) and not hasattr(cv, "split"):
        return list(cv)
    return cv


def _splits(cv: Any, X: Any, y: np.ndarray, groups: Any) -> list[tuple[np.ndarray, np.ndarray]]:
    cv = _check_cv(cv)
    if isinstance(cv, list):
        return [(np.asarray(train), np.asarray(test)) for train, test in cv]
    return [(np.asarray(train), np.asarray(test)) for train, test in cv.split(X, y, groups)]


def _prepare(
    X: Any, y: Any, cv: Any, groups: Any
) -> tuple[Any, np.ndarray, np.ndarray, list[tuple[np.ndarray, np.ndarray]]]:
    """``X`` indexable, ``y`` as floats, its labeled mask, and the splits of ``cv``."""
    X = indexable_rows(X)
    y, labeled = _targets(y, len(X))
    return X, y, labeled, _splits(cv, X, y, groups)


def _fit_and_predict(
    estimator: Any, X: Any, y: np.ndarray, train: np.ndarray, test: np.ndarray, method: str
) -> np.ndarray:
    fitted = clone(estimator).fit(_safe_indexing(X, train), y[train])
    return np.asarray(getattr(fitted, method)(_safe_indexing(X, test)), dtype=np.float64)


def cross_val_predict(
    estimator: Any,
    X: Any,
    y: Any,
    *,
    groups: Any = None,
    cv: Any = None,
    n_jobs: int | None = None,
    method: str = "predict",
) -> np.ndarray:
    """Cross-validated predictions for the labeled rows; NaN for the unlabeled ones.

    Each labeled row is predicted by the estimator fitted on the folds that
    do not hold it, with every unlabeled row in every fit, as
    :class:`SemiSupervisedKFold` splits. Unlabeled rows are never predicted:
    their place in the result holds NaN, so the result lines up with ``y``.

    Parameters
    ----------
    estimator : estimator
        Fitted on each training set, its NaN targets included; a
        scikit-learn regressor that refuses NaN targets goes inside
        :class:`~skassess.baselines.LabeledOnly`.
    X : sequence of cells, array-like or Benchmark
    y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        Targets, NaN for unlabeled rows (a row is labeled when every output is).
    groups : array-like, optional
        Passed to ``cv.split``.
    cv : int, splitter or iterable of (train, test), default=None
        None for ``SemiSupervisedKFold(5)``, an int for that many folds. Its
        test sets must hold only labeled rows, each labeled row exactly once.
    n_jobs : int, default=None
        Folds fitted in parallel (joblib).
    method : str, default="predict"
        The estimator's method to call on each test set.

    Returns
    -------
    ndarray of shape (n_samples,) or (n_samples, n_outputs)
        float64, NaN on the unlabeled rows.

    Raises
    ------
    ValueError
        If a test set holds an unlabeled row, or the test sets do not cover
        every labeled row exactly once.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LinearRegression
    >>> from skassess.baselines import LabeledOnly
    >>> from skassess.model_selection import cross_val_predict
    >>> X = np.arange(8.0).reshape(-1, 1)
    >>> y = np.array([0.0, np.nan, 2.0, 3.0, np.nan, 5.0, 6.0, 7.0])
    >>> cross_val_predict(LabeledOnly(LinearRegression()), X, y, cv=3).round(6)
    array([ 0., nan,  2.,  3., nan,  5.,  6.,  7.])
    """
    X, y, labeled, splits = _prepare(X, y, cv, groups)
    tested = np.zeros(len(y), dtype=np.int64)
    for _, test in splits:
        np.add.at(tested, test, 1)
    if (tested[~labeled] > 0).any():
        row = int(np.flatnonzero(tested * ~labeled)[0])
        raise ValueError(
            f"the cross-validation tests unlabeled row {row} (y is NaN there); use a "
            "splitter of skassess.model_selection, whose test folds are labeled rows only"
        )
    if (tested[labeled] != 1).any():
        row = int(np.flatnonzero(labeled & (tested != 1))[0])
        raise ValueError(
            f"cross_val_predict needs test folds that hold every labeled row exactly once; "
            f"labeled row {row} is tested {tested[row]} time(s)"
        )
    predictions = Parallel(n_jobs=n_jobs)(
        delayed(_fit_and_predict)(estimator, X, y, train, test, method) for train, test in splits
    )
    result = np.full(y.shape, np.nan)
    for (_, test), predicted in zip(splits, predictions, strict=True):
        result[test] = predicted.reshape(result[test].shape)
    return result


def _label_counts(train_sizes: Any, n_max: int) -> np.ndarray:
    """Numbers of labels from fractions of ``n_max`` (floats) or counts (ints)."""
    sizes = np.asarray(train_sizes)
    if sizes.ndim != 1 or sizes.size == 0:
        raise ValueError(f"train_sizes must be a non-empty 1-D sequence, got {train_sizes!r}")
    if np.issubdtype(sizes.dtype, np.floating):
        if sizes.min() <= 0 or sizes.max() > 1:
            raise ValueError(f"train_sizes as fractions must lie in (0, 1], got {sizes.tolist()}")
        counts = np.maximum(np.floor(sizes * n_max).astype(np.int64), 1)
    elif np.issubdtype(sizes.dtype, np.integer):
        counts = sizes.astype(np.int64)
    else:
        raise ValueError(f"train_sizes must be fractions or counts, got {train_sizes!r}")
    if counts.min() < 1 or counts.max() > n_max:
        raise ValueError(
            f"train_sizes must count between 1 and {n_max} labels (the labeled training "
            f"rows of the smallest fold), got {counts.tolist()}"
        )
    return np.unique(counts)


def _curve_point(
    estimator: Any,
    X: Any,
    y: np.ndarray,
    train: np.ndarray,
    test: np.ndarray,
    kept: np.ndarray,
    dropped: np.ndarray,
    scorer: Any,
) -> tuple[float, float]:
    """Fit with the labels of ``dropped`` hidden; score on the kept labels and on ``test``."""
    y_train = y.copy()
    y_train[dropped] = np.nan
    fitted = clone(estimator).fit(_safe_indexing(X, train), y_train[train])
    train_score = scorer(fitted, _safe_indexing(X, kept), y[kept])
    return float(train_score), float(scorer(fitted, _safe_indexing(X, test), y[test]))


def learning_curve(
    estimator: Any,
    X: Any,
    y: Any,
    *,
    groups: Any = None,
    train_sizes: Any = (0.1, 0.325, 0.55, 0.775, 1.0),
    cv: Any = None,
    scoring: Any = None,
    shuffle: bool = False,
    random_state: Any = None,
    n_jobs: int | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Scores against the number of labels, with the pool of architectures kept whole.

    For each split of ``cv`` and each size ``n``, the estimator is fitted on
    the whole training set of the split, of which only ``n`` labeled rows keep
    their label: the others are hidden (their target becomes NaN) and join
    the unlabeled pool, which every fit sees whole. It is the question a NAS
    practitioner asks, how many architectures to train, with the search space
    fixed. The sets of kept labels are nested: those of a smaller ``n`` are
    among those of a larger one.

    Parameters
    ----------
    estimator : estimator
        Fitted with NaN targets (a plain regressor goes inside
        :class:`~skassess.baselines.LabeledOnly`).
    X : sequence of cells, array-like or Benchmark
    y : array-like of shape (n_samples,)
        Targets, NaN for unlabeled rows.
    groups : array-like, optional
        Passed to ``cv.split``.
    train_sizes : sequence of float or int, default=(0.1, 0.325, 0.55, 0.775, 1.0)
        Numbers of labels: floats are fractions of the labeled training rows
        (of the smallest training set over the splits), ints are counts.
    cv : int, splitter or iterable of (train, test), default=None
        None for ``SemiSupervisedKFold(5)``, an int for that many folds.
    scoring : str, callable or None, default=None
        None for the estimator's ``score`` (Kendall tau for a skassess
        predictor), else as for :func:`sklearn.model_selection.cross_val_score`.
    shuffle : bool, default=False
        Whether to draw which labels to keep at random rather than take those
        of the first labeled rows.
    random_state : int, RandomState instance or None, default=None
        Seeds the draw when ``shuffle`` is True.
    n_jobs : int, default=None
        Fits run in parallel (joblib).

    Returns
    -------
    train_sizes_abs : ndarray of shape (n_sizes,)
        Numbers of labels, ascending.
    train_scores : ndarray of shape (n_sizes, n_splits)
        Scores on the labeled rows kept for training.
    test_scores : ndarray of shape (n_sizes, n_splits)
        Scores on the test rows.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LinearRegression
    >>> from skassess.baselines import LabeledOnly
    >>> from skassess.model_selection import learning_curve
    >>> X = np.arange(40.0).reshape(-1, 1)
    >>> y = np.where(np.arange(40) % 2 == 0, np.arange(40.0), np.nan)  # 20 labels
    >>> sizes, _, test = learning_curve(LabeledOnly(LinearRegression()), X, y,
    ...                                 train_sizes=[2, 8], cv=4)
    >>> sizes.tolist(), test.shape
    ([2, 8], (2, 4))
    """
    X, y, labeled, splits = _prepare(X, y, cv, groups)
    rng = check_random_state(random_state)
    orders = []
    for train, _ in splits:
        rows = train[labeled[train]]
        orders.append(rng.permutation(rows) if shuffle else rows)
    counts = _label_counts(train_sizes, min(len(order) for order in orders))
    scorer = check_scoring(estimator, scoring=scoring)
    jobs = [
        (n, split, train, test, orders[split][:n], orders[split][n:])
        for n in counts.tolist()
        for split, (train, test) in enumerate(splits)
    ]
    results = Parallel(n_jobs=n_jobs)(
        delayed(_curve_point)(estimator, X, y, train, test, kept, dropped, scorer)
        for _, _, train, test, kept, dropped in jobs
    )
    scores = np.array(results).reshape(len(counts), len(splits), 2)
    return counts, scores[:, :, 0], scores[:, :, 1]


def _mean_score(estimator: Any, X: Any, y: np.ndarray, splits: list, scorer: Any) -> float:
    scores = cross_val_score(clone(estimator), X, y, cv=splits, scoring=scorer, error_score="raise")
    return float(np.mean(scores))


def permutation_test_score(
    estimator: Any,
    X: Any,
    y: Any,
    *,
    groups: Any = None,
    cv: Any = None,
    n_permutations: int = 100,
    scoring: Any = None,
    random_state: Any = 0,
    n_jobs: int | None = None,
) -> tuple[float, np.ndarray, float]:
    """Whether a cross-validated score beats chance, shuffling targets among labeled rows only.

    The test of Ojala & Garriga (2010), as
    :func:`sklearn.model_selection.permutation_test_score` runs it, with the
    permutations confined to the labeled rows: the unlabeled rows stay
    unlabeled, in their place, in every fit, and the same splits serve the
    true and the permuted targets.

    Parameters
    ----------
    estimator : estimator
    X : sequence of cells, array-like or Benchmark
    y : array-like of shape (n_samples,)
        Targets, NaN for unlabeled rows.
    groups : array-like, optional
        Passed to ``cv.split``.
    cv : int, splitter or iterable of (train, test), default=None
        None for ``SemiSupervisedKFold(5)``, an int for that many folds.
    n_permutations : int, default=100
    scoring : str, callable or None, default=None
        None for the estimator's ``score`` (Kendall tau for a skassess predictor).
    random_state : int, RandomState instance or None, default=0
        Seeds the permutations.
    n_jobs : int, default=None
        Permutations run in parallel (joblib).

    Returns
    -------
    score : float
        Mean cross-validated score with the true targets.
    permutation_scores : ndarray of shape (n_permutations,)
        The same with the labeled targets permuted.
    pvalue : float
        ``(1 + #(permutation_scores >= score)) / (1 + n_permutations)``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LinearRegression
    >>> from skassess.baselines import LabeledOnly
    >>> from skassess.model_selection import permutation_test_score
    >>> X = np.arange(30.0).reshape(-1, 1)
    >>> y = np.where(np.arange(30) % 3 == 0, np.nan, np.arange(30.0))
    >>> score, _, pvalue = permutation_test_score(
    ...     LabeledOnly(LinearRegression()), X, y, cv=4, n_permutations=19)
    >>> round(score, 3), pvalue
    (1.0, 0.05)
    """
    n_permutations = check_int(n_permutations, "n_permutations")
    X, y, labeled, splits = _prepare(X, y, cv, groups)
    rng = check_random_state(random_state)
    rows = np.flatnonzero(labeled)
    permuted = []
    for _ in range(n_permutations):
        y_perm = y.copy()
        y_perm[rows] = y[rng.permutation(rows)]
        permuted.append(y_perm)
    scorer = check_scoring(estimator, scoring=scoring)
    score = _mean_score(estimator, X, y, splits, scorer)
    permutation_scores = np.array(
        Parallel(n_jobs=n_jobs)(
            delayed(_mean_score)(estimator, X, target, splits, scorer) for target in permuted
        )
    )
    pvalue = (1 + np.sum(permutation_scores >= score)) / (1 + n_permutations)
    return score, permutation_scores, float(pvalue)
