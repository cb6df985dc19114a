"""CellSpace and NASBench101: validity, pruning, hashing, sampling, mutation."""

import copy
import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skassess import Cell, InvalidCellError, as_cells
from skassess.spaces import CellSpace, NASBench101

C1, C3, MP = "conv1x1-bn-relu", "conv3x3-bn-relu", "maxpool3x3"
IN, OUT = "input", "output"

# The README's fact: row 67206 of nasbench101.npz, in another vertex order.
README_MATRIX = np.array(
    [
        [0, 1, 1, 1, 0, 1, 0],
        [0, 0, 0, 0, 0, 0, 1],
        [0, 0, 0, 0, 0, 0, 1],
        [0, 0, 0, 0, 1, 0, 0],
        [0, 0, 0, 0, 0, 0, 1],
        [0, 0, 0, 0, 0, 0, 1],
        [0, 0, 0, 0, 0, 0, 0],
    ]
)
README_OPS = [IN, C1, C3, C3, C3, MP, OUT]
README_HASH = "28cfc7874f6d200472e1a9dcd8650aa0"


def chain(*inner):
    n = len(inner) + 2
    return np.eye(n, k=1, dtype=int), [IN, *inner, OUT]


def permute_inner(matrix, ops, rng):
    n = len(ops)
    order = np.concatenate([[0], 1 + rng.permutation(n - 2), [n - 1]])
    # topological relabelling keeps the matrix upper-triangular only for some
    # permutations; build the permuted graph and re-sort it topologically
    matrix = np.asarray(matrix)[np.ix_(order, order)]
    ops = [ops[i] for i in order]
    return _topological(matrix, ops)


def _topological(matrix, ops):
    n = len(ops)
    remaining, placed = list(range(n)), []
    while remaining:
        for v in remaining:
            if not any(matrix[u, v] for u in remaining if u != v):
                placed.append(v)
                remaining.remove(v)
                break
    matrix = matrix[np.ix_(placed, placed)]
    return matrix, [ops[i] for i in placed]


# ---------------------------------------------------------------- value semantics


def test_spaces_are_values():
    space = NASBench101()
    assert space == NASBench101() and hash(space) == hash(NASBench101())
    assert repr(space) == "NASBench101()"
    assert pickle.loads(pickle.dumps(space)) == space
    assert copy.deepcopy(space) == space
    custom = CellSpace(ops=["a", "b"], max_vertices=5, max_edges=6)
    assert eval(repr(custom), {"CellSpace": CellSpace}) == custom
    assert custom != CellSpace(ops=["a", "b"], max_vertices=5)
    # same ops, other labels: a different space
    assert CellSpace(ops=space.ops, max_vertices=7, max_edges=9) != space


def test_nasbench101_vocabulary_matches_the_shared_table():
    space = NASBench101()
    assert space.op_names == (IN, C1, C3, MP, OUT)
    assert space.ops == (C1, C3, MP)
    assert (space.max_vertices, space.max_edges) == (7, 9)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"ops": "conv"}, "sequence of operation names"),
        ({"ops": []}, "at least one"),
        ({"ops": ["a", "a"]}, "distinct"),
        ({"ops": ["input"]}, "reserved"),
        ({"ops": ["a"], "max_vertices": 1}, "max_vertices"),
        ({"ops": ["a"], "max_edges": 0}, "max_edges"),
    ],
)
def test_bad_space_parameters(kwargs, message):
    with pytest.raises((TypeError, ValueError), match=message):
        CellSpace(**kwargs)


# ---------------------------------------------------------------- hashing


def test_readme_cell_has_its_official_hash():
    space = NASBench101()
    assert space.hash((README_MATRIX, README_OPS)) == README_HASH
    assert space.hash_many([(README_MATRIX, README_OPS)]).tolist() == [README_HASH]
    ids = [space.op_names.index(op) for op in README_OPS]
    assert space.hash((README_MATRIX, ids)) == README_HASH  # integer op ids


def test_hash_invariant_to_inner_vertex_order_on_readme_cell():
    space = NASBench101()
    rng = np.random.default_rng(0)
    for _ in range(20):
        matrix, ops = permute_inner(README_MATRIX, README_OPS, rng)
        assert space.hash((matrix, ops)) == README_HASH


def test_hash_separates_different_cells():
    space = NASBench101()
    assert space.hash(chain(C3)) != space.hash(chain(C1))
    assert space.hash(chain(C3, C1)) != space.hash(chain(C1, C3))


def test_hash_of_cells_equal_after_pruning_is_equal():
    space = NASBench101()
    matrix = np.zeros((4, 4), dtype=int)
    matrix[0, 1] = matrix[1, 3] = matrix[0, 2] = 1  # vertex 2 reaches no output
    assert space.hash((matrix, [IN, C3, MP, OUT])) == space.hash(chain(C3))


def test_hash_many_and_hash_arrays_match_hash():
    space = NASBench101()
    cells = space.sample(40, random_state=1, prune=False)
    expected = [space.hash(c) for c in cells]
    assert space.hash_many(cells).tolist() == expected
    adjacency = np.stack([c.matrix for c in cells])
    ops = np.array([[space.op_names.index(op) for op in c.ops] for c in cells])
    assert space.hash_arrays(adjacency, ops).tolist() == expected


def test_hash_many_names_the_invalid_cell():
    space = NASBench101()
    cells = [chain(C3), chain(C3, C3, C3, C3, C3, C3)]  # 8 vertices
    with pytest.raises(InvalidCellError, match=r"cell 1: .*8 vertices after pruning"):
        space.hash_many(cells)


def test_hash_arrays_rejects_bad_rows():
    space = NASBench101()
    adjacency = np.zeros((2, 3, 3), dtype=np.uint8)
    adjacency[:, 0, 1] = adjacency[:, 1, 2] = 1
    ops = np.array([[0, 2, 4], [0, 2, 7]])
    with pytest.raises(InvalidCellError, match="cell 1: op ids must lie in"):
        space.hash_arrays(adjacency, ops)
    ops = np.array([[0, 2, 4], [0, -1, 4]])
    with pytest.raises(InvalidCellError, match="cell 1: padding"):
        space.hash_arrays(adjacency, ops)
    ops = np.array([[0, 2, 4], [0, 0, 4]])
    with pytest.raises(InvalidCellError, match="cell 1: 'input' at vertex 1"):
        space.hash_arrays(adjacency, ops)
    cyclic = adjacency.copy()
    cyclic[1, 2, 0] = 1
    with pytest.raises(InvalidCellError, match=r"cell 1: .*upper-triangular"):
        space.hash_arrays(cyclic, np.array([[0, 2, 4], [0, 2, 4]]))


# ---------------------------------------------------------------- validity


def _cycle():
    matrix = np.eye(3, k=1, dtype=int)
    matrix[2, 1] = 1
    return matrix, [IN, C3, OUT]


def _too_many_edges():
    matrix = np.triu(np.ones((7, 7), dtype=int), 1)  # 21 edges
    return matrix, [IN, C3, C3, C3, C3, C3, OUT]


def _disconnected():
    matrix = np.zeros((3, 3), dtype=int)
    matrix[0, 1] = 1
    return matrix, [IN, C3, OUT]


INVALID = {
    "not square": (([[0, 1, 0], [0, 0, 1]], [IN, C3, OUT]), "square"),
    "cycle": (_cycle(), "upper-triangular"),
    "self-loop": (([[0, 1], [0, 1]], [IN, OUT]), "self-loop"),
    "length mismatch": ((np.eye(3, k=1, dtype=int), [IN, OUT]), "different lengths"),
    "unknown op": (chain("conv5x5"), "unknown op 'conv5x5' at vertex 1"),
    "op id out of range": ((np.eye(3, k=1, dtype=int), [0, 9, 4]), "outside 0..4"),
    "too many vertices": (chain(*[C3] * 6), "8 vertices after pruning, more than max_vertices=7"),
    "too many edges": (_too_many_edges(), "21 edges after pruning, more than max_edges=9"),
    "no input": ((np.eye(3, k=1, dtype=int), [C3, C3, OUT]), "first vertex must be the input"),
    "no output": ((np.eye(3, k=1, dtype=int), [IN, C3, C3]), "last vertex must be the output"),
    "input inside": ((np.eye(3, k=1, dtype=int), [IN, IN, OUT]), "'input' at vertex 1"),
    "disconnected": (_disconnected(), "input cannot reach the output"),
    "garbage": ("garbage", "got the string 'garbage', not a cell"),
    "none": (None, "cannot read a cell"),
    "ragged": (([[0, 1], [0]], [IN, OUT]), "matrix"),
    "not 0/1": (([[0, 2], [0, 0]], [IN, OUT]), "0 or 1"),
}


@pytest.mark.parametrize("name", sorted(INVALID))
def test_invalid_cells_are_rejected_with_the_reason(name):
    cell, message = INVALID[name]
    space = NASBench101()
    assert space.is_valid(cell) is False
    with pytest.raises(InvalidCellError, match=message):
        space.validate(cell)


def test_is_valid_never_raises():
    space = NASBench101()
    weird = [object(), 3.5, {"matrix": 1}, ([[[0]]], [IN]), (np.zeros((0, 0)), []), {}]
    assert not any(space.is_valid(w) for w in weird)


def test_limits_apply_after_pruning_as_in_nasbench():
    space = NASBench101()
    # 8 vertices, but one dangles: valid once pruned, as the official API says
    matrix = np.zeros((8, 8), dtype=int)
    for i in range(5):
        matrix[i, i + 1] = 1
    matrix[5, 7] = 1
    matrix[0, 6] = 1  # vertex 6 reaches no output
    ops = [IN, C3, C3, C3, C3, C3, "not-an-op", OUT]
    assert space.is_valid((matrix, ops))
    assert space.prune((matrix, ops)).n_vertices == 7
    assert space.validate((matrix, ops)) == Cell(matrix, ops)  # returned unpruned


def test_validate_accepts_every_spelling_and_as_cells_uses_it():
    space = NASBench101()
    matrix, ops = chain(C3, MP)
    ids = [space.op_names.index(op) for op in ops]
    spellings = [Cell(matrix, ops), (matrix, ops), {"matrix": matrix, "ops": ops}, (matrix, ids)]
    assert {space.validate(s) for s in spellings} == {Cell(matrix, ops)}
    assert len(as_cells(spellings, space=space)) == 4
    with pytest.raises(InvalidCellError, match=r"cell 1: .*input cannot reach"):
        as_cells([chain(C3), _disconnected()], space=space)


# ---------------------------------------------------------------- pruning


def test_prune_drops_unreachable_and_dead_end_vertices():
    space = NASBench101()
    matrix = np.zeros((6, 6), dtype=int)
    matrix[0, 1] = matrix[1, 5] = 1  # the path
    matrix[2, 5] = 1  # vertex 2: not reachable from the input
    matrix[0, 3] = 1  # vertex 3: reaches no output
    matrix[3, 4] = 1  # vertex 4: reachable, but a dead end too
    pruned = space.prune((matrix, [IN, C1, C3, MP, C3, OUT]))
    assert pruned == Cell([[0, 1, 0], [0, 0, 1], [0, 0, 0]], [IN, C1, OUT])


def test_prune_keeps_a_pruned_cell_and_reports_nothing_left():
    space = NASBench101()
    cell = Cell(README_MATRIX, README_OPS)
    assert space.prune(cell) == cell
    with pytest.raises(InvalidCellError, match="pruning leaves nothing"):
        space.prune(_disconnected())
    two = space.prune(([[0, 1, 1], [0, 0, 0], [0, 0, 0]], [IN, C3, OUT]))
    assert two == Cell([[0, 1], [0, 0]], [IN, OUT])


# ---------------------------------------------------------------- sample / mutate / enumerate


def test_sample_is_valid_and_deterministic():
    space = NASBench101()
    cells = space.sample(30, random_state=0)
    assert len(cells) == 30 and all(space.is_valid(c) for c in cells)
    assert all(space.prune(c) == c for c in cells)
    assert cells == space.sample(30, random_state=0)
    assert cells != space.sample(30, random_state=1)
    raw = space.sample(30, random_state=0, prune=False)
    assert all(c.n_vertices == 7 for c in raw)
    assert [space.prune(c) for c in raw] == cells
    assert space.sample(0) == []


def test_sample_fails_clearly_when_valid_cells_are_too_rare():
    space = CellSpace(ops=["a"], max_vertices=16, max_edges=1)
    with pytest.raises(RuntimeError, match="too rare"):
        space.sample(1, random_state=0)


def test_mutate_changes_one_thing_and_stays_valid():
    space = NASBench101()
    parents = space.sample(20, random_state=3, prune=False)
    for seed, parent in enumerate(parents):
        child = space.mutate(parent, random_state=seed)
        assert space.is_valid(child)
        assert space.hash(child) != space.hash(parent)
        assert child.n_vertices == parent.n_vertices
        changes = int((child.matrix != parent.matrix).sum()) + sum(
            a != b for a, b in zip(child.ops, parent.ops, strict=True)
        )
        assert changes == 1
        assert child == space.mutate(parent, random_state=seed)


def test_mutate_rejects_invalid_parent():
    with pytest.raises(InvalidCellError):
        NASBench101().mutate(_disconnected())


def test_enumerate_small_space_and_refuse_large():
    space = CellSpace(ops=["a", "b"], max_vertices=4)
    cells = space.enumerate()
    hashes = space.hash_many(cells)
    assert len(set(hashes.tolist())) == len(cells)
    # every sampled cell is one of them
    assert set(space.hash_many(space.sample(200, random_state=0)).tolist()) <= set(hashes)
    # 1 two-vertex cell, 2 ops x 2 wirings for 3 vertices
    assert len(CellSpace(ops=["a", "b"], max_vertices=3).enumerate()) == 1 + 2 * 2
    with pytest.raises(ValueError, match="load_nasbench101"):
        NASBench101().enumerate()


# ---------------------------------------------------------------- properties


@st.composite
def nb101_cells(draw):
    seed = draw(st.integers(0, 2**32 - 1))
    return NASBench101().sample(1, random_state=seed, prune=False)[0]


@settings(max_examples=40, deadline=None)
@given(cell=nb101_cells(), seed=st.integers(0, 2**32 - 1))
def test_hash_is_invariant_to_inner_vertex_order(cell, seed):
    space = NASBench101()
    matrix, ops = permute_inner(cell.matrix, list(cell.ops), np.random.default_rng(seed))
    assert space.hash((matrix, ops)) == space.hash(cell)
    assert space.hash_many([(matrix, ops)])[0] == space.hash(cell)


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(2, 9),
    bits=st.lists(st.integers(0, 1), min_size=36, max_size=36),
    ops=st.lists(st.sampled_from([C1, C3, MP, IN, OUT, "x"]), min_size=9, max_size=9),
)
def test_is_valid_agrees_with_validate_on_arbitrary_cells(n, bits, ops):
    space = NASBench101()
    matrix = np.zeros((n, n), dtype=int)
    matrix[np.triu_indices(n, 1)] = bits[: n * (n - 1) // 2]
    cell = (matrix, ops[:n])
    try:
        space.validate(cell)
    except InvalidCellError:
        assert not space.is_valid(cell)
    else:
        assert space.is_valid(cell)
        assert space.hash_many([cell])[0] == space.hash(cell)


def test_spaces_survive_sklearn_clone_as_estimator_parameters():
    from sklearn.base import BaseEstimator, clone

    class Holder(BaseEstimator):
        def __init__(self, space=None):
            self.space = space

    for space in (NASBench101(), CellSpace(ops=["a"], max_vertices=3)):
        copy_ = clone(Holder(space=space))
        assert copy_.space == space and copy_.get_params()["space"] == space


def test_hash_cache_does_not_mix_spaces():
    matrix, ops = chain(C3, C1)
    official = NASBench101().hash((matrix, ops))
    custom = CellSpace(ops=[C1, C3, MP], max_vertices=7, max_edges=9)
    # same graph, other labels (conv1x1 is label 0 here, 1 in NAS-Bench-101)
    assert custom.hash((matrix, ops)) != official
    assert NASBench101().hash((matrix, ops)) == official


# ---------------------------------------------------------------- batch validation (as_cells)


def _fresh(cells):
    """Copies of the cells with no cached verdict."""
    return [Cell._trusted(np.array(c.matrix), c.ops) for c in cells]


def _one_by_one(space, cells):
    """What as_cells(cells, space) raised when it validated each cell in turn, or None."""
    for position, cell in enumerate(cells):
        try:
            space.validate(Cell._trusted(np.array(cell.matrix), cell.ops))
        except InvalidCellError as exc:
            return f"cell {position}: {exc}"
    return None


def _batch(space, cells):
    try:
        as_cells(cells, space)
    except InvalidCellError as exc:
        return str(exc)
    return None


def assert_batch_matches_one_by_one(space, cells):
    """as_cells (vectorised, cached) decides and words errors as validate does, cell by cell."""
    verdicts = [_one_by_one(space, [cell]) for cell in cells]
    invalid = [k for k, verdict in enumerate(verdicts) if verdict is not None]
    assert invalid and len(invalid) < len(cells), "a mix of valid and invalid cells is needed"
    flagged = space._flag_cells(_fresh(cells))
    assert flagged[invalid].all(), "the vectorised check accepted an invalid cell"
    valid = [cells[k] for k in range(len(cells)) if verdicts[k] is None]
    assert _batch(space, _fresh(valid)) is None
    assert _batch(space, valid) is None  # now from the cache
    assert _batch(space, valid) is None
    for k in invalid:  # each invalid cell after the valid ones, at its own position
        batch = [*valid, cells[k]]
        expected = f"cell {len(valid)}: " + verdicts[k].split(": ", 1)[1]
        assert _batch(space, _fresh(batch)) == expected == _one_by_one(space, batch)
        assert _batch(space, batch) == expected  # valid ones cached, the invalid one is not
    assert _batch(space, _fresh(cells)) == _one_by_one(space, cells)


def _random_cells(ops, n_cells, sizes, seed):
    rng = np.random.default_rng(seed)
    cells = []
    for _ in range(n_cells):
        n = int(rng.integers(*sizes))
        matrix = np.triu(rng.integers(0, 2, (n, n)), 1).astype(np.uint8)
        names = [ops[i] for i in rng.integers(0, len(ops), n)]
        if rng.random() < 0.8:
            names[0], names[-1] = IN, OUT
        cells.append(Cell(matrix, names))
    return cells


def _nb101_mix():
    space = NASBench101()
    eight = np.zeros((8, 8), dtype=int)
    for i in range(5):
        eight[i, i + 1] = 1
    eight[5, 7] = eight[0, 6] = 1  # vertex 6 reaches no output: valid once pruned
    specials = [
        Cell(eight, [IN, C3, C3, C3, C3, C3, "not-an-op", OUT]),
        Cell(eight, [IN, C3, C3, C3, C3, "not-an-op", C3, OUT]),  # the bad op is kept
        Cell(*chain("conv5x5")),
        Cell(*chain(*[C3] * 6)),
        Cell(*_too_many_edges()),
        Cell(np.eye(3, k=1, dtype=int), [C3, C3, OUT]),
        Cell(np.eye(3, k=1, dtype=int), [IN, C3, C3]),
        Cell(np.eye(3, k=1, dtype=int), [IN, IN, OUT]),
        Cell(np.eye(3, k=1, dtype=int), [IN, OUT, OUT]),
        Cell(*_disconnected()),
        Cell([[0, 1], [0, 0]], [IN, OUT]),
        Cell([[0, 0], [0, 0]], [IN, OUT]),
    ]
    rng = np.random.default_rng(0)
    specials += space.sample(20, random_state=0, prune=False) + space.sample(20, random_state=1)
    specials += _random_cells([C1, C3, MP, IN, OUT, "x"], 200, (2, 10), seed=2)
    return space, [specials[k] for k in rng.permutation(len(specials))]


def test_as_cells_batch_matches_validate_on_nasbench101():
    assert_batch_matches_one_by_one(*_nb101_mix())


def test_as_cells_batch_matches_validate_on_a_generic_space():
    space = CellSpace(ops=["a", "b"], max_vertices=5, max_edges=6)
    cells = _random_cells(["a", "b", IN, OUT, "c"], 300, (2, 8), seed=3)
    assert_batch_matches_one_by_one(space, cells)
    unlimited = CellSpace(ops=["a", "b"], max_vertices=6)
    assert_batch_matches_one_by_one(unlimited, cells)


def test_as_cells_batch_matches_validate_on_nasbench201():
    from skassess.spaces import NASBench201
    from skassess.spaces._nasbench201 import LAYOUT, ZERO_CELL

    space = NASBench201()
    sampled = space.sample(60, random_state=0)
    cells = [*sampled, *(space.prune(c) for c in sampled[:30]), ZERO_CELL]
    cells.append(Cell(LAYOUT, [IN, *["none"] * 6, OUT]))  # computes zero: valid
    cells.append(Cell(LAYOUT, [IN, "nor_conv_3x3", *["skip_connect"] * 5, IN]))
    cells.append(Cell(LAYOUT, [IN, "conv5x5", *["skip_connect"] * 5, OUT]))
    cells.append(Cell(LAYOUT, [IN, OUT, *["skip_connect"] * 5, OUT]))
    cells.append(Cell(*chain(*["nor_conv_3x3"] * 4)))  # a chain of 4 convs: no architecture
    cells.append(Cell(*chain("nor_conv_3x3")))  # one conv from input to output: a member
    cells += _random_cells([*space.ops, IN, OUT], 150, (2, 9), seed=4)
    rng = np.random.default_rng(5)
    assert_batch_matches_one_by_one(space, [cells[k] for k in rng.permutation(len(cells))])


def test_as_cells_batch_matches_validate_on_nasbench_graph():
    pytest.importorskip("nas_bench_graph")
    from skassess.spaces import NASBenchGraph

    space = NASBenchGraph()
    cells = space.sample(60, random_state=0)
    cells.append(space.cell_from_arch([0, 1, 2, 3], ["skip"] * 4))  # 4 skips: not an arch
    unknown = (*cells[0].ops[:4], "unknown", OUT)
    cells.append(Cell(cells[0].matrix, unknown))
    padded = np.zeros((7, 7), dtype=np.uint8)  # a valid cell plus a dead-end vertex
    padded[:5, :5] = cells[0].matrix[:5, :5]
    padded[:5, 6] = cells[0].matrix[:5, 5]
    padded[0, 5] = 1
    cells.append(Cell(padded, [*cells[0].ops[:5], "gcn", OUT]))
    cells += _random_cells([*space.ops, IN, OUT], 200, (5, 8), seed=6)
    rng = np.random.default_rng(7)
    assert_batch_matches_one_by_one(space, [cells[k] for k in rng.permutation(len(cells))])


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n_cells=st.integers(1, 40),
    space_kind=st.sampled_from(["nb101", "generic"]),
)
def test_as_cells_agrees_with_validate_one_by_one(seed, n_cells, space_kind):
    if space_kind == "nb101":
        space, ops = NASBench101(), [C1, C3, MP, IN, OUT, "x"]
    else:
        space, ops = CellSpace(ops=["a", "b"], max_vertices=4, max_edges=4), ["a", "b", IN, OUT]
    cells = _random_cells(ops, n_cells, (2, 9), seed)
    assert _batch(space, _fresh(cells)) == _one_by_one(space, cells)
    pairs = [(c.matrix, list(c.ops)) for c in cells]
    assert _batch(space, pairs) == _one_by_one(space, cells)


class _NoSecondPool(CellSpace):
    """A subclass with a check of its own that the vectorised check does not know."""

    def _check_pruned(self, pruned, kept):
        super()._check_pruned(pruned, kept)
        if pruned.ops[1:-1].count(MP) > 1:
            raise InvalidCellError("at most one maxpool")


class _Lenient(NASBench101):
    """A subclass that overrides validate itself."""

    def validate(self, cell):
        cell = self._as_cell(cell)
        if cell.ops[1:-1] == ("anything",):
            return cell
        return super().validate(cell)


def test_as_cells_honours_subclasses_that_change_the_checks():
    two_pools, one_pool = Cell(*chain(MP, MP)), Cell(*chain(MP, C3))
    space = _NoSecondPool(ops=[C1, C3, MP], max_vertices=7, max_edges=9)
    assert as_cells([one_pool], space) == [one_pool]
    with pytest.raises(InvalidCellError, match="cell 1: at most one maxpool"):
        as_cells([one_pool, two_pools], space)
    with pytest.raises(InvalidCellError, match="at most one maxpool"):
        space.validate(two_pools)
    # validated by an equal-looking space first: no verdict leaks to the subclass
    plain = CellSpace(ops=[C1, C3, MP], max_vertices=7, max_edges=9)
    assert as_cells([two_pools], plain) == [two_pools]
    with pytest.raises(InvalidCellError, match="cell 0: at most one maxpool"):
        as_cells([two_pools], space)
    anything = Cell(*chain("anything"))
    assert as_cells([one_pool, anything], _Lenient()) == [one_pool, anything]
    with pytest.raises(InvalidCellError, match="cell 0: unknown op 'anything'"):
        as_cells([anything], NASBench101())


def test_cached_verdicts_are_per_space_and_only_for_valid_cells():
    cell = Cell(*chain(C3, C3, C3))
    strict = CellSpace(ops=[C1, C3, MP], max_vertices=4)
    assert as_cells([cell], NASBench101()) == [cell]
    with pytest.raises(InvalidCellError, match=r"cell 0: .*5 vertices after pruning"):
        as_cells([cell], strict)
    with pytest.raises(InvalidCellError, match="5 vertices after pruning"):
        strict.validate(cell)  # still checked: invalid verdicts are not cached
    assert NASBench101().validate(cell) is cell
    strict.max_vertices = 5  # a changed space is another space
    assert as_cells([cell], strict) == [cell]


def test_as_cells_reports_the_first_problem_whether_reading_or_validating():
    space = NASBench101()
    good, outside = chain(C3), _disconnected()
    with pytest.raises(InvalidCellError, match=r"cell 1: .*input cannot reach"):
        as_cells([good, outside, "garbage"], space)
    with pytest.raises(InvalidCellError, match="cell 1: got the string 'garbage'"):
        as_cells([good, "garbage", outside], space)
    with pytest.raises(InvalidCellError, match=r"cell 0: .*input cannot reach"):
        as_cells((c for c in [outside, good, (good[0], [0, 9, 4])]), space)
    assert as_cells([], space) == []
