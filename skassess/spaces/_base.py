"""Search spaces of cells: validity, pruning, canonical hashing, sampling, mutation."""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
from sklearn.utils import check_random_state

from skassess._cell import Cell, InvalidCellError, as_cell
from skassess.spaces._hashing import module_hash, module_hashes
from skassess.spaces._pruning import on_path, on_path_batch

__all__ = ["CellSpace"]

INPUT = "input"
OUTPUT = "output"

# Recent results of CellSpace.hash, keyed by (space, cell): searches hash the
# same cells again and again. Cleared when full.
_HASH_CACHE: dict[tuple[Any, Cell], str] = {}
_HASH_CACHE_SIZE = 100_000

# Bit of each space in Cell._valid_in, the per-cell cache of validate()'s
# verdict: keyed by what validity depends on (see _space_bit); at most 62 spaces.
_VALIDITY_BITS: dict[tuple[Any, ...], int] = {}
_MAX_VALIDITY_BITS = 62

# The methods that decide validity. A space validates cells in batches, and
# caches verdicts, only when none of them is overridden below the class that
# defines its _check_block: the vectorised check would not know the override.
_VALIDITY_METHODS = (
    "validate",
    "_check",
    "_check_endpoints",
    "_check_pruned",
    "_prune_with_index",
    "_removable",
    "_removable_ids",
    "_empty_cell",
    "_empty_hash",
    "_hash_block",
    "_prune_block",
)
_BATCH_READY: dict[type, bool] = {}

# Spaces whose enumeration would look at more labelled candidates than this
# refuse to enumerate; see CellSpace.enumerate.
_MAX_ENUMERATION_CANDIDATES = 200_000


class CellSpace:
    """A search space of cells: DAGs with an operation on every vertex.

    The space of NAS-Bench-101 (Ying et al., 2019) generalised to any
    operations and size limits. A cell belongs to the space when, after
    :meth:`prune` (dropping the vertices that lie on no input -> output path),
    its first vertex is ``"input"``, its last ``"output"``, every other vertex
    carries one of ``ops``, and it has at most ``max_vertices`` vertices and
    ``max_edges`` edges. These are exactly the checks of the official
    ``nasbench`` API, and in its order: limits apply to the *pruned* cell, so an
    unpruned cell may be larger, and the op of a vertex that pruning drops is
    not looked at. A cell with no input -> output path is not in any space.

    Parameters
    ----------
    ops : sequence of str
        The operations an inner vertex may carry. Their order fixes the
        integer op ids (``op_names``) and the labels of :meth:`hash`.
    max_vertices : int, default=7
        Most vertices of a pruned cell, input and output included.
    max_edges : int or None, default=None
        Most edges of a pruned cell; None for no limit.

    Attributes
    ----------
    op_names : tuple of str
        ``("input", *ops, "output")``: the vocabulary that integer op ids
        index, in :func:`skassess.as_cells` and :meth:`hash_arrays`.

    See Also
    --------
    NASBench101, NASBench201, NASBenchGraph : the spaces of public benchmarks.

    Notes
    -----
    :meth:`hash` is the NAS-Bench-101 graph hash with op ``k`` of ``ops``
    labelled ``k``; it is invariant to the order of the inner vertices.

    Spaces are immutable values: equal when their type and parameters are,
    cheap to build, picklable, so estimators can hold one as a parameter.

    Examples
    --------
    >>> from skassess.spaces import CellSpace
    >>> space = CellSpace(ops=["conv", "pool"], max_vertices=4, max_edges=5)
    >>> space.op_names
    ('input', 'conv', 'pool', 'output')
    >>> cell = ([[0, 1, 0], [0, 0, 1], [0, 0, 0]], ["input", "conv", "output"])
    >>> space.is_valid(cell)
    True
    >>> space.is_valid(([[0, 0, 0], [0, 0, 1], [0, 0, 0]], ["input", "conv", "output"]))
    False
    """

    def __init__(
        self, ops: Sequence[str], max_vertices: int = 7, max_edges: int | None = None
    ) -> None:
        self.ops = _check_ops(ops)
        self.max_vertices = _check_limit("max_vertices", max_vertices, minimum=2)
        self.max_edges = (
            None if max_edges is None else _check_limit("max_edges", max_edges, minimum=1)
        )

    # ------------------------------------------------------------------ value semantics

    @property
    def op_names(self) -> tuple[str, ...]:
        """``("input", *ops, "output")``: the names that integer op ids index."""
        return (INPUT, *self.ops, OUTPUT)

    def _params(self) -> dict[str, Any]:
        return {"ops": self.ops, "max_vertices": self.max_vertices, "max_edges": self.max_edges}

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CellSpace):
            return NotImplemented
        return type(self) is type(other) and self._params() == other._params()

    def __hash__(self) -> int:
        return hash((type(self).__name__, tuple(self._params().items())))

    def __repr__(self) -> str:
        args = ", ".join(f"{name}={value!r}" for name, value in self._params().items())
        return f"{type(self).__name__}({args})"

    # ------------------------------------------------------------------ validity

    def validate(self, cell: Any) -> Cell:
        """Check that a cell belongs to the space.

        Parameters
        ----------
        cell : Cell, (matrix, ops) pair, {"matrix", "ops"} mapping or object with .matrix/.ops
            Ops may be names or integer ids into :attr:`op_names`.

        Returns
        -------
        Cell
            The cell as given, converted to :class:`~skassess.Cell` but not
            pruned (see :meth:`prune`).

        Raises
        ------
        InvalidCellError
            With the reason: malformed matrix or ops, input or output missing or
            misplaced, no input -> output path, too many vertices or edges after
            pruning, an op outside the space.

        Examples
        --------
        >>> from skassess.spaces import NASBench101
        >>> NASBench101().validate(([[0, 1], [0, 0]], ["input", "conv5x5"]))
        Traceback (most recent call last):
        ...
        skassess._cell.InvalidCellError: the last vertex must be the output: ops[-1] is 'conv5x5'
        """
        cell = self._as_cell(cell)
        bit = _space_bit(self)
        if not cell._valid_in & bit:
            self._check(cell)
            cell._valid_in |= bit
        return cell

    def is_valid(self, cell: Any) -> bool:
        """Whether a cell belongs to the space; never raises, whatever ``cell`` is.

        Examples
        --------
        >>> from skassess.spaces import NASBench101
        >>> NASBench101().is_valid("not a cell")
        False
        """
        try:
            self._check(self._as_cell(cell))
        except Exception:  # any failure at all means "not in the space"
            return False
        return True

    def _as_cell(self, cell: Any) -> Cell:
        try:
            return as_cell(cell, self)
        except InvalidCellError:
            raise
        except (TypeError, ValueError) as exc:
            raise InvalidCellError(f"not a cell: {exc}") from None

    def _check(self, cell: Cell) -> Cell:
        """Raise InvalidCellError unless ``cell`` is in the space; return it pruned."""
        self._check_endpoints(cell)
        pruned, kept = self._prune_with_index(cell)
        self._check_pruned(pruned, kept)
        return pruned

    def _check_endpoints(self, cell: Cell) -> None:
        if cell.ops[0] != INPUT:
            raise InvalidCellError(
                f"the first vertex must be the input: ops[0] is {cell.ops[0]!r}, not {INPUT!r}"
            )
        if cell.ops[-1] != OUTPUT:
            raise InvalidCellError(
                f"the last vertex must be the output: ops[-1] is {cell.ops[-1]!r}"
            )

    def _check_pruned(self, pruned: Cell, kept: np.ndarray) -> None:
        if pruned.n_vertices > self.max_vertices:
            raise InvalidCellError(
                f"the cell has {pruned.n_vertices} vertices after pruning, more than "
                f"max_vertices={self.max_vertices}"
            )
        if self.max_edges is not None and pruned.n_edges > self.max_edges:
            raise InvalidCellError(
                f"the cell has {pruned.n_edges} edges after pruning, more than "
                f"max_edges={self.max_edges}"
            )
        allowed = set(self.ops)
        for position, op in zip(kept[1:-1].tolist(), pruned.ops[1:-1], strict=True):
            if op not in allowed:
                where = f"vertex {position}"
                if op in (INPUT, OUTPUT):
                    raise InvalidCellError(
                        f"{op!r} at {where}: only the first vertex may be the input "
                        "and only the last the output"
                    )
                raise InvalidCellError(
                    f"unknown op {op!r} at {where}; {type(self).__name__} allows {list(self.ops)}"
                )

    def _validate_cells(self, cells: Sequence[Cell]) -> None:
        """:meth:`validate` every cell, vectorised; the error names the first invalid one.

        What :func:`skassess.as_cells` calls. Cells accepted before (by an
        equal space) are not checked again: the verdict is cached on the cell.
        The others are packed into arrays and checked at once
        (:meth:`_check_block`); the few that check flags go through
        :meth:`_check` one by one, which decides and words the error, so the
        verdicts and messages are exactly those of :meth:`validate`.

        Parameters
        ----------
        cells : sequence of Cell

        Raises
        ------
        InvalidCellError
            ``"cell {position}: {reason}"`` for the first cell not in the space.
        """
        if not _batch_ready(type(self)):  # a subclass changes the checks: its own validate
            for position, cell in enumerate(cells):
                try:
                    self.validate(cell)
                except InvalidCellError as exc:
                    raise InvalidCellError(f"cell {position}: {exc}") from None
            return
        bit = _space_bit(self)
        todo = [position for position, cell in enumerate(cells) if not cell._valid_in & bit]
        if not todo:
            return
        unchecked = [cells[position] for position in todo]
        for k in np.flatnonzero(self._flag_cells(unchecked)).tolist():
            try:
                self._check(unchecked[k])
            except InvalidCellError as exc:
                raise InvalidCellError(f"cell {todo[k]}: {exc}") from None
        if bit:
            for cell in unchecked:
                cell._valid_in |= bit

    def _flag_cells(self, cells: Sequence[Cell]) -> np.ndarray:
        """Mask of the cells :meth:`_check_block` cannot vouch for; the others are valid."""
        flagged = np.zeros(len(cells), dtype=bool)
        if not cells:
            return flagged
        unknown = len(self.op_names)
        index = {name: i for i, name in enumerate(self.op_names)}
        ids_of: dict[tuple[str, ...], list[int]] = {}
        sizes = np.fromiter((c._matrix.shape[0] for c in cells), dtype=np.int64, count=len(cells))
        for n in np.unique(sizes).tolist():
            rows = np.flatnonzero(sizes == n)
            group = [cells[i] for i in rows.tolist()]
            adjacency = np.stack([c._matrix for c in group]).view(bool)
            id_rows = []
            for cell in group:
                ids = ids_of.get(cell._ops)
                if ids is None:
                    ids = ids_of[cell._ops] = [index.get(op, unknown) for op in cell._ops]
                id_rows.append(ids)
            flagged[rows] = self._check_block(adjacency, np.array(id_rows, dtype=np.int64))
        return flagged

    def _check_block(self, adjacency: np.ndarray, ops: np.ndarray) -> np.ndarray:
        """Vectorised validity of cells of ``n`` vertices: a mask of those it cannot accept.

        The inputs are as for :meth:`_hash_block`. A cell left unflagged must
        be in the space (a subclass with further checks flags whatever it does
        not verify); a flagged one may still be, :meth:`_check` decides.
        """
        *_, empty, bad = self._prune_block(adjacency, ops)
        return bad | empty

    # ------------------------------------------------------------------ pruning

    def prune(self, cell: Any) -> Cell:
        """Drop the vertices that lie on no input -> output path, with their edges.

        As NAS-Bench-101's ``ModelSpec`` does: a vertex the input cannot reach,
        or that cannot reach the output, changes nothing the cell computes.
        Pruning checks structure only, not ops or limits (:meth:`validate`).

        Parameters
        ----------
        cell : cell in any spelling accepted by :func:`skassess.as_cell`

        Returns
        -------
        Cell
            The pruned cell, its vertices in their original order.

        Raises
        ------
        InvalidCellError
            If the input cannot reach the output: nothing would remain.

        Examples
        --------
        >>> from skassess.spaces import NASBench101
        >>> ops = ["input", "conv3x3-bn-relu", "maxpool3x3", "output"]
        >>> matrix = [[0, 1, 1, 0], [0, 0, 0, 1], [0, 0, 0, 0], [0, 0, 0, 0]]
        >>> NASBench101().prune((matrix, ops)).ops  # the pool reaches no output
        ('input', 'conv3x3-bn-relu', 'output')
        """
        return self._prune_with_index(self._as_cell(cell))[0]

    def _removable(self, cell: Cell) -> np.ndarray:
        """Vertices whose op computes nothing (none here; NAS-Bench-201's 'none')."""
        return np.zeros(cell.n_vertices, dtype=bool)

    def _empty_cell(self, cell: Cell) -> tuple[Cell, np.ndarray]:
        """What a cell with no input -> output path prunes to: here, an error."""
        raise InvalidCellError(
            f"the input cannot reach the output: no path from vertex 0 to vertex "
            f"{cell.n_vertices - 1}, so pruning leaves nothing"
        )

    def _prune_with_index(self, cell: Cell) -> tuple[Cell, np.ndarray]:
        """The pruned cell and the original index of each of its vertices."""
        matrix = cell.matrix
        removable = self._removable(cell)
        if removable.any():
            matrix = matrix * ~(removable[:, None] | removable[None, :])
        keep = on_path(matrix)
        if not keep.any():
            return self._empty_cell(cell)
        kept = np.flatnonzero(keep)
        if kept.size == cell.n_vertices:
            return cell, kept
        pruned = np.ascontiguousarray(matrix[np.ix_(kept, kept)], dtype=np.uint8)
        return Cell._trusted(pruned, tuple(cell.ops[i] for i in kept)), kept

    # ------------------------------------------------------------------ hashing

    def _label_map(self) -> dict[str, int]:
        """Integer label of each op name for :func:`module_hash`."""
        return {INPUT: -1, OUTPUT: -2, **{op: k for k, op in enumerate(self.ops)}}

    def hash(self, cell: Any) -> str:
        """Canonical hash of a cell: equal for cells that compute the same graph.

        The NAS-Bench-101 graph hash of the pruned cell: an MD5 fingerprint that
        is invariant to the order of the inner vertices (isomorphic cells share
        it) and, in practice, differs otherwise.

        Parameters
        ----------
        cell : cell in any spelling accepted by :func:`skassess.as_cell`

        Returns
        -------
        str
            32 hexadecimal digits.

        Raises
        ------
        InvalidCellError
            If the cell is not in the space.

        Examples
        --------
        >>> from skassess.spaces import NASBench101
        >>> ops = ["input", "conv3x3-bn-relu", "output"]
        >>> NASBench101().hash(([[0, 1, 1], [0, 0, 1], [0, 0, 0]], ops))  # its official hash
        'd32d0b26d534203b48d866facd98cc3e'
        """
        cell = self._as_cell(cell)
        key = (self, cell)
        cached = _HASH_CACHE.get(key)
        if cached is None:
            pruned = self._check(cell)
            labels = self._label_map()
            cached = module_hash(pruned.matrix, [labels[op] for op in pruned.ops])
            if len(_HASH_CACHE) >= _HASH_CACHE_SIZE:
                _HASH_CACHE.clear()
            _HASH_CACHE[key] = cached
        return cached

    def hash_many(self, cells: Iterable[Any]) -> np.ndarray:
        """:meth:`hash` of many cells at once, vectorised.

        Parameters
        ----------
        cells : sequence of cells in any spelling accepted by :func:`skassess.as_cell`

        Returns
        -------
        ndarray of shape (n_cells,), dtype '<U32'

        Raises
        ------
        InvalidCellError
            If a cell is not in the space; the message names its position.

        Examples
        --------
        >>> from skassess.spaces import NASBench101
        >>> space = NASBench101()
        >>> cells = space.sample(3, random_state=0)
        >>> bool((space.hash_many(cells) == [space.hash(c) for c in cells]).all())
        True
        """
        converted = []
        for position, cell in enumerate(cells):
            try:
                converted.append(self._as_cell(cell))
            except InvalidCellError as exc:
                raise InvalidCellError(f"cell {position}: {exc}") from None
        unknown = len(self.op_names)
        index = {name: i for i, name in enumerate(self.op_names)}
        ops_cache: dict[tuple[str, ...], list[int]] = {}
        hashes = np.empty(len(converted), dtype="<U32")
        sizes = np.fromiter((c.n_vertices for c in converted), dtype=np.int64, count=len(converted))
        for n in np.unique(sizes).tolist():
            rows = np.flatnonzero(sizes == n)
            group = [converted[i] for i in rows.tolist()]
            adjacency = np.stack([c.matrix for c in group])
            ops = np.empty((rows.size, n), dtype=np.int64)
            for k, cell in enumerate(group):
                ids = ops_cache.get(cell.ops)
                if ids is None:
                    ids = ops_cache[cell.ops] = [index.get(op, unknown) for op in cell.ops]
                ops[k] = ids
            block, bad = self._hash_block(adjacency, ops)
            if bad.any():
                position = int(rows[np.argmax(bad)])
                self._raise_for(converted[position], position)
            hashes[rows] = block
        return hashes

    def hash_arrays(self, adjacency: Any, ops: Any) -> np.ndarray:
        """:meth:`hash` of cells packed in arrays, as loaders and encoders hold them.

        Parameters
        ----------
        adjacency : array-like of shape (n_cells, n_vertices, n_vertices)
            0/1 upper-triangular adjacency; a cell of ``v`` vertices fills rows
            and columns ``0..v-1``.
        ops : array-like of int of shape (n_cells, n_vertices)
            Op ids into :attr:`op_names`, ``-1`` for padding after the last
            vertex (the layout of :func:`skassess._cell.cells_to_arrays`).

        Returns
        -------
        ndarray of shape (n_cells,), dtype '<U32'

        Raises
        ------
        InvalidCellError
            If a row is not a cell of the space; the message names the row.

        Examples
        --------
        >>> import numpy as np
        >>> from skassess.spaces import NASBench101
        >>> adjacency = np.array([[[0, 1, 0], [0, 0, 1], [0, 0, 0]]])
        >>> ops = np.array([[0, 2, 4]])  # input, conv3x3-bn-relu, output
        >>> NASBench101().hash_arrays(adjacency, ops)
        array(['b49ac8c578b4561d79ac7087988f1c61'], dtype='<U32')
        """
        adjacency = np.asarray(adjacency)
        ops = np.asarray(ops)
        if adjacency.ndim != 3 or adjacency.shape[1] != adjacency.shape[2]:
            raise InvalidCellError(
                "adjacency must have shape (n_cells, n_vertices, n_vertices), got "
                f"{adjacency.shape}"
            )
        if ops.shape != adjacency.shape[:2]:
            raise InvalidCellError(
                f"ops must have shape {adjacency.shape[:2]} to match adjacency, got {ops.shape}"
            )
        if not np.issubdtype(ops.dtype, np.integer):
            raise InvalidCellError(f"ops must be integer op ids, got dtype {ops.dtype}")
        ops = ops.astype(np.int64)
        if ops.size and (ops.min() < -1 or ops.max() >= len(self.op_names)):
            row = int(np.argmax(((ops < -1) | (ops >= len(self.op_names))).any(axis=1)))
            raise InvalidCellError(
                f"cell {row}: op ids must lie in -1..{len(self.op_names) - 1} "
                f"(-1 pads), got {ops[row].tolist()}"
            )
        present = ops >= 0
        sizes = present.sum(axis=1)
        contiguous = present == (np.arange(ops.shape[1]) < sizes[:, None])
        if not contiguous.all():
            row = int(np.argmin(contiguous.all(axis=1)))
            raise InvalidCellError(
                f"cell {row}: padding (-1) must come after the last vertex, got ops "
                f"{ops[row].tolist()}"
            )
        hashes = np.empty(ops.shape[0], dtype="<U32")
        for n in np.unique(sizes).tolist():
            rows = np.flatnonzero(sizes == n)
            block = adjacency[rows, :n, :n]
            bad = np.zeros(rows.size, dtype=bool)
            if n >= 2:
                outside = adjacency[rows].sum(axis=(1, 2)) != block.sum(axis=(1, 2))
                structural = ~np.isin(block, (0, 1)).all(axis=(1, 2)) | outside
                structural |= np.tril(block).any(axis=(1, 2))
                bad |= structural
            if bad.any() or n < 2:
                position = int(rows[np.argmax(bad)]) if n >= 2 else int(rows[0])
                self._raise_for_row(adjacency, ops, position)
            block_hashes, bad = self._hash_block(block.astype(bool), ops[rows, :n])
            if bad.any():
                self._raise_for_row(adjacency, ops, int(rows[np.argmax(bad)]))
            hashes[rows] = block_hashes
        return hashes

    def _raise_for_row(self, adjacency: np.ndarray, ops: np.ndarray, position: int) -> None:
        n = int((ops[position] >= 0).sum())
        try:
            if (adjacency[position].sum() != adjacency[position, :n, :n].sum()) or n < 2:
                raise InvalidCellError(
                    f"adjacency has edges outside the {n} vertices that ops names"
                    if n >= 2
                    else f"a cell needs at least an input and an output vertex, got {n}"
                )
            cell = Cell(adjacency[position, :n, :n], [self.op_names[i] for i in ops[position, :n]])
        except InvalidCellError as exc:
            raise InvalidCellError(f"cell {position}: {exc}") from None
        self._raise_for(cell, position)

    def _raise_for(self, cell: Cell, position: int) -> None:
        try:
            self._check(cell)
        except InvalidCellError as exc:
            raise InvalidCellError(f"cell {position}: {exc}") from None
        raise AssertionError(  # pragma: no cover - the vectorised and plain checks disagree
            f"cell {position} failed the vectorised check but passes validate(): {cell!r}"
        )

    def _label_array(self) -> np.ndarray:
        """Label of every op id, and 0 for the out-of-vocabulary id len(op_names)."""
        labels = self._label_map()
        return np.array([labels[name] for name in self.op_names] + [0], dtype=np.int64)

    def _removable_ids(self) -> np.ndarray:
        """Op ids (into op_names) of ops that compute nothing; see :meth:`_removable`."""
        return np.empty(0, dtype=np.int64)

    def _prune_block(
        self, adjacency: np.ndarray, ops: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Vectorised validate + prune of cells of ``n`` vertices, as :meth:`_check` does.

        ``adjacency`` (n_cells, n, n) is structurally sound (0/1, upper
        triangular); ``ops`` (n_cells, n) holds ids into op_names or
        ``len(op_names)`` for an unknown name. Returns the pruned edges (bool,
        in the original vertex positions), the mask of kept vertices, the
        number of them, the mask of cells with no input -> output path, and the
        mask of the other cells that are not in the space.
        """
        edges = np.asarray(adjacency, dtype=bool)
        last = len(self.op_names) - 1
        bad = (ops[:, 0] != 0) | (ops[:, -1] != last)
        removable = np.isin(ops, self._removable_ids())
        if removable.any():
            edges = edges & ~(removable[:, :, None] | removable[:, None, :])
        keep = on_path_batch(edges)
        empty = ~keep[:, 0]
        edges = edges & (keep[:, :, None] & keep[:, None, :])
        sizes = keep.sum(axis=1)
        bad |= ~empty & (sizes > self.max_vertices)
        if self.max_edges is not None:
            bad |= edges.sum(axis=(1, 2)) > self.max_edges
        inner_ok = (ops >= 1) & (ops < last)
        inner_ok[:, [0, -1]] = True
        bad |= (keep & ~inner_ok).any(axis=1)
        return edges, keep, sizes, empty, bad

    def _hash_block(self, adjacency: np.ndarray, ops: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Vectorised validate + prune + hash of cells of ``n`` vertices.

        The inputs are as for :meth:`_prune_block`. Returns the hashes and a
        mask of the cells that are not in the space (their hash is meaningless).
        """
        n_cells, n = ops.shape
        edges, keep, sizes, empty, bad = self._prune_block(adjacency, ops)
        hashes = np.empty(n_cells, dtype="<U32")
        if empty.any():
            empty_hash = self._empty_hash()
            if empty_hash is None:
                bad |= empty
            else:
                hashes[empty] = empty_hash
        labels = self._label_array()
        for size in np.unique(sizes[~bad & ~empty]).tolist():
            rows = np.flatnonzero((sizes == size) & ~bad & ~empty)
            if size == n:
                block, block_ops = edges[rows], ops[rows]
            else:
                order = np.argsort(~keep[rows], axis=1, kind="stable")[:, :size]
                block = np.take_along_axis(edges[rows], order[:, :, None], axis=1)
                block = np.take_along_axis(block, order[:, None, :], axis=2)
                block_ops = np.take_along_axis(ops[rows], order, axis=1)
            hashes[rows] = module_hashes(block, labels[block_ops])
        return hashes, bad

    def _empty_hash(self) -> str | None:
        """Hash of the cells with no input -> output path; None when they are invalid."""
        return None

    # ------------------------------------------------------------------ sampling

    def sample(self, n: int, random_state: Any = None, *, prune: bool = True) -> list[Cell]:
        """Draw random valid cells.

        Follows the random search of the official NAS-Bench-101 examples: a
        ``max_vertices``-vertex cell whose upper-triangular adjacency entries
        are fair coin flips and whose inner ops are drawn uniformly, redrawn
        until valid (then pruned). The draw is uniform over valid *labelled*
        ``max_vertices``-vertex matrices, not over distinct architectures:
        most coin-flip matrices leave vertices off every input -> output
        path, so after pruning small cells dominate, and an architecture with
        many labelled forms comes out often. On NAS-Bench-101, 2,000 draws
        give 870 distinct architectures, 57 % of the draws have at most 4
        vertices and 0.5 % have 7, whereas 85 % of the space's 423,624
        architectures have 7 vertices. For a draw that is uniform over
        distinct architectures, draw from a list of them (``enumerate()``, a
        benchmark's cells) with :func:`skassess.search.sample_distinct`.

        Parameters
        ----------
        n : int
            Number of cells.
        random_state : int, RandomState instance or None, default=None
            Seeds the draw (:func:`sklearn.utils.check_random_state`).
        prune : bool, default=True
            Return the pruned cells (what benchmarks store) rather than the
            drawn ``max_vertices``-vertex cells, which may hold vertices on no
            input -> output path.

        Returns
        -------
        list of Cell

        Raises
        ------
        RuntimeError
            If valid cells are too rare for rejection sampling (tight limits
            on a large ``max_vertices``).

        Examples
        --------
        >>> from skassess.spaces import NASBench101
        >>> space = NASBench101()
        >>> cells = space.sample(2, random_state=0)
        >>> all(space.is_valid(c) for c in cells)
        True
        """
        n = _check_count(n)
        rng = check_random_state(random_state)
        size = self.max_vertices
        upper = np.triu(np.ones((size, size), dtype=bool), 1)
        cells: list[Cell] = []
        budget = 1000 + 1000 * n
        for _ in range(budget):
            if len(cells) == n:
                break
            matrix = np.zeros((size, size), dtype=np.uint8)
            matrix[upper] = rng.randint(0, 2, size=int(upper.sum()))
            inner = rng.randint(0, len(self.ops), size=size - 2)
            ops = (INPUT, *(self.ops[k] for k in inner), OUTPUT)
            cell = Cell._trusted(matrix, ops)
            try:
                pruned = self._check(cell)
            except InvalidCellError:
                continue
            cells.append(pruned if prune else cell)
        if len(cells) < n:
            raise RuntimeError(
                f"rejection sampling found only {len(cells)} valid cells of {n} in "
                f"{budget} draws; valid cells are too rare in {self!r}"
            )
        return cells

    def mutate(self, cell: Any, random_state: Any = None) -> Cell:
        """One random mutation: flip one edge or change one op, to a different valid cell.

        The mutation of regularized evolution on NAS-Bench-101 (Real et al.,
        2019; Ying et al., 2019): among all cells one edge flip or one inner-op
        change away from ``cell`` that are valid and hash differently (a
        different architecture, not a relabelling of the same one), one is
        drawn uniformly.

        Parameters
        ----------
        cell : cell in any spelling accepted by :func:`skassess.as_cell`
        random_state : int, RandomState instance or None, default=None

        Returns
        -------
        Cell
            The mutated cell, not pruned: vertices that fall off every
            input -> output path are kept so that a later mutation can
            reconnect them. Pruned cells therefore never grow; to explore every
            size, evolve unpruned cells (``sample(n, prune=False)``).

        Raises
        ------
        InvalidCellError
            If ``cell`` is not in the space, or no single change of it is (the
            pruned cell ``input -> output`` has neither an inner op to change
            nor an edge whose flip leaves a valid cell).

        Examples
        --------
        >>> from skassess.spaces import NASBench101
        >>> space = NASBench101()
        >>> parent = space.sample(1, random_state=0, prune=False)[0]
        >>> child = space.mutate(parent, random_state=0)
        >>> space.is_valid(child) and space.hash(child) != space.hash(parent)
        True
        """
        cell = self.validate(cell)
        rng = check_random_state(random_state)
        original = self.hash(cell)
        for candidate in self._mutations(cell, rng):
            try:
                if self.hash(candidate) != original:
                    return candidate
            except InvalidCellError:
                continue
        raise InvalidCellError("no single edge or op change of this cell gives another valid cell")

    def _mutations(self, cell: Cell, rng: np.random.RandomState) -> Iterable[Cell]:
        """Every one-change neighbour of ``cell``, in random order."""
        n = cell.n_vertices
        edges = [(i, j) for i in range(n) for j in range(i + 1, n)]
        changes = [("edge", i, j) for i, j in edges] + [
            ("op", v, op) for v in range(1, n - 1) for op in self.ops if op != cell.ops[v]
        ]
        for k in rng.permutation(len(changes)).tolist():
            kind, a, b = changes[k]
            if kind == "edge":
                matrix = np.array(cell.matrix)
                matrix[a, b] = 1 - matrix[a, b]
                yield Cell._trusted(matrix, cell.ops)
            else:
                ops = list(cell.ops)
                ops[a] = b
                yield Cell._trusted(np.array(cell.matrix), tuple(ops))

    # ------------------------------------------------------------------ enumeration

    def enumerate(self) -> list[Cell]:
        """Every cell of the space, pruned, one per hash (isomorphism class).

        Only for small spaces: one that would need more than 200,000 labelled
        candidates raises instead.

        Returns
        -------
        list of Cell
            Sorted by hash.

        Raises
        ------
        ValueError
            If the space is too large to enumerate.

        Examples
        --------
        >>> from skassess.spaces import CellSpace
        >>> len(CellSpace(ops=["conv"], max_vertices=3).enumerate())
        3
        """
        sizes = range(2, self.max_vertices + 1)
        total = sum(2 ** (v * (v - 1) // 2) * len(self.ops) ** (v - 2) for v in sizes)
        if total > _MAX_ENUMERATION_CANDIDATES:
            raise ValueError(self._too_large_message(total))
        found: dict[str, Cell] = {}
        labels = self._label_map()
        for v in sizes:
            rows, cols = np.triu_indices(v, 1)
            for bits in itertools.product((0, 1), repeat=rows.size):
                matrix = np.zeros((v, v), dtype=np.uint8)
                matrix[rows, cols] = bits
                for inner in itertools.product(self.ops, repeat=v - 2):
                    cell = Cell._trusted(matrix, (INPUT, *inner, OUTPUT))
                    try:
                        pruned = self._check(cell)
                    except InvalidCellError:
                        continue
                    key = module_hash(pruned.matrix, [labels[op] for op in pruned.ops])
                    found.setdefault(key, pruned)
        return [found[key] for key in sorted(found)]

    def _too_large_message(self, total: int) -> str:
        return (
            f"{self!r} is too large to enumerate (about 10^{math.log10(total):.0f} labelled "
            "candidate cells); draw from it with sample() instead"
        )


def _check_ops(ops: Any) -> tuple[str, ...]:
    if isinstance(ops, str) or not isinstance(ops, Iterable):
        raise TypeError(f"ops must be a sequence of operation names, got {ops!r}")
    ops = tuple(ops)
    if not ops:
        raise ValueError("ops must name at least one operation")
    for op in ops:
        if not isinstance(op, str):
            raise TypeError(f"operation names must be strings, got {op!r}")
        if op in (INPUT, OUTPUT):
            raise ValueError(f"{op!r} is reserved for the first and last vertex; not an op")
    if len(set(ops)) != len(ops):
        raise ValueError(f"ops must be distinct, got {list(ops)}")
    return ops


def _check_limit(name: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _check_count(n: Any) -> int:
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 0:
        raise ValueError(f"n must be a non-negative integer, got {n!r}")
    return int(n)


def _batch_ready(cls: type) -> bool:
    """Whether ``cls`` decides validity with the checks of the class defining its _check_block."""
    ready = _BATCH_READY.get(cls)
    if ready is None:
        mro = cls.__mro__
        owner = next(klass for klass in mro if "_check_block" in vars(klass))
        below = mro[: mro.index(owner)]
        ready = not any(name in vars(klass) for klass in below for name in _VALIDITY_METHODS)
        _BATCH_READY[cls] = ready
    return ready


def _space_bit(space: CellSpace) -> int:
    """The bit of ``space`` in ``Cell._valid_in``; 0 (no caching) if it has none.

    Spaces whose validity depends on the same things share a bit: the class and
    the limits (the checks are those of the class, see :func:`_batch_ready`).
    """
    if not _batch_ready(type(space)):
        return 0
    key = (type(space), space.ops, space.max_vertices, space.max_edges)
    bit = _VALIDITY_BITS.get(key)
    if bit is None:
        if len(_VALIDITY_BITS) >= _MAX_VALIDITY_BITS:
            return 0
        bit = _VALIDITY_BITS.setdefault(key, 1 << len(_VALIDITY_BITS))
    return bit
