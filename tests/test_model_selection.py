import numpy as np
import pytest
from sklearn.ensemble import RandomForestRegressor
from sklearn.model_selection import GridSearchCV, cross_val_score, cross_validate
from sklearn.pipeline import make_pipeline

from skassess import Cell
from skassess.baselines import LabeledOnly
from skassess.encoders import AdjacencyOpsEncoder
from skassess.metrics import get_scorer, get_scorers
from skassess.model_selection import SemiSupervisedKFold, SemiSupervisedShuffleSplit


def _nb101_sample(path, n, seed):
    """n random NAS-Bench-101 cells and their test accuracies, straight from the npz."""
    with np.load(path) as data:
        rows = np.sort(np.random.default_rng(seed).choice(len(data["test_acc"]), n, replace=False))
        names = data["op_names"].astype(str)
        adjacency, ops = data["adjacency"][rows], data["ops"][rows]
        sizes, y = data["num_vertices"][rows], data["test_acc"][rows].astype(np.float64)
    cells = [
        Cell(a[:v, :v], list(names[o[:v]])) for a, o, v in zip(adjacency, ops, sizes, strict=True)
    ]
    return cells, y


@pytest.fixture(scope="module")
def semi_supervised_sample(nb101_path):
    cells, y = _nb101_sample(nb101_path, 300, seed=0)
    y = y.copy()
    y[np.random.default_rng(1).random(len(y)) < 0.7] = np.nan  # 70% unlabeled
    return cells, y


def _y(n=40, labeled_fraction=0.5, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.normal(size=n)
    y[rng.random(n) >= labeled_fraction] = np.nan
    return y


SPLITTERS = [
    SemiSupervisedKFold(4),
    SemiSupervisedKFold(3, shuffle=True, random_state=0),
    SemiSupervisedShuffleSplit(5, test_size=0.25, random_state=0),
    SemiSupervisedShuffleSplit(3, test_size=3, train_size=5, random_state=0),
]


@pytest.mark.parametrize("cv", SPLITTERS, ids=lambda cv: " ".join(repr(cv).split()))
def test_test_folds_hold_only_labeled_rows_and_unlabeled_rows_always_train(cv):
    y = _y()
    labeled, unlabeled = np.flatnonzero(~np.isnan(y)), np.flatnonzero(np.isnan(y))
    splits = list(cv.split(np.zeros(len(y)), y))
    assert len(splits) == cv.get_n_splits()
    for train, test in splits:
        assert len(test) and np.isin(test, labeled).all()
        assert np.isin(unlabeled, train).all()
        assert not np.intersect1d(train, test).size
        assert np.array_equal(train, np.sort(train)) and np.array_equal(test, np.sort(test))


def test_kfold_test_folds_partition_the_labeled_rows():
    y = _y(n=53)
    labeled = np.flatnonzero(~np.isnan(y))
    tests = [test for _, test in SemiSupervisedKFold(5, shuffle=True, random_state=3).split(y, y)]
    assert np.array_equal(np.sort(np.concatenate(tests)), labeled)
    for train, test in SemiSupervisedKFold(5).split(y, y):
        # every labeled row not tested trains
        assert np.array_equal(np.union1d(train, test), np.arange(len(y)))


def test_kfold_matches_sklearn_kfold_on_fully_labeled_data():
    from sklearn.model_selection import KFold

    y = np.arange(20.0)
    ours = list(SemiSupervisedKFold(4, shuffle=True, random_state=7).split(y, y))
    theirs = list(KFold(4, shuffle=True, random_state=7).split(y))
    for (a_train, a_test), (b_train, b_test) in zip(ours, theirs, strict=True):
        assert np.array_equal(a_train, b_train) and np.array_equal(a_test, b_test)


def test_shuffle_split_train_size_counts_labeled_rows_only():
    y = _y(n=60)
    n_unlabeled = np.isnan(y).sum()
    cv = SemiSupervisedShuffleSplit(4, test_size=5, train_size=7, random_state=0)
    for train, test in cv.split(y, y):
        assert len(test) == 5
        assert (~np.isnan(y[train])).sum() == 7
        assert len(train) == 7 + n_unlabeled


@pytest.mark.parametrize(
    "make",
    [
        lambda s: SemiSupervisedKFold(3, shuffle=True, random_state=s),
        lambda s: SemiSupervisedShuffleSplit(3, test_size=0.3, random_state=s),
    ],
)
def test_splits_are_deterministic_given_random_state(make):
    y = _y()
    first, again, other = (list(make(s).split(y, y)) for s in (0, 0, 1))
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(first, again, strict=True))
    assert not all(np.array_equal(a[1], b[1]) for a, b in zip(first, other, strict=True))


@pytest.mark.parametrize(
    "cv",
    [SemiSupervisedKFold(), SemiSupervisedShuffleSplit()],
    ids=lambda cv: " ".join(repr(cv).split()),
)
def test_split_requires_y(cv):
    with pytest.raises(ValueError, match="needs y"):
        next(cv.split(np.zeros(10)))


def test_split_errors():
    y = np.array([1.0, np.nan, 2.0, np.nan])
    with pytest.raises(ValueError, match="2 labeled rows"):
        next(SemiSupervisedKFold(3).split(y, y))
    with pytest.raises(ValueError, match="labeled rows only"):
        next(SemiSupervisedShuffleSplit(2, test_size=5).split(y, y))
    with pytest.raises(ValueError, match="1-D or 2-D"):
        next(SemiSupervisedKFold(2).split(y, np.ones((4, 2, 1))))


def _forest_pipeline():
    return make_pipeline(
        AdjacencyOpsEncoder(), LabeledOnly(RandomForestRegressor(n_estimators=20, random_state=0))
    )


def test_cross_val_score_on_semi_supervised_cells(semi_supervised_sample):
    cells, y = semi_supervised_sample
    scores = cross_val_score(
        _forest_pipeline(),
        cells,
        y,
        cv=SemiSupervisedKFold(5),
        scoring=get_scorer("kendall_tau"),
        n_jobs=2,
    )
    assert scores.shape == (5,)
    assert np.isfinite(scores).all() and scores.mean() > 0.1  # better than random ranking


def test_cross_validate_multi_metric(semi_supervised_sample):
    cells, y = semi_supervised_sample
    result = cross_validate(
        _forest_pipeline(),
        cells,
        y,
        cv=SemiSupervisedShuffleSplit(3, test_size=0.3, random_state=0),
        scoring=get_scorers(["kendall_tau", "precision_at_k", "neg_n_at_k"], k=0.1),
    )
    assert np.isfinite(result["test_kendall_tau"]).all()
    assert (result["test_neg_n_at_k"] <= -1).all()


def test_grid_search_with_two_jobs(semi_supervised_sample):
    cells, y = semi_supervised_sample
    search = GridSearchCV(
        _forest_pipeline(),
        {"labeledonly__estimator__max_depth": [2, None]},
        cv=SemiSupervisedKFold(3, shuffle=True, random_state=0),
        scoring=get_scorer("spearman_rho"),
        n_jobs=2,
    ).fit(cells, y)
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    assert search.best_estimator_[-1].n_labeled_ == (~np.isnan(y)).sum()
    assert search.predict(cells[:5]).shape == (5,)
