"""PredictorGuidedSearch as ask/tell on a user's own space, without a benchmark."""

import io
import pickle

import joblib
import numpy as np
import pytest
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.linear_model import Ridge
from sklearn.pipeline import make_pipeline

from skassess import InvalidCellError
from skassess.encoders import AdjacencyOpsEncoder
from skassess.search import PredictorGuidedSearch, sample_distinct
from skassess.spaces import CellSpace

SPACE = CellSpace(ops=["conv3x3", "conv1x1", "maxpool"], max_vertices=5)
SOME_CELLS = SPACE.sample(400, random_state=42)  # with repeats: sample_distinct drops them
WEIGHTS = {"conv3x3": 1.0, "conv1x1": 0.4, "maxpool": -0.3}


def made_up_training(cell):
    """A stand-in for training: rewards 3x3 convolutions and edges, plus a fixed wobble."""
    pruned = SPACE.prune(cell)
    wobble = int(SPACE.hash(cell)[:6], 16) % 100 / 1000
    return sum(WEIGHTS[op] for op in pruned.ops[1:-1]) + 0.1 * pruned.n_edges + wobble


def make_search(**params):
    defaults = dict(
        estimator=make_pipeline(AdjacencyOpsEncoder(space=SPACE), Ridge(alpha=1.0)),
        space=SPACE,
        initial_size=10,
        batch_size=5,
        pool_size=100,
        n_mutations=50,
        random_state=0,
    )
    return PredictorGuidedSearch(**{**defaults, **params})


def train_and_tell(search, n_rounds):
    asked = []
    for _ in range(n_rounds):
        cells = search.ask()
        asked += cells
        search.tell(cells, [made_up_training(cell) for cell in cells])
    return asked


def test_ask_tell_loop_finds_good_cells_and_never_repeats():
    search = make_search()
    asked = train_and_tell(search, 8)
    hashes = [SPACE.hash(cell) for cell in asked]
    assert len(set(hashes)) == len(hashes) == 10 + 7 * 5
    assert search.hashes_ == hashes and not search.pending_
    assert search.n_fits_ == 7
    np.testing.assert_array_equal(search.scores_, [made_up_training(c) for c in asked])
    random_cells = SPACE.sample(len(asked), random_state=1)
    assert search.best_score_ > max(made_up_training(c) for c in random_cells)
    guided = search.scores_[10:]
    assert np.median(guided) > np.median(search.scores_[:10])


@pytest.mark.parametrize("n_carried", [0, 20])
@pytest.mark.parametrize("dump, load", [(pickle.dumps, pickle.loads), ("joblib", "joblib")])
def test_a_reloaded_search_proposes_exactly_what_it_would_have(dump, load, n_carried):
    uninterrupted = make_search(n_carried=n_carried)
    train_and_tell(uninterrupted, 3)
    interrupted = make_search(n_carried=n_carried)
    train_and_tell(interrupted, 3)
    if dump == "joblib":
        stream = io.BytesIO()
        joblib.dump(interrupted, stream)
        stream.seek(0)
        reloaded = joblib.load(stream)
    else:
        reloaded = load(dump(interrupted))
    assert train_and_tell(reloaded, 3) == train_and_tell(uninterrupted, 3)
    assert reloaded.hashes_ == uninterrupted.hashes_


def test_asked_cells_survive_a_reload_and_are_not_proposed_again():
    search = make_search()
    train_and_tell(search, 2)
    waiting = search.ask(4)  # the "crash" comes before these are told
    reloaded = pickle.loads(pickle.dumps(search))
    assert set(reloaded.pending_) == {SPACE.hash(c) for c in waiting}
    later = {SPACE.hash(c) for c in reloaded.ask(20)}
    assert not later & {SPACE.hash(c) for c in waiting}
    told_before = list(reloaded.hashes_)
    reloaded.tell(waiting[::-1][:2], [1.0, np.nan])  # late, out of order, partly, one failed
    assert reloaded.hashes_[: len(told_before)] == told_before
    assert len(reloaded.pending_) == 20 + 2


def test_scores_arrive_in_any_order_partly_and_failed():
    search = make_search(initial_size=4)
    cells = search.ask(6)
    assert search.n_fits_ == 0
    scores = [made_up_training(c) for c in cells]
    search.tell([cells[4], cells[1]], [scores[4], np.nan])
    assert len(search.pending_) == 4
    # Two scores only (one failed): still the random start, and no cell comes back.
    more = search.ask(3)
    assert search.n_fits_ == 0
    assert not {SPACE.hash(c) for c in more} & {SPACE.hash(c) for c in cells}
    search.tell([cells[0], cells[2], cells[3], cells[5]], [scores[i] for i in (0, 2, 3, 5)])
    search.ask(2)
    assert search.n_fits_ == 1, "four finite scores reach initial_size=4; the failed one is not"
    assert np.isnan(search.scores_[1])
    assert search.best_score_ == np.nanmax(scores[:1] + scores[2:])


def test_the_predictor_never_sees_a_failed_training():
    seen_targets = []

    class Spy(RegressorMixin, BaseEstimator):
        def fit(self, X, y):
            seen_targets.append(np.asarray(y, dtype=float))
            return self

        def predict(self, X):
            return np.zeros(len(X))

    search = make_search(estimator=Spy(), initial_size=3)
    cells = search.ask(4)
    search.tell(cells, [0.1, np.nan, 0.3, 0.2])
    search.ask(2)
    assert len(seen_targets) == 1
    np.testing.assert_array_equal(seen_targets[0], [0.1, 0.3, 0.2])


def test_tell_cells_the_search_never_asked():
    search = make_search(initial_size=3)
    mine = sample_distinct(SOME_CELLS, 3, space=SPACE, random_state=5)
    search.tell(mine, [made_up_training(c) for c in mine])
    proposed = search.ask(5)
    assert search.n_fits_ == 1
    assert not {SPACE.hash(c) for c in proposed} & {SPACE.hash(c) for c in mine}


def test_tell_rejects_bad_input_saying_what_and_where():
    search = make_search()
    cells = search.ask(3)
    with pytest.raises(ValueError, match="one score per cell: got 2 for 3"):
        search.tell(cells, [0.1, 0.2])
    with pytest.raises(ValueError, match="score 1 is inf"):
        search.tell(cells, [0.1, np.inf, 0.2])
    with pytest.raises(TypeError, match="single cell"):
        search.tell(cells[0], [0.1])
    bad = ([[0, 1], [0, 0]], ["input", "conv5x5"])
    with pytest.raises(InvalidCellError, match="cell 1"):
        search.tell([cells[0], bad], [0.1, 0.2])
    search.tell(cells[:1], [0.1])
    with pytest.raises(ValueError, match=r"cell 0 \(hash [0-9a-f]+\) was already told"):
        search.tell(cells[:1], [0.2])
    twin = ([[0, 1], [0, 0]], ["input", "output"])
    with pytest.raises(ValueError, match=r"cell 1 .* already told"):
        search.tell([twin, twin], [0.1, 0.2])
    assert len(search.hashes_) == 1, "a rejected tell records nothing"


def test_ask_needs_a_space_and_a_positive_n():
    with pytest.raises(ValueError, match="space is required"):
        PredictorGuidedSearch(Ridge()).ask(2)
    with pytest.raises(ValueError, match="n must be a positive integer"):
        make_search().ask(0)
    with pytest.raises(ValueError, match="pool_size=None ranks every candidate"):
        make_search(pool_size=None).ask(1)


def test_a_list_of_candidates_is_all_the_search_proposes():
    candidates = sample_distinct(SOME_CELLS, 40, space=SPACE, random_state=0)
    listed = {SPACE.hash(c) for c in candidates}
    search = make_search(candidates=candidates, pool_size=None, n_mutations=200)
    asked = train_and_tell(search, 5)
    assert {SPACE.hash(c) for c in asked} <= listed
    assert len(asked) == 30
    rest = search.ask(100)
    assert len(rest) == 10 and not search.ask(1), "the list ran out"


def test_mutations_of_the_best_join_the_candidates():
    ranked = []

    class Spy(RegressorMixin, BaseEstimator):
        def fit(self, X, y):
            return self

        def predict(self, X):
            ranked.append(list(X))
            return np.zeros(len(X))

    search = make_search(estimator=Spy(), pool_size=5, n_mutations=30, n_parents=2)
    train_and_tell(search, 2)
    assert len(ranked) == 1 and len(ranked[0]) == 35
    best_two = [search.cells_[i] for i in np.argsort(-search.scores_[:10])[:2]]
    mutants = ranked[0][5:]

    def distance(a, b):  # edits between two cells drawn on the same 5 vertices
        a, b = SPACE.prune(a), SPACE.prune(b)
        if a.n_vertices != b.n_vertices:
            return 99
        changed_ops = sum(x != y for x, y in zip(a.ops, b.ops, strict=True))
        return int((a.matrix != b.matrix).sum()) + changed_ops

    close = [min(distance(m, p) for p in best_two) <= 2 for m in mutants]
    assert np.mean(close) > 0.5, "mutants are one or two changes from the best cells"


def ranked_by_training(log):
    """A predictor scoring a cell by its made-up training result, recording what it ranked.

    The log is read through a closure: the search fits clones, which would copy it.
    """

    class Ranked(RegressorMixin, BaseEstimator):
        def fit(self, X, y):
            return self

        def predict(self, X):
            log.append(list(X))
            return np.array([made_up_training(cell) for cell in X])

    return Ranked()


def test_the_best_candidates_not_proposed_are_ranked_again_at_the_next_fit():
    log = []
    search = make_search(
        estimator=ranked_by_training(log), pool_size=30, n_mutations=0, n_carried=4
    )
    train_and_tell(search, 3)  # the random start, then two fits
    assert len(log) == 2
    first = sorted(log[0], key=made_up_training, reverse=True)
    carried = {SPACE.hash(cell) for cell in first[5:9]}  # ranked 6th to 9th: not proposed
    second = {SPACE.hash(cell) for cell in log[1]}
    assert len(carried) == 4 and carried <= second
    assert len(search.carried_) == 4 and {SPACE.hash(c) for c in search.carried_} <= second


class SpreadStandIn(RegressorMixin, BaseEstimator):
    """Predicts the same mean everywhere and a spread that grows with the edges."""

    def fit(self, X, y):
        self.mean_ = float(np.mean(y))
        return self

    def predict(self, X, return_std=False):
        mean = np.full(len(X), self.mean_)
        std = np.array([SPACE.prune(c).n_edges for c in X], dtype=float)
        return (mean, std) if return_std else mean


def test_the_spread_ranks_candidates_when_predict_returns_it():
    encoderless = SpreadStandIn()
    search = make_search(estimator=encoderless, pool_size=200, n_mutations=0, exploration=1.0)
    train_and_tell(search, 2)
    edges = [SPACE.prune(c).n_edges for c in search.cells_[10:]]
    pool_edges = [SPACE.prune(c).n_edges for c in SPACE.sample(200, random_state=0)]
    assert min(edges) >= np.percentile(pool_edges, 90)
    mean_only = make_search(estimator=SpreadStandIn(), n_mutations=0)  # exploration=0
    train_and_tell(mean_only, 2)
    edges_mean_only = [SPACE.prune(c).n_edges for c in mean_only.cells_[10:]]
    assert np.mean(edges_mean_only) < np.mean(edges)


def test_sample_distinct_is_uniform_over_architectures_not_list_entries():
    distinct = sample_distinct(SOME_CELLS, 3, space=SPACE, random_state=0)
    heavy = [distinct[0]] * 50 + distinct[1:]  # one architecture listed 50 times
    counts = {SPACE.hash(c): 0 for c in distinct}
    for seed in range(150):
        (cell,) = sample_distinct(heavy, 1, space=SPACE, random_state=seed)
        counts[SPACE.hash(cell)] += 1
    assert all(25 < count < 75 for count in counts.values()), counts  # 50 expected
    assert len({SPACE.hash(c) for c in sample_distinct(heavy, 3, space=SPACE)}) == 3
    with pytest.raises(ValueError, match="from 0 to 3"):
        sample_distinct(heavy, 4, space=SPACE)
    with pytest.raises(ValueError, match="pass space="):
        sample_distinct(heavy, 1)
