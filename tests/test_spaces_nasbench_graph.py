"""NASBenchGraph: cells from (link, ops), the benchmark's own keys, sampling, mutation."""

import itertools
import pickle

import numpy as np
import pytest

from skassess import Cell, InvalidCellError
from skassess.spaces import NASBenchGraph

nas_bench_graph = pytest.importorskip(
    "nas_bench_graph", reason="NAS-Bench-Graph tests need the nas-bench-graph package"
)


@pytest.fixture(scope="module")
def cora():
    return nas_bench_graph.light_read("cora")


def test_vocabulary_and_value_semantics():
    space = NASBenchGraph()
    assert space.ops == tuple(nas_bench_graph.architecture.gnn_list)
    assert (space.max_vertices, space.max_edges) == (6, 8)
    assert repr(space) == "NASBenchGraph()" and pickle.loads(pickle.dumps(space)) == space


def test_enumerate_gives_exactly_the_keys_of_the_benchmark(cora):
    space = NASBenchGraph()
    cells = space.enumerate()
    assert len(cells) == 26_206
    hashes = space.hash_many(cells)
    assert set(hashes.tolist()) == {str(key) for key in cora}
    assert len(set(hashes.tolist())) == len(cells)


def test_hash_is_the_package_valid_hash_for_every_link_and_op_choice():
    space = NASBenchGraph()
    arch_class = nas_bench_graph.architecture.Arch
    rng = np.random.default_rng(0)
    links = list(itertools.product(*[range(k + 1) for k in range(4)]))
    for link in links:  # all 24 wirings, including non-canonical ones
        for _ in range(20):
            ops = [space.ops[k] for k in rng.integers(0, 9, size=4)]
            if all(op == "skip" for op in ops):
                continue
            expected = str(arch_class(list(link), list(ops)).valid_hash())
            assert space.hash(space.cell_from_arch(link, ops)) == expected


def test_hash_ignores_the_order_of_computing_nodes():
    space = NASBenchGraph()
    for cell in space.sample(50, random_state=0):
        link, ops = space.arch(cell)
        # reverse the order of nodes where that keeps every node after the one it reads
        for perm in itertools.permutations(range(4)):
            new_of_old = {old + 1: new + 1 for new, old in enumerate(perm)}
            new_of_old[0] = 0
            new_link = [new_of_old[link[old]] for old in perm]
            if any(source > k for k, source in enumerate(new_link)):
                continue
            other = space.cell_from_arch(new_link, [ops[old] for old in perm])
            assert space.hash(other) == space.hash(cell)


def test_cell_structure_and_round_trip():
    space = NASBenchGraph()
    cell = space.cell_from_arch([0, 0, 1, 1], ["gcn", "gat", "fc", "skip"])
    # leaves: node 2 (reads the input), nodes 3 and 4 (read node 1)
    assert cell.matrix[:, 5].tolist() == [0, 0, 1, 1, 1, 0]
    assert space.arch(cell) == ([0, 0, 1, 1], ["gcn", "gat", "fc", "skip"])
    assert space.is_valid(cell) and space.prune(cell) == cell


@pytest.mark.parametrize(
    ("link", "ops", "message"),
    [
        ([0, 2, 0, 0], ["gcn"] * 4, "can read only"),
        ([0, 0, 0], ["gcn"] * 4, "4 predecessors"),
        ([0, 0, 0, 0], ["gcn"] * 3, "4 computing nodes"),
        ([0, 0, 0, 0], ["gcn", "gcn", "gcn", "transformer"], "unknown op 'transformer'"),
        ([0, 0, 0, 0], [0, 0, 0, 9], "outside 0..8"),
    ],
)
def test_bad_architectures(link, ops, message):
    with pytest.raises(InvalidCellError, match=message):
        NASBenchGraph().cell_from_arch(link, ops)


def test_invalid_cells():
    space = NASBenchGraph()
    all_skip = space.cell_from_arch([0, 1, 2, 3], ["skip"] * 4)
    assert not space.is_valid(all_skip)
    with pytest.raises(InvalidCellError, match="4 skip connections"):
        space.hash(all_skip)
    matrix = np.array(space.cell_from_arch([0, 1, 2, 3], ["gcn"] * 4).matrix)
    matrix[0, 2] = 1  # node 2 reads two nodes
    with pytest.raises(InvalidCellError, match="reads 2 nodes"):
        space.validate((matrix, ["input", *["gcn"] * 4, "output"]))
    matrix = np.array(space.cell_from_arch([0, 0, 0, 0], ["gcn"] * 4).matrix)
    matrix[1, 2] = 1
    matrix[0, 2] = 0  # the output still reads node 1, which node 2 now reads
    with pytest.raises(InvalidCellError, match="exactly the computing nodes"):
        space.validate((matrix, ["input", *["gcn"] * 4, "output"]))
    short = Cell(np.eye(3, k=1, dtype=np.uint8), ["input", "gcn", "output"])
    with pytest.raises(InvalidCellError, match="4 computing nodes"):
        space.validate(short)
    assert not space.is_valid("garbage")


def test_sample_and_mutate():
    space = NASBenchGraph()
    cells = space.sample(20, random_state=0)
    assert cells == space.sample(20, random_state=0)
    assert all(space.is_valid(c) for c in cells)
    for seed, parent in enumerate(cells):
        child = space.mutate(parent, random_state=seed)
        assert space.is_valid(child) and space.hash(child) != space.hash(parent)
        (link_a, ops_a), (link_b, ops_b) = space.arch(parent), space.arch(child)
        changes = sum(a != b for a, b in zip(link_a + ops_a, link_b + ops_b, strict=True))
        assert changes == 1


def test_hash_arrays_matches_hash():
    space = NASBenchGraph()
    cells = space.sample(10, random_state=1)
    adjacency = np.stack([c.matrix for c in cells])
    ids = np.array([[space.op_names.index(op) for op in c.ops] for c in cells])
    assert space.hash_arrays(adjacency, ids).tolist() == [space.hash(c) for c in cells]
