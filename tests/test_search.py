"""Tests of skassess.search on a tiny stand-in benchmark (and real data when present)."""

import csv
import itertools
import json
from typing import ClassVar

import numpy as np
import pytest
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.linear_model import Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from skassess import Cell, InvalidCellError
from skassess.search import (
    PredictorGuidedSearch,
    RandomSearch,
    RegularizedEvolution,
    SearchResult,
    sample_distinct,
)
from skassess.utils import mark_uses_unlabeled, uses_unlabeled

OPS = ("a", "b", "c", "d")


class ToySpace:
    """Chains input -> 3 inner vertices -> output, with an optional skip edge 0 -> 4."""

    op_names = ("input", *OPS, "output")

    def validate(self, cell):
        if cell.n_vertices != 5 or cell.ops[0] != "input" or cell.ops[-1] != "output":
            raise InvalidCellError("not a chain of three inner vertices")
        return cell

    def hash(self, cell):
        return f"{cell.matrix[0, 4]}-" + "".join(cell.ops[1:4])

    def hash_many(self, cells):
        return np.array([self.hash(cell) for cell in cells])

    def mutate(self, cell, random_state=None):
        rng = np.random.RandomState(random_state) if random_state is None else random_state
        matrix = np.array(cell.matrix)
        ops = list(cell.ops)
        position = rng.randint(4)
        if position == 3:
            matrix[0, 4] = 1 - matrix[0, 4]
        else:
            ops[1 + position] = OPS[rng.randint(len(OPS))]
        return Cell(matrix, ops)


def toy_cell(inner, skip):
    matrix = np.zeros((5, 5), dtype=np.uint8)
    for i in range(4):
        matrix[i, i + 1] = 1
    matrix[0, 4] = skip
    return Cell(matrix, ["input", *inner, "output"])


def features(cells):
    rows = []
    for cell in cells:
        onehot = [float(op == name) for op in cell.ops[1:4] for name in OPS]
        rows.append([*onehot, float(cell.matrix[0, 4])])
    return np.array(rows)


class ToyBenchmark:
    """The Benchmark contract of skassess.datasets, as far as the searches use it."""

    def __init__(self, cells, metrics, target="acc", name="toy"):
        self.name = name
        self.space = ToySpace()
        self.cells = list(cells)
        self.metrics = metrics
        self.target = target
        self.hashes = self.space.hash_many(self.cells)

    @property
    def y(self):
        return self.metrics[self.target]

    def __len__(self):
        return len(self.cells)


def make_benchmark(drop_every=None, nan_every=None):
    cells = [toy_cell(inner, skip) for inner in itertools.product(OPS, repeat=3) for skip in (0, 1)]
    if drop_every:
        cells = [cell for i, cell in enumerate(cells) if i % drop_every]
    # A linear function of the features plus fixed noise: Ridge can learn it.
    weights = np.random.RandomState(0).normal(size=features(cells[:1]).shape[1])
    acc = features(cells) @ weights + np.random.RandomState(1).normal(0, 0.05, len(cells))
    other = -acc
    if nan_every:
        acc[::nan_every] = np.nan
    return ToyBenchmark(cells, {"acc": acc, "loss": other})


@pytest.fixture
def benchmark():
    return make_benchmark()


def ridge_on_cells():
    return make_pipeline(FunctionTransformer(features), Ridge(alpha=1e-3))


def searchers():
    return [
        RandomSearch(random_state=0),
        RegularizedEvolution(population_size=10, sample_size=3, random_state=0),
        PredictorGuidedSearch(ridge_on_cells(), initial_size=8, batch_size=4, random_state=0),
    ]


@pytest.mark.parametrize("search", searchers(), ids=lambda s: type(s).__name__)
def test_history_respects_budget_and_benchmark(search, benchmark):
    result = search.run(benchmark, 40)
    assert isinstance(result, SearchResult)
    assert len(result) == 40
    assert [query.step for query in result.history] == list(range(40))
    indices = result.indices
    assert len(set(indices.tolist())) == 40, "a training was paid twice"
    np.testing.assert_array_equal(result.values, benchmark.y[indices])
    for query in result.history:
        assert query.cell == benchmark.cells[query.index]
        assert query.hash == benchmark.hashes[query.index]
    times = [query.time for query in result.history]
    assert times == sorted(times) and times[0] >= 0


@pytest.mark.parametrize("search", searchers(), ids=lambda s: type(s).__name__)
def test_same_seed_same_history(search, benchmark):
    first = search.run(benchmark, 30)
    second = search.run(benchmark, 30)
    np.testing.assert_array_equal(first.indices, second.indices)
    other = search.set_params(random_state=1).run(benchmark, 30)
    assert not np.array_equal(first.indices, other.indices)


@pytest.mark.parametrize("search", searchers(), ids=lambda s: type(s).__name__)
def test_best_so_far_is_the_running_maximum(search, benchmark):
    result = search.run(benchmark, 25)
    curve = result.best_so_far()
    assert curve.shape == (25,)
    assert np.all(np.diff(curve) >= 0)
    assert curve[-1] == result.values.max() == result.best.value
    assert all(curve[i] == result.values[: i + 1].max() for i in range(25))


@pytest.mark.parametrize("search", searchers(), ids=lambda s: type(s).__name__)
def test_budget_larger_than_the_space_stops_when_exhausted(search):
    benchmark = make_benchmark()
    result = search.run(benchmark, 10_000)
    assert len(result) == len(benchmark)
    assert result.budget == 10_000
    assert result.best.value == benchmark.y.max()


@pytest.mark.parametrize("search", searchers(), ids=lambda s: type(s).__name__)
def test_architectures_with_unknown_metric_are_never_trained(search):
    benchmark = make_benchmark(nan_every=3)
    result = search.run(benchmark, 60)
    assert len(result) == 60
    assert np.isfinite(result.values).all()
    assert not np.any(result.indices % 3 == 0)


@pytest.mark.parametrize("budget", [0, -3, 2.5, True, "10", None])
def test_invalid_budget_is_rejected(budget, benchmark):
    with pytest.raises(ValueError, match="budget must be a positive integer"):
        RandomSearch().run(benchmark, budget)


def test_metric_selects_what_is_maximised(benchmark):
    result = RandomSearch(random_state=0).run(benchmark, 20, metric="loss")
    assert result.metric == "loss"
    np.testing.assert_array_equal(result.values, benchmark.metrics["loss"][result.indices])
    with pytest.raises(ValueError, match=r"unknown metric 'nope'.*acc, loss"):
        RandomSearch().run(benchmark, 5, metric="nope")


@pytest.mark.parametrize(
    "search, message",
    [
        (RegularizedEvolution(population_size=0), "population_size"),
        (RegularizedEvolution(population_size=5, sample_size=6), "sample_size"),
        (PredictorGuidedSearch(Ridge(), batch_size=0), "batch_size"),
        (PredictorGuidedSearch(Ridge(), pool_size=-1), "pool_size"),
        (PredictorGuidedSearch(Ridge(), unlabeled_size=0), "unlabeled_size"),
        (PredictorGuidedSearch(Ridge(), use_unlabeled="yes"), "use_unlabeled"),
    ],
)
def test_invalid_parameters_are_rejected_at_run(search, message, benchmark):
    with pytest.raises(ValueError, match=message):
        search.run(benchmark, 10)


def test_guided_search_finds_the_best_of_a_learnable_space(benchmark):
    search = PredictorGuidedSearch(ridge_on_cells(), initial_size=20, batch_size=5, random_state=0)
    result = search.run(benchmark, 30)
    assert result.best.value == benchmark.y.max()
    random_best = [RandomSearch(random_state=s).run(benchmark, 30).best.value for s in range(5)]
    assert sum(value == benchmark.y.max() for value in random_best) < 5


def test_guided_search_ranks_only_a_pool_of_the_requested_size(benchmark):
    seen_pool_sizes = []

    class Spy(RegressorMixin, BaseEstimator):
        def fit(self, X, y):
            self.mean_ = float(np.mean(y))
            return self

        def predict(self, X):
            seen_pool_sizes.append(len(X))
            return np.zeros(len(X))

    search = PredictorGuidedSearch(Spy(), initial_size=5, batch_size=5, pool_size=7)
    search.set_params(n_mutations=0).run(benchmark, 20)
    assert seen_pool_sizes == [7, 7, 7]
    seen_pool_sizes.clear()
    search.set_params(n_mutations=10).run(benchmark, 20)
    assert seen_pool_sizes == [17, 17, 17]


class ToySemiSupervised(RegressorMixin, BaseEstimator):
    """Records what it was given; scores rows by a fixed feature, through transduction_."""

    calls: ClassVar[list] = []

    def __init__(self, random_state=None):
        self.random_state = random_state

    def fit(self, X, y):
        y = np.asarray(y, dtype=float)
        type(self).calls.append((len(X), int(np.isnan(y).sum()), self.random_state))
        self.transduction_ = features(X)[:, 0]  # op "a" on the first inner vertex
        return self

    def predict(self, X):
        raise AssertionError("a transductive estimator is ranked by transduction_")

    def __sklearn_tags__(self):
        return mark_uses_unlabeled(super().__sklearn_tags__())


def test_semi_supervised_estimator_gets_the_pool_as_unlabeled_rows(benchmark):
    ToySemiSupervised.calls = []
    search = PredictorGuidedSearch(
        ToySemiSupervised(), initial_size=10, batch_size=6, pool_size=None, random_state=0
    )
    result = search.run(benchmark, 22)
    n = len(benchmark)
    assert [(n_rows, n_nan) for n_rows, n_nan, _ in ToySemiSupervised.calls] == [
        (n, n - 10),
        (n, n - 16),
    ]
    seeds = [seed for _, _, seed in ToySemiSupervised.calls]
    assert all(isinstance(seed, int) for seed in seeds) and seeds[0] != seeds[1]
    chosen = result.history[10:]
    assert all(query.cell.ops[1] == "a" for query in chosen)


def test_unlabeled_size_limits_the_unlabeled_rows_and_ranks_by_predict(benchmark):
    ToySemiSupervised.calls = []

    class Inductive(ToySemiSupervised):
        def predict(self, X):
            return features(X)[:, 0]

    search = PredictorGuidedSearch(
        Inductive(), initial_size=10, batch_size=6, pool_size=None, unlabeled_size=15
    )
    result = search.run(benchmark, 22)
    assert [(n_rows, n_nan) for n_rows, n_nan, _ in ToySemiSupervised.calls] == [
        (25, 15),
        (31, 15),
    ]
    assert all(query.cell.ops[1] == "a" for query in result.history[10:])


def test_use_unlabeled_false_fits_on_labeled_rows_only(benchmark):
    ToySemiSupervised.calls = []

    class Supervised(ToySemiSupervised):
        def predict(self, X):
            return features(X)[:, 0]

    search = PredictorGuidedSearch(Supervised(), initial_size=10, batch_size=5, use_unlabeled=False)
    search.run(benchmark, 20)
    assert [n_nan for _, n_nan, _ in ToySemiSupervised.calls] == [0, 0]


def test_uses_unlabeled_reads_the_tag_through_pipelines():
    assert uses_unlabeled(ToySemiSupervised())
    assert not uses_unlabeled(Ridge())
    assert uses_unlabeled(make_pipeline(FunctionTransformer(features), ToySemiSupervised()))
    assert not uses_unlabeled(ridge_on_cells())


def test_evolution_remutates_children_outside_the_benchmark():
    benchmark = make_benchmark(drop_every=2)  # half of the space is missing
    result = RegularizedEvolution(population_size=8, sample_size=3, random_state=0).run(
        benchmark, 40
    )
    assert len(result) == 40
    assert set(result.indices.tolist()) <= set(range(len(benchmark)))


def test_evolution_children_are_mutations_of_the_population(benchmark):
    search = RegularizedEvolution(population_size=10, sample_size=3, random_state=0)
    result = search.run(benchmark, 40)
    trained = [query.cell for query in result.history]
    for step in range(10, 40):
        child = trained[step]
        distances = [
            sum(a != b for a, b in zip(child.ops, parent.ops, strict=True))
            + int(child.matrix[0, 4] != parent.matrix[0, 4])
            for parent in trained[:step]
        ]
        assert min(distances) == 1, f"query {step} is no single mutation of an earlier one"


def test_evolution_with_repeats_counts_only_new_trainings():
    benchmark = make_benchmark()
    result = RegularizedEvolution(population_size=5, sample_size=5, random_state=0).run(
        benchmark, 100
    )
    assert len(result) == 100
    assert result.n_repeated_queries > 0


def test_rank_so_far_counts_strictly_better_architectures(benchmark):
    result = RandomSearch(random_state=3).run(benchmark, 15)
    ranks = result.rank_so_far(benchmark.y)
    expected = [1 + int(np.sum(benchmark.y > best)) for best in result.best_so_far()]
    np.testing.assert_array_equal(ranks, expected)
    assert np.all(np.diff(ranks) <= 0)


def test_writers_round_trip(benchmark, tmp_path):
    result = RegularizedEvolution(population_size=6, sample_size=2, random_state=0).run(
        benchmark, 12
    )
    result.to_json(tmp_path / "log.json")
    result.to_csv(tmp_path / "log.csv")
    loaded = json.loads((tmp_path / "log.json").read_text())
    assert loaded["method"] == "RegularizedEvolution" and loaded["n_queries"] == 12
    assert [q["index"] for q in loaded["queries"]] == result.indices.tolist()
    assert loaded["best_so_far"] == result.best_so_far().tolist()
    with open(tmp_path / "log.csv", newline="") as stream:
        rows = list(csv.DictReader(stream))
    assert len(rows) == 12
    for row, query in zip(rows, result.history, strict=True):
        assert int(row["index"]) == query.index and float(row["value"]) == query.value
        assert Cell(json.loads(row["matrix"]), json.loads(row["ops"])) == query.cell
    assert result.to_records()[0]["ops"] == list(result.history[0].cell.ops)


def test_empty_result_has_no_best():
    with pytest.raises(ValueError, match="no query"):
        _ = SearchResult("m", "b", "acc", 1).best


def test_run_is_the_ask_tell_loop_on_the_benchmark(benchmark):
    search = PredictorGuidedSearch(ridge_on_cells(), initial_size=8, batch_size=4, random_state=0)
    result = search.run(benchmark, 20)
    assert not hasattr(search, "cells_"), "run works on a clone"
    by_hand = clone(search).set_params(space=benchmark.space, candidates=benchmark.cells)
    for n in (8, 4, 4, 4):  # initial_size, then batch_size
        cells = by_hand.ask(n)
        by_hand.tell(cells, benchmark.y[[benchmark.cells.index(c) for c in cells]])
    assert by_hand.hashes_ == [query.hash for query in result.history]
    np.testing.assert_array_equal(by_hand.scores_, result.values)


def test_sample_distinct_from_a_benchmark_returns_its_cells(benchmark):
    cells = sample_distinct(benchmark, 10, random_state=0)
    assert len({benchmark.space.hash(c) for c in cells}) == 10
    assert all(any(c is listed for listed in benchmark.cells) for c in cells)
