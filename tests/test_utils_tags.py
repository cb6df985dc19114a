"""The estimator tag saying that fit learns from unlabeled rows (NaN targets)."""

import pytest
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.compose import TransformedTargetRegressor
from sklearn.linear_model import Ridge
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils import get_tags
from sklearn.utils.estimator_checks import check_valid_tag_types

from skassess.baselines import LabeledOnly, LabelPropagationRegressor, make_random_forest_predictor
from skassess.utils import mark_uses_unlabeled, uses_unlabeled
from skassess.utils.tags import UnlabeledTargetTags, final_estimator


class Marked(RegressorMixin, BaseEstimator):
    def __init__(self, value=True):
        self.value = value

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.positive_only = True  # set before: must survive the mark
        return mark_uses_unlabeled(tags, self.value)


def test_the_mark_is_a_target_tag_and_keeps_every_other_tag():
    tags = get_tags(Marked())
    assert isinstance(tags.target_tags, UnlabeledTargetTags)
    assert tags.target_tags.uses_unlabeled is True
    assert tags.target_tags.required is True and tags.target_tags.positive_only is True
    check_valid_tag_types("Marked", Marked())  # scikit-learn's own check of tag types


@pytest.mark.parametrize(
    "estimator, expected",
    [
        (Marked(), True),
        (Marked(value=False), False),
        (Ridge(), False),
        (LabelPropagationRegressor(), True),
        (LabeledOnly(Ridge()), True),  # skips NaN rows itself; the pipeline's encoder sees them
        (make_random_forest_predictor(n_estimators=5), True),
        (make_pipeline(StandardScaler(), Marked()), True),
        (make_pipeline(Marked(), StandardScaler()), False),  # the final step decides
        (Pipeline([("model", Marked()), ("last", "passthrough")]), False),
        (GridSearchCV(make_pipeline(StandardScaler(), Marked()), {}), True),
        (TransformedTargetRegressor(Marked()), False),  # it rejects NaN targets itself
    ],
    ids=repr,
)
def test_uses_unlabeled(estimator, expected):
    assert uses_unlabeled(estimator) is expected


def test_the_assessors_carry_the_mark():
    assessor = pytest.importorskip("skassess.assessor")
    assert uses_unlabeled(assessor.SemiSupervisedAssessor())
    assert uses_unlabeled(make_pipeline(assessor.TransductiveGCNRegressor()))


def test_final_estimator_looks_through_nested_pipelines_and_searches():
    ridge = Ridge()
    nested = GridSearchCV(make_pipeline(StandardScaler(), make_pipeline(ridge)), {})
    assert final_estimator(nested) is ridge
    assert final_estimator(ridge) is ridge
