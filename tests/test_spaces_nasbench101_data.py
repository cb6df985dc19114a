"""NASBench101 against the official hashes of all 423,624 cells of the shared table."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skassess import Cell
from skassess.spaces import NASBench101


@pytest.fixture(scope="module")
def table(nb101_path):
    with np.load(nb101_path) as data:
        return {k: data[k] for k in ("hashes", "adjacency", "ops", "num_vertices")}


def _cell(table, row):
    n = int(table["num_vertices"][row])
    names = NASBench101().op_names
    return Cell(table["adjacency"][row, :n, :n], [names[i] for i in table["ops"][row, :n]])


def test_readme_row_is_the_readme_hash(table):
    space = NASBench101()
    assert table["hashes"][67206].decode() == "28cfc7874f6d200472e1a9dcd8650aa0"
    assert space.hash(_cell(table, 67206)) == "28cfc7874f6d200472e1a9dcd8650aa0"


def test_hash_arrays_reproduces_official_hashes_of_a_random_subset(table):
    rows = np.sort(np.random.default_rng(1).choice(len(table["hashes"]), 20_000, replace=False))
    hashes = NASBench101().hash_arrays(table["adjacency"][rows], table["ops"][rows])
    assert (hashes == table["hashes"][rows].astype(str)).all()


@pytest.mark.slow  # about 25 s of CPU time
def test_hash_arrays_reproduces_every_official_hash(table):
    hashes = NASBench101().hash_arrays(table["adjacency"], table["ops"])
    official = table["hashes"].astype(str)
    mismatches = np.flatnonzero(hashes != official)
    assert mismatches.size == 0, f"{mismatches.size} mismatches, first rows {mismatches[:5]}"


def test_hash_many_on_cells_with_permuted_inner_vertices(table):
    space = NASBench101()
    rng = np.random.default_rng(0)
    rows = rng.choice(len(table["hashes"]), size=3000, replace=False)
    cells = []
    for row in rows:
        cell = _cell(table, row)
        n = cell.n_vertices
        # a random topological order of the same graph
        order = _random_topological_order(cell.matrix, rng)
        cells.append(Cell(cell.matrix[np.ix_(order, order)], [cell.ops[i] for i in order]))
        assert order[0] == 0 and order[-1] == n - 1
    assert (space.hash_many(cells) == table["hashes"][rows].astype(str)).all()
    for cell, row in zip(cells[:100], rows[:100], strict=True):
        assert space.hash(cell) == table["hashes"][row].decode()


def _random_topological_order(matrix, rng):
    n = matrix.shape[0]
    indegree = matrix.sum(axis=0).astype(int)
    ready, order = [0], []
    while ready:
        v = ready.pop(int(rng.integers(len(ready))))
        order.append(v)
        for w in np.flatnonzero(matrix[v]):
            indegree[w] -= 1
            if indegree[w] == 0:
                ready.append(int(w))
    assert len(order) == n
    return order


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_real_cells_hash_officially_in_any_vertex_order(table, data):
    row = data.draw(st.integers(0, len(table["hashes"]) - 1), label="row")
    seed = data.draw(st.integers(0, 2**32 - 1), label="seed")
    cell = _cell(table, row)
    order = _random_topological_order(cell.matrix, np.random.default_rng(seed))
    permuted = Cell(cell.matrix[np.ix_(order, order)], [cell.ops[i] for i in order])
    assert NASBench101().hash(permuted) == table["hashes"][row].decode()


def test_every_cell_of_the_table_validates_in_a_batch_and_from_the_cache(nb101_path):
    from skassess import as_cells
    from skassess.datasets import load_nasbench101

    bench = load_nasbench101(nb101_path)
    cells = [Cell._trusted(c.matrix, c.ops) for c in bench.cells]  # no cached verdicts
    assert len(cells) == 423_624
    assert as_cells(cells, bench.space) == cells
    assert all(bench.space._memory.accepted.get(cell) for cell in cells)
    assert as_cells(cells, bench.space) == cells
