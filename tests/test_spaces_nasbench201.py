"""NASBench201: arch strings <-> cells, pruning of 'none', hashing, sampling, mutation."""

import itertools
import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skassess import Cell, InvalidCellError
from skassess.spaces import NASBench201
from skassess.spaces._nasbench201 import LAYOUT, ZERO_CELL

ALL_NONE = "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"
CONV = "nor_conv_3x3"


def arch(*ops):
    ops = iter(ops)
    return "+".join("|" + "|".join(f"{next(ops)}~{s}" for s in range(t)) + "|" for t in range(1, 4))


@pytest.fixture(scope="module")
def table(nb201_path):
    with np.load(nb201_path) as data:
        return {k: data[k] for k in ("arch_str", "ops", "op_names")}


def test_space_vocabulary_and_value_semantics(table):
    space = NASBench201()
    assert space.ops == tuple(table["op_names"].tolist())
    assert space.op_names == ("input", *space.ops, "output")
    assert (space.max_vertices, space.max_edges) == (8, 10)
    assert repr(space) == "NASBench201()" and pickle.loads(pickle.dumps(space)) == space


def test_round_trip_over_every_architecture_of_the_table(table):
    space = NASBench201()
    for text, ops in zip(table["arch_str"].tolist(), table["ops"].tolist(), strict=True):
        cell = space.cell_from_arch_str(text)
        assert cell == space.cell_from_edge_ops(ops)
        assert space.arch_str(cell) == text
    assert len(set(table["arch_str"].tolist())) == 15_625


def test_every_architecture_is_valid_and_hashes(table):
    space = NASBench201()
    n = len(table["ops"])
    adjacency = np.broadcast_to(LAYOUT, (n, 8, 8))
    ids = np.column_stack([np.zeros(n, int), table["ops"] + 1, np.full(n, 6)])
    hashes = space.hash_arrays(adjacency, ids)
    assert 1 < len(set(hashes.tolist())) < 15_625  # equivalent architectures merge
    cells = [space.cell_from_edge_ops(ops) for ops in table["ops"].tolist()]
    some = np.random.default_rng(0).choice(n, 2000, replace=False)
    assert (space.hash_many([cells[k] for k in some]) == hashes[some]).all()
    for k in some[:200]:
        assert space.is_valid(cells[k]) and space.hash(cells[k]) == hashes[k]
        assert space.is_valid(space.prune(cells[k]))


def test_enumerate_is_the_15625_architectures(table):
    cells = NASBench201().enumerate()
    assert len(cells) == 15_625 == len(set(cells))
    space = NASBench201()
    assert {space.arch_str(c) for c in cells} == set(table["arch_str"].tolist())


def test_pruning_drops_none_and_dead_vertices():
    space = NASBench201()
    # node 1 feeds nothing that reaches the output: its input edge goes too
    cell = space.cell_from_arch_str(arch(CONV, "skip_connect", "none", "none", "none", CONV))
    assert space.prune(cell) == Cell(
        [[0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1], [0, 0, 0, 0]],
        ["input", "skip_connect", CONV, "output"],
    )


def test_cells_computing_zero_are_valid_and_prune_to_the_zero_cell():
    space = NASBench201()
    zero_like = [ALL_NONE, arch(CONV, "none", "none", "none", "none", "none")]
    for text in zero_like:
        cell = space.cell_from_arch_str(text)
        assert space.is_valid(cell)
        assert space.prune(cell) == ZERO_CELL
    assert len({space.hash(space.cell_from_arch_str(t)) for t in zero_like}) == 1
    assert space.is_valid(ZERO_CELL) and space.arch_str(ZERO_CELL) == ALL_NONE


def test_hash_merges_equivalent_architectures_and_separates_others():
    space = NASBench201()
    # ops on edges that reach no output do not matter
    a = arch(CONV, "skip_connect", "none", "none", "none", CONV)
    b = arch("avg_pool_3x3", "skip_connect", "none", "none", "none", CONV)
    assert space.hash(space.cell_from_arch_str(a)) == space.hash(space.cell_from_arch_str(b))
    # mirror images through nodes 1 and 2
    c = arch(CONV, "skip_connect", "none", "none", "avg_pool_3x3", "nor_conv_1x1")
    d = arch("skip_connect", CONV, "none", "none", "nor_conv_1x1", "avg_pool_3x3")
    assert space.hash(space.cell_from_arch_str(c)) == space.hash(space.cell_from_arch_str(d))
    e = arch(CONV, CONV, CONV, CONV, CONV, "skip_connect")
    f = arch(CONV, CONV, CONV, CONV, CONV, "nor_conv_1x1")
    assert space.hash(space.cell_from_arch_str(e)) != space.hash(space.cell_from_arch_str(f))


def test_other_spellings_of_a_member_are_valid_and_others_are_not():
    space = NASBench201()
    cell = space.cell_from_arch_str(arch(CONV, "skip_connect", CONV, "none", CONV, CONV))
    pruned = space.prune(cell)
    assert space.is_valid(pruned) and space.hash(pruned) == space.hash(cell)
    assert space.hash(space.cell_from_arch_str(space.arch_str(pruned))) == space.hash(cell)
    # a chain of four convolutions is no NAS-Bench-201 architecture
    chain = (np.eye(6, k=1, dtype=int), ["input", CONV, CONV, CONV, CONV, "output"])
    assert not space.is_valid(chain)
    with pytest.raises(InvalidCellError, match="none of the 15,625"):
        space.validate(chain)
    with pytest.raises(InvalidCellError, match=r"cell 1: .*none of the 15,625"):
        space.hash_many([cell, chain])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("|conv~0|+|none~0|none~1|", "3 nodes"),
        ("|none~0|+|none~0|+|none~0|none~1|none~2|", "must have 2 inputs"),
        ("|none~1|+|none~0|none~1|+|none~0|none~1|none~2|", "expected 'op~0'"),
        ("|conv5~0|+|none~0|none~1|+|none~0|none~1|none~2|", "unknown op 'conv5'"),
        ("none~0+|none~0|none~1|+|none~0|none~1|none~2|", "framed"),
    ],
)
def test_bad_arch_strings(text, message):
    with pytest.raises(InvalidCellError, match=message):
        NASBench201().cell_from_arch_str(text)


def test_bad_edge_ops():
    space = NASBench201()
    with pytest.raises(InvalidCellError, match="6 edges"):
        space.cell_from_edge_ops([0, 1])
    with pytest.raises(InvalidCellError, match=r"outside 0\.\.4"):
        space.cell_from_edge_ops([0, 1, 2, 3, 4, 5])


def test_sample_is_uniform_over_architectures_and_deterministic():
    space = NASBench201()
    cells = space.sample(3000, random_state=0)
    assert cells == space.sample(3000, random_state=0)
    assert all(c.matrix is LAYOUT or (c.matrix == LAYOUT).all() for c in cells[:50])
    counts = np.unique([op for c in cells for op in c.ops[1:-1]], return_counts=True)[1]
    assert counts.min() > 0.9 * 3000 * 6 / 5
    pruned = space.sample(5, random_state=0, prune=True)
    assert pruned == [space.prune(c) for c in cells[:5]]


def test_mutate_changes_one_edge_to_another_graph():
    space = NASBench201()
    for seed, parent in enumerate(space.sample(30, random_state=1)):
        child = space.mutate(parent, random_state=seed)
        assert sum(a != b for a, b in zip(parent.ops, child.ops, strict=True)) == 1
        assert space.hash(child) != space.hash(parent)
        assert child == space.mutate(parent, random_state=seed)
    assert space.hash(space.mutate(ZERO_CELL, random_state=0)) != space.hash(ZERO_CELL)


@settings(max_examples=40, deadline=None)
@given(ops=st.lists(st.integers(0, 4), min_size=6, max_size=6), seed=st.integers(0, 2**32 - 1))
def test_hash_is_invariant_to_vertex_order_and_relabelled_cells_are_members(ops, seed):
    space = NASBench201()
    cell = space.cell_from_edge_ops(ops)
    rng = np.random.default_rng(seed)
    # a random topological order of the 8-vertex graph
    indegree = cell.matrix.sum(axis=0).astype(int)
    ready, order = [0], []
    while ready:
        v = ready.pop(int(rng.integers(len(ready))))
        order.append(v)
        for w in np.flatnonzero(cell.matrix[v]).tolist():
            indegree[w] -= 1
            if indegree[w] == 0:
                ready.append(w)
    other = Cell(cell.matrix[np.ix_(order, order)], [cell.ops[i] for i in order])
    assert space.is_valid(other)
    assert space.hash(other) == space.hash(cell)
    assert space.hash(space.cell_from_arch_str(space.arch_str(other))) == space.hash(cell)


def _isomorphic(a, b):
    """Brute force: some order of b's inner vertices gives a's labelled graph."""
    if a.n_vertices != b.n_vertices or sorted(a.ops) != sorted(b.ops):
        return False
    n = a.n_vertices
    for inner in itertools.permutations(range(1, n - 1)):
        order = [0, *inner, n - 1]
        if [b.ops[i] for i in order] == list(a.ops) and (
            b.matrix[np.ix_(order, order)] == a.matrix
        ).all():
            return True
    return False


def test_equal_hashes_mean_isomorphic_pruned_graphs():
    space = NASBench201()
    cells = space.enumerate()
    hashes = space.hash_many(cells)
    rng = np.random.default_rng(0)
    by_hash = {}
    for k, key in enumerate(hashes.tolist()):
        by_hash.setdefault(key, []).append(k)
    shared = [members for members in by_hash.values() if len(members) > 1]
    for members in [shared[i] for i in rng.choice(len(shared), 150, replace=False)]:
        a, b = rng.choice(members, 2, replace=False)
        assert _isomorphic(space.prune(cells[a]), space.prune(cells[b]))
    for _ in range(150):
        a, b = rng.choice(len(cells), 2, replace=False)
        if hashes[a] != hashes[b]:
            assert not _isomorphic(space.prune(cells[a]), space.prune(cells[b]))
