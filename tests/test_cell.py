import pickle

import numpy as np
import pytest

from skassess import Cell, InvalidCellError, as_cell, as_cells

OPS3 = ["input", "conv3x3-bn-relu", "output"]
M3 = [[0, 1, 1], [0, 0, 1], [0, 0, 0]]


class FakeModelSpec:
    def __init__(self, matrix, ops):
        self.matrix = np.asarray(matrix)
        self.ops = ops


def test_value_semantics_and_immutability():
    a, b = Cell(M3, OPS3), Cell(np.array(M3), tuple(OPS3))
    assert a == b and hash(a) == hash(b) and len({a, b}) == 1
    assert a != Cell([[0, 1, 0], [0, 0, 1], [0, 0, 0]], OPS3)
    with pytest.raises(ValueError):
        a.matrix[0, 1] = 0
    assert pickle.loads(pickle.dumps(a)) == a
    assert a.n_vertices == 3 and a.n_edges == 3


def test_as_cells_accepts_every_spelling():
    spellings = [
        Cell(M3, OPS3),
        (M3, OPS3),
        {"matrix": M3, "ops": OPS3},
        FakeModelSpec(M3, OPS3),
    ]
    cells = as_cells(spellings)
    assert all(c == cells[0] for c in cells)


class _Space:
    op_names = ("input", "conv1x1-bn-relu", "conv3x3-bn-relu", "maxpool3x3", "output")

    def validate(self, cell):
        return cell


def test_integer_ops_need_a_space():
    with pytest.raises(InvalidCellError, match="space"):
        as_cell((M3, [0, 2, 4]))
    assert as_cell((M3, [0, 2, 4]), space=_Space()).ops == tuple(OPS3)
    with pytest.raises(InvalidCellError, match="id 9"):
        as_cell((M3, [0, 9, 4]), space=_Space())


@pytest.mark.parametrize(
    "single",
    [(M3, OPS3), {"matrix": M3, "ops": OPS3}, Cell(M3, OPS3), FakeModelSpec(M3, OPS3)],
)
def test_single_cell_is_rejected(single):
    with pytest.raises(TypeError, match="single cell"):
        as_cells(single)


@pytest.mark.parametrize(
    "matrix, ops, message",
    [
        ([[0, 1], [0, 0], [0, 0]], ["input", "output"], "square"),
        ([[0, 1], [1, 0]], ["input", "output"], "upper-triangular"),
        ([[1, 1], [0, 0]], ["input", "output"], "self-loop"),
        ([[0, 2], [0, 0]], ["input", "output"], "0 or 1"),
        (M3, ["input", "output"], "different lengths"),
        ([[0]], ["input"], "at least"),
    ],
)
def test_structural_errors_are_precise(matrix, ops, message):
    with pytest.raises(InvalidCellError, match=message):
        Cell(matrix, ops)
    with pytest.raises(InvalidCellError, match="cell 1"):
        as_cells([(M3, OPS3), (matrix, ops)])


def test_not_a_sequence():
    with pytest.raises(TypeError):
        as_cells(3)
    with pytest.raises(TypeError, match="numeric array"):
        as_cells(np.zeros((4, 3)))


def test_validation_leaves_cells_untouched_and_its_cache_stays_with_the_space():
    import copy

    from sklearn.base import clone

    from skassess.spaces import NASBench101

    space = NASBench101()
    plain, checked = Cell(M3, OPS3), Cell(M3, OPS3)
    as_cells([checked], space)
    assert not hasattr(checked, "__dict__") and set(Cell.__slots__) == {"_key", "_matrix", "_ops"}
    assert pickle.dumps(checked) == pickle.dumps(plain) and checked == plain
    assert space._memory.accepted.get(checked) is True  # the space remembers it
    assert space._memory.accepted.get(plain) is None  # by identity: never confused
    copies = [pickle.loads(pickle.dumps(space)), copy.deepcopy(space), clone(space, safe=False)]
    for other in copies:
        assert other == space and len(other._memory.accepted) == 0


@pytest.mark.parametrize(
    "matrix",
    [
        np.array([[0, 1], [0, 0]], dtype=np.uint8),
        np.array([[0, 2], [0, 0]], dtype=np.uint8),
        np.array([[0, 1], [0, 0]], dtype=np.int64),
        np.array([[0, -1], [0, 0]], dtype=np.int8),
        np.array([[0, 1.0], [0, 0]]),
        np.array([[0, 0.5], [0, 0]]),
        np.array([[0, np.nan], [0, 0]]),
        np.array([[0, 1j], [0, 0]]),
        np.array([[0, True], [False, False]]),
        np.array([[0, 1, 1], [0, 0, 1], [1, 0, 0]], dtype=np.uint8),
        np.array([[0, 1, 1], [0, 1, 1], [0, 0, 0]], dtype=np.float32),
        np.array([[0, 1, 0], [0, 0, 1], [0, 0, 0]])[::-1, ::-1],
        np.array([[0, 1], [0, 0]], dtype="timedelta64[s]"),
    ],
)
def test_matrix_checks_decide_as_isin_and_tril(matrix):
    # the reference: the plain numpy formulation of the structural checks
    zero_one = np.isin(matrix, (0, 1)).all()
    upper = not np.tril(matrix).any() if zero_one else None
    ops = ["input", *["conv3x3-bn-relu"] * (len(matrix) - 2), "output"]
    if zero_one and upper:
        assert Cell(matrix, ops).matrix.tolist() == np.asarray(matrix, dtype=np.uint8).tolist()
    else:
        message = "0 or 1" if not zero_one else "upper-triangular|self-loop"
        with pytest.raises(InvalidCellError, match=message):
            Cell(matrix, ops)


def test_cell_copies_the_callers_array_as_modelspec_does():
    from skassess.spaces import NASBench101

    space = NASBench101()
    table = np.zeros((2, 3, 3), dtype=np.uint8)  # e.g. rows of a loaded table
    table[0] = [[0, 1, 1], [0, 0, 1], [0, 0, 0]]
    ops = ["input", "conv3x3-bn-relu", "output"]
    cell = Cell(table[0], ops)
    before = space.hash(cell)
    assert space.is_valid(cell)
    assert table.flags.writeable and table[0].flags.writeable  # the caller keeps its array
    table[0] = 0  # disconnects the view the cell was built from
    assert cell.matrix.tolist() == [[0, 1, 1], [0, 0, 1], [0, 0, 0]]
    assert space.is_valid(cell) and space.hash(cell) == before
    assert as_cells([cell], space)[0] == Cell([[0, 1, 1], [0, 0, 1], [0, 0, 0]], ops)
    assert not cell.matrix.flags.writeable
