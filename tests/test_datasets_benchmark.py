"""The Benchmark type: look-up by canonical hash, subsets, samples."""

import pickle

import numpy as np
import pytest

from skassess import Cell
from skassess.datasets import Benchmark, RunTable, UnknownCellError
from skassess.spaces import NASBench101

SPACE = NASBench101()
POOL = "maxpool3x3"


def relabel(cell, seed):
    """The same graph with its inner vertices in another (topological) order."""
    rng = np.random.default_rng(seed)
    n = cell.n_vertices
    priority = rng.permutation(n).astype(float)
    priority[0], priority[n - 1] = -1, n  # input first, output last
    matrix = cell.matrix
    indegree = matrix.sum(axis=0).astype(int)
    order, ready = [], [v for v in range(n) if indegree[v] == 0]
    while ready:
        ready.sort(key=lambda v: priority[v])
        v = ready.pop(0)
        order.append(v)
        for w in np.flatnonzero(matrix[v]):
            indegree[w] -= 1
            if indegree[w] == 0:
                ready.append(int(w))
    assert len(order) == n
    return Cell(matrix[np.ix_(order, order)], [cell.ops[v] for v in order])


def other_order(cell):
    """A relabelling that differs from ``cell`` where one exists."""
    candidates = (relabel(cell, seed) for seed in range(20))
    return next((c for c in candidates if c != cell), cell)


@pytest.fixture(scope="module")
def bench():
    sampled = SPACE.sample(200, random_state=0)
    _, first = np.unique(SPACE.hash_many(sampled), return_index=True)
    cells = [sampled[i] for i in np.sort(first)[:60]]  # 60 non-isomorphic cells
    values = np.linspace(0.5, 0.9, len(cells))
    runs = RunTable(np.arange(60 * 2 * 3 * 1, dtype=float).reshape(60, 2, 3, 1), [12, 108], ["a"])
    return Benchmark(
        "toy",
        SPACE,
        cells,
        {"acc": values, "params": np.arange(len(cells))},
        "acc",
        runs=runs,
        info={"index": np.arange(len(cells)) + 100},
    )


def test_basic_attributes(bench):
    assert len(bench) == 60 and bench.target == "acc"
    np.testing.assert_array_equal(bench.y, bench.metrics["acc"])
    assert repr(bench).startswith("Benchmark('toy', n_cells=60, target='acc', metrics=['acc'")
    with pytest.raises(ValueError, match="read-only"):
        bench.y[0] = 1.0
    np.testing.assert_array_equal(bench.hashes, SPACE.hash_many(bench.cells))


def test_query_any_vertex_order_and_spelling(bench):
    cells = [other_order(cell) for cell in bench.cells[:20]]
    assert sum(a != b for a, b in zip(cells, bench.cells[:20], strict=True)) > 5
    np.testing.assert_array_equal(bench.query(cells), bench.y[:20])
    spelled = [{"matrix": c.matrix.tolist(), "ops": list(c.ops)} for c in cells[:3]]
    np.testing.assert_array_equal(bench.query(spelled, metric="params"), [0, 1, 2])
    ids = [(c.matrix, [SPACE.op_names.index(op) for op in c.ops]) for c in cells[:2]]
    np.testing.assert_array_equal(bench.query(ids), bench.y[:2])
    np.testing.assert_array_equal(bench.locate(cells[5:8]), [5, 6, 7])


def test_query_unknown_and_invalid_cells(bench):
    unknown = next(c for c in SPACE.sample(200, random_state=1) if c not in bench.cells)
    with pytest.raises(KeyError, match=r"cell 1 is not in toy \(canonical hash [0-9a-f]{32}\)"):
        bench.query([bench.cells[0], unknown])
    with pytest.raises(UnknownCellError, match=r"cell 0: .*edges"):
        bench.query(
            [(np.triu(np.ones((7, 7), dtype=int), 1), ["input", *["maxpool3x3"] * 5, "output"])]
        )
    with pytest.raises(TypeError, match="single cell"):
        bench.query(bench.cells[0])
    with pytest.raises(KeyError, match=r"no metric 'loss'; metrics are \['acc', 'params'\]"):
        bench.query(bench.cells[:1], metric="loss")
    assert bench.query([]).shape == (0,)
    # Long queries take the vectorised path; errors still name the right position.
    too_many_edges = (np.triu(np.ones((7, 7), dtype=int), 1), ["input", *[POOL] * 5, "output"])
    with pytest.raises(UnknownCellError, match=r"cell 37: .*edges"):
        bench.query([*bench.cells[:37], too_many_edges, *bench.cells[:5]])
    with pytest.raises(UnknownCellError, match=r"cell 40 is not in toy"):
        bench.query([*bench.cells[:40], unknown])


def test_subset_keeps_everything_aligned(bench):
    sub = bench.subset([5, 2, -1])
    assert sub.cells == [bench.cells[5], bench.cells[2], bench.cells[59]]
    np.testing.assert_array_equal(sub.y, bench.y[[5, 2, 59]])
    np.testing.assert_array_equal(sub.info["index"], [105, 102, 159])
    np.testing.assert_array_equal(sub.runs.values, bench.runs.values[[5, 2, 59]])
    np.testing.assert_array_equal(sub.hashes, bench.hashes[[5, 2, 59]])
    assert sub.query([bench.cells[2]])[0] == bench.y[2]
    with pytest.raises(KeyError):
        sub.query([bench.cells[3]])
    mask = np.zeros(60, dtype=bool)
    mask[[1, 3]] = True
    assert bench.subset(mask).cells == [bench.cells[1], bench.cells[3]]
    assert len(bench.subset([])) == 0
    for bad in ([60], [0.5], np.zeros(3, dtype=bool)):
        with pytest.raises(IndexError):
            bench.subset(bad)


def test_sample(bench):
    a, b = bench.sample(10, random_state=3), bench.sample(10, random_state=3)
    assert a.cells == b.cells and len(set(a.cells)) == 10
    assert set(a.cells) <= set(bench.cells)
    np.testing.assert_array_equal(a.query(a.cells), a.y)
    assert bench.sample(10, random_state=4).cells != a.cells
    assert len(bench.sample(60, random_state=0)) == 60 and len(bench.sample(0)) == 0
    for n in (61, -1, 2.5):
        with pytest.raises(ValueError, match=r"n must be an integer in \[0, 60\]"):
            bench.sample(n)


def test_pickle_round_trip(bench):
    bench.query(bench.cells[:1])  # builds the index, which is not pickled
    back = pickle.loads(pickle.dumps(bench))
    assert back.cells == bench.cells and back.runs.epochs == (12, 108)
    np.testing.assert_array_equal(back.query(bench.cells[::-1]), bench.y[::-1])


def test_isomorphic_entries_listed_twice():
    cell = next(c for c in SPACE.sample(50, random_state=2) if relabel(c, 0) != c)
    twin = relabel(cell, 0)
    third = relabel(cell, 1)
    bench = Benchmark("twins", SPACE, [cell, twin], {"acc": [0.1, 0.2]}, "acc")
    assert bench.query([twin, cell]).tolist() == [0.2, 0.1]  # the exact entry wins
    if third not in (cell, twin):
        assert bench.query([third])[0] == 0.1  # else the first in benchmark order


def test_constructor_checks():
    cells = SPACE.sample(2, random_state=0)
    with pytest.raises(ValueError, match="target 'b' is not a metric"):
        Benchmark("x", SPACE, cells, {"a": [1, 2]}, "b")
    with pytest.raises(ValueError, match=r"metric 'a' must have shape \(2,\)"):
        Benchmark("x", SPACE, cells, {"a": [1, 2, 3]}, "a")
    runs = RunTable(np.zeros((3, 1, 1, 1)), [108], ["a"])
    with pytest.raises(ValueError, match="runs has 3 rows for 2 cells"):
        Benchmark("x", SPACE, cells, {"a": [1, 2]}, "a", runs=runs)


def test_run_table_errors():
    runs = RunTable(np.zeros((2, 1, 3, 1)), [108], ["a"])
    with pytest.raises(KeyError, match=r"no runs at 12 epochs; the table has budgets \[108\]"):
        runs.get("a", 12)
    with pytest.raises(KeyError, match="no metric 'b'"):
        runs.mean("b")
    with pytest.raises(ValueError, match="do not match"):
        RunTable(np.zeros((2, 1, 3, 2)), [108], ["a"])
    nan_runs = RunTable(np.array([[[[np.nan], [np.nan]]], [[[1.0], [np.nan]]]]), [108], ["a"])
    np.testing.assert_array_equal(nan_runs.mean("a"), [np.nan, 1.0])
