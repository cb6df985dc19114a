"""An estimator tag of skassess: this estimator learns from unlabeled rows.

skassess marks an unlabeled architecture with the target ``np.nan``. A
semi-supervised estimator (the assessor, label propagation) learns from such
rows; any other regressor rejects them, or worse, misuses them. Code that
prepares a fit, e.g. a search deciding whether to hand its candidates to
``fit``, asks :func:`uses_unlabeled`.

The answer is a scikit-learn estimator tag. scikit-learn's :class:`~sklearn.utils.Tags`
dataclasses (slotted) take no extra field, so the tag lives in a subclass of
:class:`~sklearn.utils.TargetTags`, :class:`UnlabeledTargetTags`, with one more
field, ``uses_unlabeled``. A subclass keeps every field and check of
scikit-learn's (``check_valid_tag_types`` tests ``isinstance``), and what an
estimator declares travels with ``get_tags`` like any other tag. An estimator
declares it in ``__sklearn_tags__`` with :func:`mark_uses_unlabeled`::

    def __sklearn_tags__(self):
        return mark_uses_unlabeled(super().__sklearn_tags__())
"""

from __future__ import annotations

import dataclasses
from typing import Any

from sklearn.model_selection._search import BaseSearchCV
from sklearn.pipeline import Pipeline
from sklearn.utils import Tags, TargetTags, get_tags

__all__ = ["UnlabeledTargetTags", "final_estimator", "mark_uses_unlabeled", "uses_unlabeled"]


@dataclasses.dataclass(slots=True)
class UnlabeledTargetTags(TargetTags):
    """scikit-learn's target tags and one more: ``NaN`` targets are unlabeled rows to learn from.

    Parameters
    ----------
    uses_unlabeled : bool, default=False
        Whether ``fit`` takes rows whose target is ``NaN`` as unlabeled
        samples (and learns from them, or lets earlier pipeline steps do so).

    See Also
    --------
    mark_uses_unlabeled : Set the tag in ``__sklearn_tags__``.
    """

    uses_unlabeled: bool = False


def mark_uses_unlabeled(tags: Tags, value: bool = True) -> Tags:
    """Return ``tags`` with the target tags saying that ``fit`` uses unlabeled rows.

    Call it on the result of ``super().__sklearn_tags__()``; every other tag is
    kept.

    Parameters
    ----------
    tags : sklearn.utils.Tags
    value : bool, default=True

    Returns
    -------
    sklearn.utils.Tags
        ``tags``, edited in place, its ``target_tags`` an
        :class:`UnlabeledTargetTags`.

    Examples
    --------
    >>> from sklearn.base import BaseEstimator, RegressorMixin
    >>> class SelfTrained(RegressorMixin, BaseEstimator):
    ...     def __sklearn_tags__(self):
    ...         return mark_uses_unlabeled(super().__sklearn_tags__())
    >>> uses_unlabeled(SelfTrained())
    True
    """
    fields = {f.name: getattr(tags.target_tags, f.name) for f in dataclasses.fields(TargetTags)}
    tags.target_tags = UnlabeledTargetTags(**fields, uses_unlabeled=bool(value))
    return tags


def final_estimator(estimator: Any) -> Any:
    """The estimator that ``estimator`` finally fits and predicts with.

    The last step of a :class:`~sklearn.pipeline.Pipeline` and the
    ``estimator`` of a :class:`~sklearn.model_selection.GridSearchCV` or
    ``RandomizedSearchCV`` (both hand ``y`` to it unchanged), recursively;
    any other object is its own final estimator.

    Parameters
    ----------
    estimator : estimator object

    Returns
    -------
    estimator object
        ``None`` for a pipeline ending in ``"passthrough"`` or ``None``.

    Examples
    --------
    >>> from sklearn.linear_model import Ridge
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> final_estimator(make_pipeline(StandardScaler(), Ridge()))
    Ridge()
    """
    while True:
        if isinstance(estimator, Pipeline):
            estimator = estimator.steps[-1][1] if estimator.steps else None
        elif isinstance(estimator, BaseSearchCV):
            estimator = estimator.estimator
        else:
            return None if estimator == "passthrough" else estimator


def uses_unlabeled(estimator: Any) -> bool:
    """Whether ``estimator`` learns from unlabeled rows (targets ``NaN``) passed to ``fit``.

    Read from the estimator's tags (:func:`mark_uses_unlabeled`); a
    :class:`~sklearn.pipeline.Pipeline` or a grid search is judged by its
    final estimator (:func:`final_estimator`), and any other meta-estimator
    declares the tag itself, as :class:`~skassess.baselines.LabeledOnly` does.
    An estimator without the tag, e.g. any scikit-learn regressor, is
    supervised: it would reject (or misuse) ``NaN`` targets.

    Parameters
    ----------
    estimator : estimator object

    Returns
    -------
    bool

    Examples
    --------
    >>> from sklearn.linear_model import Ridge
    >>> uses_unlabeled(Ridge())
    False
    >>> from skassess.baselines import LabelPropagationRegressor
    >>> uses_unlabeled(LabelPropagationRegressor())
    True
    """
    final = final_estimator(estimator)
    if final is None or not hasattr(final, "__sklearn_tags__"):
        return False
    return bool(getattr(get_tags(final).target_tags, "uses_unlabeled", False))
