"""The architecture value type, :class:`Cell`, and normalisation of user input.

A cell is a small directed acyclic graph whose vertices carry operations, the
representation of NAS-Bench-101 (Ying et al., 2019): vertex 0 is the cell input,
the last vertex its output, and the adjacency matrix is upper triangular (an
edge ``i -> j`` only for ``i < j``), which makes every such graph acyclic.

Everything that accepts architectures in skassess goes through :func:`as_cells`
once, at its boundary, so every common spelling of a cell is understood
everywhere: a :class:`Cell`, an ``(adjacency, ops)`` pair, a
``{"matrix": ..., "ops": ...}`` dict (the NAS-Bench-101 and NASLib format), any
object with ``.matrix`` and ``.ops`` attributes (nasbench's ``ModelSpec``), or,
given a space that reads them (:class:`~skassess.spaces.NASBench201`), an
architecture string. The sequence itself may be a list, a one-column DataFrame
or ``(n, 1)`` object array (what ``ColumnTransformer`` and ``BaggingRegressor``
pass on), or a :class:`~skassess.datasets.Benchmark`.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

__all__ = ["Cell", "InvalidCellError", "as_cell", "as_cells", "cell_sequence", "cells_to_arrays"]


class InvalidCellError(ValueError):
    """Raised when a cell is malformed or outside a search space.

    The message says what is wrong; where the cell came from a sequence, it
    also names its position.
    """


class Cell:
    """An immutable architecture: a DAG with one operation per vertex.

    Parameters
    ----------
    matrix : array-like of shape (n_vertices, n_vertices)
        Upper-triangular 0/1 adjacency matrix; ``matrix[i, j] == 1`` is an edge
        from vertex ``i`` to vertex ``j``.
    ops : sequence of str
        One operation name per vertex, the first ``"input"`` and the last
        ``"output"`` in the NAS-Bench spaces.

    Notes
    -----
    Two cells are equal when their matrices and op lists are equal, which is
    equality of *labelled* graphs. Two isomorphic cells with different vertex
    orders are different values but share their space's canonical hash, see
    :meth:`skassess.spaces.CellSpace.hash`.

    The cell keeps a read-only copy of ``matrix``, as nasbench's ``ModelSpec``
    does: the caller's array stays writable, and writing it later does not
    change the cell.

    The constructor checks the structure only (square 0/1 upper-triangular
    matrix, one op per vertex); whether the cell belongs to a search space is
    the space's business (:meth:`skassess.spaces.CellSpace.validate`).

    Examples
    --------
    >>> from skassess import Cell
    >>> cell = Cell([[0, 1, 1], [0, 0, 1], [0, 0, 0]],
    ...             ["input", "conv3x3-bn-relu", "output"])
    >>> cell.n_vertices, cell.n_edges
    (3, 3)
    >>> cell == Cell(cell.matrix, list(cell.ops))
    True
    """

    __slots__ = ("_key", "_matrix", "_ops")

    def __init__(self, matrix: Any, ops: Sequence[str]) -> None:
        matrix = _check_matrix(matrix)
        if isinstance(ops, str) or not isinstance(ops, Iterable):
            raise InvalidCellError(
                f"ops must be a sequence of operation names, got {type(ops).__name__}"
            )
        ops = tuple(ops)
        if len(ops) != matrix.shape[0]:
            raise InvalidCellError(
                f"ops and matrix have different lengths: {len(ops)} ops for a "
                f"{matrix.shape[0]}x{matrix.shape[0]} matrix"
            )
        for position, op in enumerate(ops):
            if not isinstance(op, str):
                raise InvalidCellError(
                    f"op {position} is {op!r} of type {type(op).__name__}; names are "
                    "strings (integer op ids need a space: as_cells(X, space=...))"
                )
        self._set(matrix, ops)

    def _set(self, matrix: np.ndarray, ops: tuple[str, ...]) -> None:
        matrix.flags.writeable = False
        self._matrix = matrix
        self._ops = ops
        self._key = None

    @classmethod
    def _trusted(cls, matrix: np.ndarray, ops: tuple[str, ...]) -> Cell:
        """Build a cell from already validated parts, without any check.

        For loaders that create hundreds of thousands of cells from a table
        whose structure they have verified as a whole; ``matrix`` must be a
        square uint8 array that nobody else writes to (it is made read-only)
        and ``ops`` a tuple of str.
        """
        cell = cls.__new__(cls)
        cell._set(matrix, ops)
        return cell

    @property
    def _value(self) -> tuple[int, bytes, tuple[str, ...]]:
        # Computed on first comparison or hash only: most cells are never hashed.
        if self._key is None:
            self._key = (self._matrix.shape[0], self._matrix.tobytes(), self._ops)
        return self._key

    @property
    def matrix(self) -> np.ndarray:
        """Read-only uint8 adjacency matrix of shape (n_vertices, n_vertices)."""
        return self._matrix

    @property
    def ops(self) -> tuple[str, ...]:
        """Operation names, one per vertex."""
        return self._ops

    @property
    def n_vertices(self) -> int:
        """Number of vertices, input and output included."""
        return self._matrix.shape[0]

    @property
    def n_edges(self) -> int:
        """Number of edges."""
        return int(self._matrix.sum())

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Cell):
            return NotImplemented
        return self._value == other._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __repr__(self) -> str:
        rows = ", ".join("[" + ", ".join(str(int(v)) for v in row) + "]" for row in self._matrix)
        return f"Cell(matrix=[{rows}], ops={list(self._ops)!r})"

    def __getstate__(self) -> tuple[np.ndarray, tuple[str, ...]]:
        return (np.array(self._matrix), self._ops)

    def __setstate__(self, state: tuple[np.ndarray, tuple[str, ...]]) -> None:
        self._set(*state)

    def to_dict(self) -> dict[str, Any]:
        """The cell as ``{"matrix": list of lists, "ops": list}``, JSON-ready."""
        return {"matrix": self._matrix.tolist(), "ops": list(self._ops)}


def _check_matrix(matrix: Any) -> np.ndarray:
    try:
        array = np.asarray(matrix)
    except (TypeError, ValueError) as exc:
        raise InvalidCellError(f"matrix is not an array: {exc}") from exc
    if array.ndim != 2 or array.shape[0] != array.shape[1]:
        raise InvalidCellError(f"matrix must be square, got shape {array.shape}")
    if array.shape[0] < 2:
        raise InvalidCellError(
            f"a cell needs at least an input and an output vertex, got {array.shape[0]} vertex(es)"
        )
    if array.dtype == bool:
        array = array.astype(np.uint8)
    if array.dtype.kind not in _NUMBER_KINDS:
        raise InvalidCellError(f"matrix must be numeric 0/1, got dtype {array.dtype}")
    if not _is_zero_one(array):
        bad = tuple(int(i) for i in np.argwhere(~np.isin(array, (0, 1)))[0])
        raise InvalidCellError(f"matrix entries must be 0 or 1, got {array[bad]!r} at {bad}")
    if array[_lower_mask(array.shape[0])].any():
        i, j = (int(v) for v in np.argwhere(np.tril(array))[0])
        what = "a self-loop" if i == j else "not upper-triangular (possible cycle)"
        raise InvalidCellError(
            f"matrix is {what}: edge {i} -> {j}; edges must go from a lower to a "
            "higher vertex index"
        )
    return np.array(array, dtype=np.uint8, order="C")  # a copy of its own, as ModelSpec makes


# The dtype kinds of np.number: unsigned, signed, float, complex and timedelta.
_NUMBER_KINDS = "uifcm"


def _is_zero_one(array: np.ndarray) -> bool:
    """``np.isin(array, (0, 1)).all()`` for a numeric array, without its sort."""
    kind = array.dtype.kind
    if kind == "u":
        return bool(array.max() <= 1)
    if kind in "if":
        return bool(((array == 0) | (array == 1)).all())
    return bool(np.isin(array, (0, 1)).all())


@functools.lru_cache(maxsize=64)
def _lower_mask(n: int) -> np.ndarray:
    """Read-only boolean mask of the lower triangle, diagonal included."""
    mask = np.tril(np.ones((n, n), dtype=bool))
    mask.flags.writeable = False
    return mask


def as_cell(item: Any, space: Any = None) -> Cell:
    """Turn one cell in any accepted spelling into a :class:`Cell`.

    Parameters
    ----------
    item : Cell, (matrix, ops) pair, {"matrix", "ops"} mapping or object with .matrix/.ops
        The cell.
    space : CellSpace, optional
        Needed when ``ops`` are integer ids: they index ``space.op_names``.

    Returns
    -------
    Cell

    Examples
    --------
    >>> from skassess import as_cell
    >>> as_cell(([[0, 1], [0, 0]], ["input", "output"])).n_vertices
    2
    """
    if isinstance(item, Cell):
        return item
    if isinstance(item, str):
        return _cell_of_string(item, space)
    if isinstance(item, Mapping):
        try:
            matrix, ops = item["matrix"], item["ops"]
        except KeyError as exc:
            raise InvalidCellError(
                f"a cell given as a mapping needs keys 'matrix' and 'ops'; missing {exc}"
            ) from None
    elif hasattr(item, "matrix") and hasattr(item, "ops"):
        matrix, ops = item.matrix, item.ops
    elif isinstance(item, tuple | list) and len(item) == 2:
        matrix, ops = item
    else:
        raise InvalidCellError(
            f"cannot read a cell from {type(item).__name__}; expected a Cell, an "
            "(adjacency, ops) pair, a {'matrix': ..., 'ops': ...} dict or an object "
            "with .matrix and .ops"
        )
    return Cell(matrix, _op_names(ops, space))


_INT_TYPES = (int, np.integer)


def _cell_of_string(text: str, space: Any) -> Cell:
    """The cell an architecture string names, read by the space (NAS-Bench-201's)."""
    read = getattr(space, "cell_from_arch_str", None)
    if read is None:
        shown = text if len(text) <= 60 else text[:57] + "..."
        raise InvalidCellError(
            f"got the string {shown!r}, not a cell; NAS-Bench-201 architecture strings "
            "are read when the space is NAS-Bench-201 "
            "(as_cells(X, space=skassess.spaces.NASBench201()), or an estimator's space=)"
        )
    return read(text)


def _op_names(ops: Any, space: Any) -> Sequence[str]:
    if isinstance(ops, np.ndarray):
        ops = ops.tolist()
    if isinstance(ops, str) or not isinstance(ops, Iterable):
        return ops  # Cell() reports the error
    ops = list(ops)
    if all(type(op) is str for op in ops) or not any(isinstance(op, _INT_TYPES) for op in ops):
        return ops
    if space is None:
        raise InvalidCellError(
            "ops are integer ids but no space was given to name them; "
            "pass space=... (e.g. skassess.spaces.NASBench101())"
        )
    names = space.op_names
    out = []
    for position, op in enumerate(ops):
        if isinstance(op, _INT_TYPES):
            if not 0 <= op < len(names):
                raise InvalidCellError(
                    f"op {position} has id {op}, outside 0..{len(names) - 1} of "
                    f"{type(space).__name__}.op_names"
                )
            op = names[op]
        out.append(op)
    return out


def _looks_like_single_cell(X: Any) -> bool:
    if isinstance(X, Cell | Mapping) or (hasattr(X, "matrix") and hasattr(X, "ops")):
        return True
    if isinstance(X, tuple | list) and len(X) == 2:
        first, second = X
        ops_like = isinstance(second, list | tuple | np.ndarray) and all(
            isinstance(op, str | int | np.integer) for op in second
        )
        if not ops_like or isinstance(first, Cell | Mapping):
            return False
        try:
            return np.asarray(first).ndim == 2
        except ValueError:  # ragged: a sequence of cells, not a matrix
            return False
    return False


def cell_sequence(X: Any) -> Any:
    """The sequence of cells (in any spelling) that ``X`` holds, or a clear TypeError.

    Unwraps the containers in which cells reach an estimator: a
    :class:`~skassess.datasets.Benchmark` (its ``cells``), a one-column
    DataFrame and an ``(n, 1)`` object array (their column). Anything else
    iterable is returned as it is.

    Raises
    ------
    TypeError
        Saying what was given: a single cell, a string, a numeric or string
        array, a table of several columns, or something that is not a sequence.

    Examples
    --------
    >>> import numpy as np
    >>> column = np.empty((1, 1), dtype=object)
    >>> column[0, 0] = ([[0, 1], [0, 0]], ["input", "output"])
    >>> len(cell_sequence(column))
    1
    """
    if _looks_like_single_cell(X):
        raise TypeError(
            "expected a sequence of cells, got a single cell; wrap it in a list: [cell]"
        )
    if isinstance(X, str | bytes):
        raise TypeError(
            f"expected a sequence of cells, got a single {type(X).__name__}; wrap it in a "
            "list: [arch_str]"
        )
    cells = getattr(X, "cells", None)
    if cells is not None and not isinstance(X, Iterable):  # a Benchmark
        return cells
    if hasattr(X, "iloc") and getattr(X, "ndim", 1) == 2:  # a DataFrame
        if X.shape[1] != 1:
            raise TypeError(
                f"expected a sequence of cells, got a DataFrame of {X.shape[1]} columns "
                f"{list(X.columns)[:5]}; select the one column of cells, e.g. X['cell'] or "
                "ColumnTransformer([(..., ['cell'])])"
            )
        return X.iloc[:, 0].tolist()
    if isinstance(X, np.ndarray):
        return _array_of_cells(X)
    if not isinstance(X, Iterable):
        raise TypeError(f"expected a sequence of cells, got {type(X).__name__}")
    return X


def _array_of_cells(X: np.ndarray) -> np.ndarray:
    """An array of cells (or architecture strings), flat or one column, as a flat array."""
    if X.dtype != object and X.dtype.kind != "U":
        what = "an array of bytes" if X.dtype.kind == "S" else "a numeric array"
        raise TypeError(
            f"expected a sequence of cells, got {what} of shape {X.shape} (dtype "
            f"{X.dtype}); numeric features go to tabular estimators, cells to cell estimators"
        )
    if X.ndim == 2 and X.shape[1] == 1:
        return X[:, 0]
    if X.ndim != 1:
        kind = "strings" if X.dtype.kind == "U" else "objects"
        raise TypeError(
            f"expected a sequence of cells, got an array of {kind} of shape {X.shape}; cells "
            "come as a flat sequence or one column, shape (n_cells,) or (n_cells, 1)"
        )
    return X


def as_cells(X: Any, space: Any = None) -> list[Cell]:
    """Normalise a sequence of cells, in any accepted spelling, to a list of :class:`Cell`.

    Parameters
    ----------
    X : sequence, one-column DataFrame, (n, 1) object array or Benchmark
        The cells; each item a :class:`Cell`, an ``(adjacency, ops)`` pair, a
        ``{"matrix": ..., "ops": ...}`` mapping or an object with ``.matrix``
        and ``.ops``, or an architecture string the space reads (NAS-Bench-201's
        ``"|nor_conv_3x3~0|+|...|"``). Items may mix spellings.
    space : CellSpace, optional
        Names integer op ids and reads architecture strings. When given, every
        cell is also validated against it
        (:meth:`~skassess.spaces.CellSpace.validate`).

    Returns
    -------
    list of Cell

    Raises
    ------
    TypeError
        If ``X`` is a single cell rather than a sequence of cells, or not a
        sequence at all.
    InvalidCellError
        If an item is not a valid cell; the message names its position.

    Examples
    --------
    >>> from skassess import as_cells
    >>> pair = ([[0, 1], [0, 0]], ["input", "output"])
    >>> len(as_cells([pair, {"matrix": pair[0], "ops": pair[1]}]))
    2
    >>> as_cells(pair)
    Traceback (most recent call last):
    ...
    TypeError: expected a sequence of cells, got a single cell; wrap it in a list: [cell]
    """
    X = cell_sequence(X)
    validate_cells = getattr(space, "_validate_cells", None)
    cells = []
    if space is not None and validate_cells is None:  # a space-like object: one by one
        for position, item in enumerate(X):
            try:
                cell = as_cell(item, space)
                space.validate(cell)
            except InvalidCellError as exc:
                raise InvalidCellError(f"cell {position}: {exc}") from None
            cells.append(cell)
        return cells
    try:
        for position, item in enumerate(X):
            try:
                cell = as_cell(item, space)
            except InvalidCellError as exc:
                raise InvalidCellError(f"cell {position}: {exc}") from None
            cells.append(cell)
    except Exception:
        # As if each cell were validated as soon as read: an invalid earlier
        # cell is the one to report.
        if validate_cells is not None:
            validate_cells(cells)
        raise
    if validate_cells is not None:
        # All at once, vectorised, and nearly free for cells the space accepted before.
        validate_cells(cells)
    return cells


def cells_to_arrays(
    cells: Sequence[Cell], op_names: Sequence[str], max_vertices: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Pack cells into padded arrays for vectorised and batched computation.

    Parameters
    ----------
    cells : sequence of Cell
    op_names : sequence of str
        Vocabulary of operation names; a cell's op is stored as its index here.
    max_vertices : int, optional
        Padded size; defaults to the largest cell.

    Returns
    -------
    adjacency : ndarray of shape (n_cells, max_vertices, max_vertices), uint8
        Each cell's matrix in the top-left corner, zeros elsewhere.
    ops : ndarray of shape (n_cells, max_vertices), int16
        Op ids, -1 for padding vertices.

    Raises
    ------
    InvalidCellError
        If a cell has more than ``max_vertices`` vertices or an op not in
        ``op_names``.
    """
    index = {name: i for i, name in enumerate(op_names)}
    if max_vertices is None:
        max_vertices = max((cell.n_vertices for cell in cells), default=2)
    adjacency = np.zeros((len(cells), max_vertices, max_vertices), dtype=np.uint8)
    ops = np.full((len(cells), max_vertices), -1, dtype=np.int16)
    for position, cell in enumerate(cells):
        n = cell.n_vertices
        if n > max_vertices:
            raise InvalidCellError(
                f"cell {position} has {n} vertices, more than max_vertices={max_vertices}"
            )
        adjacency[position, :n, :n] = cell.matrix
        try:
            ops[position, :n] = [index[op] for op in cell.ops]
        except KeyError as exc:
            raise InvalidCellError(
                f"cell {position} has op {exc.args[0]!r}, not in {list(op_names)}"
            ) from None
    return adjacency, ops
