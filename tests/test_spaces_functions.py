"""The small functions behind CellSpace, each on its own."""

import numpy as np
import pytest

from skassess import Cell, InvalidCellError
from skassess.spaces import CellSpace, NASBench101, NASBench201, NASBenchGraph
from skassess.spaces._cache import RecentResults
from skassess.spaces._pruning import kept_first, prune_edges
from skassess.spaces._sampling import count_candidates, one_change_neighbours, random_cells
from skassess.spaces._validity import check_pruned, flag_outside


def test_recent_results_are_keyed_by_identity_and_bounded():
    cache = RecentResults(max_size=3)
    a, b = Cell([[0, 1], [0, 0]], ["input", "output"]), Cell([[0, 1], [0, 0]], ["input", "output"])
    cache.put(a, "x")
    assert a == b and cache.get(a) == "x" and cache.get(b) is None
    for k in range(3):
        cache.put(object(), k)
    assert len(cache) <= 3 and cache.get(a) is None  # full: started over


def test_prune_edges_and_kept_first_by_hand():
    # 0 -> 1 -> 3, 0 -> 2 (dead end), 4 is the output fed by 3
    matrix = np.zeros((1, 5, 5), dtype=bool)
    for i, j in [(0, 1), (1, 3), (0, 2), (3, 4)]:
        matrix[0, i, j] = True
    edges, keep = prune_edges(matrix, np.zeros((1, 5), dtype=bool))
    assert keep.tolist() == [[True, True, False, True, True]] and not edges[0, 0, 2]
    compact, ops = kept_first(edges, np.array([[0, 1, 2, 3, 4]]), keep, 6)
    assert ops.tolist() == [[0, 1, 3, 4, -1, -1]]
    assert np.argwhere(compact[0]).tolist() == [[0, 1], [1, 2], [2, 3]]
    removable = np.array([[False, False, False, True, False]])  # a 'none' at vertex 3
    _, keep = prune_edges(matrix, removable)
    assert not keep.any()


def test_flag_outside_agrees_with_check_pruned_one_by_one():
    space = CellSpace(ops=["a", "b"], max_vertices=4, max_edges=4)
    rng = np.random.default_rng(0)
    names = space.op_names
    for _ in range(200):
        matrix = np.triu(rng.integers(0, 2, (5, 5)), 1).astype(bool)
        ids = np.r_[0, rng.integers(0, len(names) + 1, 3), len(names) - 1]
        edges, keep = prune_edges(matrix[None], np.zeros((1, 5), dtype=bool))
        flagged = flag_outside(
            edges, keep, ids[None], n_names=len(names), max_vertices=4, max_edges=4
        )[0]
        if not keep.any():
            continue
        kept = np.flatnonzero(keep[0])
        pruned = Cell(
            matrix[np.ix_(kept, kept)],
            [names[i] if i < len(names) else "unknown" for i in ids[kept]],
        )
        try:
            check_pruned(pruned, kept, ops=space.ops, max_vertices=4, max_edges=4, space="X")
        except InvalidCellError:
            assert flagged
        else:
            assert not flagged


def test_random_cells_and_neighbours():
    rng = np.random.RandomState(0)
    cells = random_cells(
        rng, 5, ops=["a", "b"], max_vertices=4, check=CellSpace(["a", "b"])._check, prune=False
    )
    assert [c.n_vertices for c in cells] == [4] * 5
    with pytest.raises(RuntimeError, match="found only 0 valid cells of 1"):
        random_cells(rng, 1, ops=["a"], max_vertices=3, check=_refuse, prune=True)
    cell = cells[0]
    neighbours = list(one_change_neighbours(cell, ["a", "b"], rng))
    assert len(neighbours) == 6 + 2 and len(set(neighbours)) == 8  # 6 edges, 2 inner ops
    assert all(_differences(cell, other) == 1 for other in neighbours)
    assert count_candidates(1, 3) == 2 + 8  # one possible edge at 2 vertices, three at 3


def _refuse(cell):
    raise InvalidCellError("no")


def _differences(a, b):
    changed_ops = sum(x != y for x, y in zip(a.ops, b.ops, strict=True))
    return int((a.matrix != b.matrix).sum()) + changed_ops


class _Declared(CellSpace):
    vectorised_checks = True


class _Silent(CellSpace):
    pass


def test_vectorised_checks_are_declared_by_each_class():
    assert CellSpace.vectorised_checks and _Declared.vectorised_checks
    assert not _Silent.vectorised_checks
    for space in (NASBench101, NASBench201, NASBenchGraph):
        assert space.vectorised_checks


def test_the_caches_forget_a_changed_space():
    space = CellSpace(ops=["a"], max_vertices=3)
    cell = Cell([[0, 1, 0], [0, 0, 1], [0, 0, 0]], ["input", "a", "output"])
    space.validate(cell)
    assert space._memory.accepted.get(cell)
    space.max_vertices = 4
    assert space._memory.accepted.get(cell) is None
