"""The facade of a search space of cells: :class:`CellSpace`.

What a space decides lives in small functions over cells and arrays, each
testable alone: :mod:`~skassess.spaces._validity` (which cells belong),
:mod:`~skassess.spaces._pruning` (what a cell computes),
:mod:`~skassess.spaces._hashing` (which graph it is),
:mod:`~skassess.spaces._sampling` (drawing, changing and listing cells).
:class:`CellSpace` holds a space's parameters, hands them to those functions,
and remembers, in bounded caches of its own (:mod:`~skassess.spaces._cache`),
which cells it has accepted and their hashes.

Subclasses adapt a space through a few hooks (``_check`` for one cell, and
``_check_block`` / ``_hash_block`` for a batch, ``_removable_ids``,
``_empty_cell``, ``_empty_hash``, ``_label_map``, ``_mutations``). A class
whose batch hooks decide exactly what ``_check`` decides says so with
``vectorised_checks = True`` in its own body; any other subclass is validated
cell by cell, so an override of the checks is never bypassed.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any, ClassVar

import numpy as np
from sklearn.utils import check_random_state

from skassess._cell import Cell, InvalidCellError, as_cell, as_cells
from skassess.spaces._cache import SpaceMemory
from skassess.spaces._hashing import module_hash, module_hashes
from skassess.spaces._pruning import kept_first, on_path, prune_edges
from skassess.spaces._sampling import (
    all_cells,
    count_candidates,
    one_change_neighbours,
    random_cells,
)
from skassess.spaces._validity import (
    INPUT,
    OUTPUT,
    cell_of_row,
    check_endpoints,
    check_ops,
    check_packed,
    check_pruned,
    flag_malformed,
    flag_outside,
    no_path,
)
from skassess.utils.validation import check_int

__all__ = ["INPUT", "OUTPUT", "CellSpace"]

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

    #: Whether ``_check_block``/``_hash_block`` decide validity exactly as
    #: ``_check`` does, so cells can be validated in batches and verdicts cached.
    #: Declared by each class for itself: a subclass that does not declare it
    #: is validated one cell at a time.
    vectorised_checks: ClassVar[bool] = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "vectorised_checks" not in vars(cls):
            cls.vectorised_checks = False

    def __init__(
        self, ops: Sequence[str], max_vertices: int = 7, max_edges: int | None = None
    ) -> None:
        self.ops = check_ops(ops)
        self.max_vertices = check_int(max_vertices, "max_vertices", minimum=2)
        self.max_edges = None if max_edges is None else check_int(max_edges, "max_edges")

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

    def __getstate__(self) -> dict[str, Any]:
        state = dict(vars(self))
        state.pop("_caches", None)  # caches stay with the instance that filled them
        return state

    @property
    def _memory(self) -> SpaceMemory:
        """The space's caches, started afresh whenever its parameters change."""
        key = (self.ops, self.max_vertices, self.max_edges, tuple(self._params().items()))
        memory = vars(self).get("_caches")
        if memory is None or memory.key != key:
            memory = SpaceMemory(key)
            vars(self)["_caches"] = memory
        return memory

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
        if not self.vectorised_checks:
            self._check(cell)
            return cell
        accepted = self._memory.accepted
        if not accepted.get(cell, False):
            self._check(cell)
            accepted.put(cell, True)
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
        check_endpoints(cell.ops)

    def _check_pruned(self, pruned: Cell, kept: np.ndarray) -> None:
        check_pruned(
            pruned,
            kept,
            ops=self.ops,
            max_vertices=self.max_vertices,
            max_edges=self.max_edges,
            space=type(self).__name__,
        )

    def _validate_cells(self, cells: Sequence[Cell]) -> None:
        """:meth:`validate` every cell, vectorised; the error names the first invalid one.

        What :func:`skassess.as_cells` calls. Cells this space accepted
        before are not checked again (its cache of verdicts, by identity).
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
        if not self.vectorised_checks:  # a subclass changes the checks: its own validate
            for position, cell in enumerate(cells):
                try:
                    self.validate(cell)
                except InvalidCellError as exc:
                    raise InvalidCellError(f"cell {position}: {exc}") from None
            return
        accepted = self._memory.accepted
        todo = [position for position, cell in enumerate(cells) if not accepted.get(cell, False)]
        if not todo:
            return
        unchecked = [cells[position] for position in todo]
        for k in np.flatnonzero(self._flag_cells(unchecked)).tolist():
            try:
                self._check(unchecked[k])
            except InvalidCellError as exc:
                raise InvalidCellError(f"cell {todo[k]}: {exc}") from None
        for cell in unchecked:
            accepted.put(cell, True)

    def _flag_cells(self, cells: Sequence[Cell]) -> np.ndarray:
        """Mask of the cells :meth:`_check_block` cannot vouch for; the others are valid."""
        flagged = np.zeros(len(cells), dtype=bool)
        for rows, adjacency, ops in self._blocks(cells):
            flagged[rows] = self._check_block(adjacency, ops)
        return flagged

    def _blocks(self, cells: Sequence[Cell]) -> Iterable[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """The cells by size: positions, stacked adjacency (bool) and op ids.

        An op outside :attr:`op_names` gets the id ``len(op_names)``.
        """
        unknown = len(self.op_names)
        index = {name: i for i, name in enumerate(self.op_names)}
        ids_of: dict[tuple[str, ...], list[int]] = {}
        sizes = np.fromiter((c.n_vertices for c in cells), dtype=np.int64, count=len(cells))
        for n in np.unique(sizes).tolist():
            rows = np.flatnonzero(sizes == n)
            group = [cells[i] for i in rows.tolist()]
            id_rows = []
            for cell in group:
                ids = ids_of.get(cell.ops)
                if ids is None:
                    ids = ids_of[cell.ops] = [index.get(op, unknown) for op in cell.ops]
                id_rows.append(ids)
            adjacency = np.stack([c.matrix for c in group]).view(bool)
            yield rows, adjacency, np.array(id_rows, dtype=np.int64)

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

    def _removable_ids(self) -> np.ndarray:
        """Op ids (into op_names) of ops that compute nothing; see :meth:`_removable`."""
        return np.empty(0, dtype=np.int64)

    def _empty_cell(self, cell: Cell) -> tuple[Cell, np.ndarray]:
        """What a cell with no input -> output path prunes to: here, an error."""
        raise no_path(cell.n_vertices)

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
        edges, keep = prune_edges(adjacency, np.isin(ops, self._removable_ids()))
        empty = ~keep[:, 0]
        bad = flag_outside(
            edges,
            keep,
            ops,
            n_names=len(self.op_names),
            max_vertices=self.max_vertices,
            max_edges=self.max_edges,
        )
        return edges, keep, keep.sum(axis=1), empty, bad

    # ------------------------------------------------------------------ hashing

    def _label_map(self) -> dict[str, int]:
        """Integer label of each op name for :func:`module_hash`."""
        return {INPUT: -1, OUTPUT: -2, **{op: k for k, op in enumerate(self.ops)}}

    def _label_array(self) -> np.ndarray:
        """Label of every op id, and 0 for the out-of-vocabulary id len(op_names)."""
        labels = self._label_map()
        return np.array([labels[name] for name in self.op_names] + [0], dtype=np.int64)

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
        hashes = self._memory.hashes
        cached = hashes.get(cell)
        if cached is None:
            pruned = self._check(cell)
            labels = self._label_map()
            cached = module_hash(pruned.matrix, [labels[op] for op in pruned.ops])
            hashes.put(cell, cached)
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
        memory = self._memory.hashes
        hashes = np.array([memory.get(cell, "") for cell in converted], dtype="<U32")
        todo = np.flatnonzero(hashes == "")
        missing = [converted[i] for i in todo.tolist()]
        for rows, adjacency, ops in self._blocks(missing):
            block, bad = self._hash_block(adjacency, ops)
            if bad.any():
                position = int(todo[rows[np.argmax(bad)]])
                self._raise_for(converted[position], position)
            hashes[todo[rows]] = block
        for i in todo.tolist():
            memory.put(converted[i], str(hashes[i]))
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
        adjacency, ops = check_packed(adjacency, ops, len(self.op_names))
        sizes = (ops >= 0).sum(axis=1)
        hashes = np.empty(ops.shape[0], dtype="<U32")
        for n in np.unique(sizes).tolist():
            rows = np.flatnonzero(sizes == n)
            malformed = flag_malformed(adjacency[rows], n)
            if malformed.any():
                self._raise_for_row(adjacency, ops, int(rows[np.argmax(malformed)]))
            block = adjacency[rows, :n, :n].astype(bool)
            block_hashes, bad = self._hash_block(block, ops[rows, :n])
            if bad.any():
                self._raise_for_row(adjacency, ops, int(rows[np.argmax(bad)]))
            hashes[rows] = block_hashes
        return hashes

    def _raise_for_row(self, adjacency: np.ndarray, ops: np.ndarray, position: int) -> None:
        try:
            cell = cell_of_row(adjacency[position], ops[position], self.op_names)
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

    def _hash_block(self, adjacency: np.ndarray, ops: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Vectorised validate + prune + hash of cells of ``n`` vertices.

        The inputs are as for :meth:`_prune_block`. Returns the hashes and a
        mask of the cells that are not in the space (their hash is meaningless).
        """
        edges, keep, sizes, empty, bad = self._prune_block(adjacency, ops)
        hashes = np.empty(ops.shape[0], dtype="<U32")
        if empty.any():
            empty_hash = self._empty_hash()
            if empty_hash is None:
                bad |= empty
            else:
                hashes[empty] = empty_hash
        rows = np.flatnonzero(~bad & ~empty)
        if rows.size:  # kept vertices first, in their order; pruned ones become padding
            block, block_ops = kept_first(edges[rows], ops[rows], keep[rows], ops.shape[1])
            hashes[rows] = module_hashes(block, self._label_array()[block_ops], sizes[rows])
        return hashes, bad

    def _empty_hash(self) -> str | None:
        """Hash of the cells with no input -> output path; None when they are invalid."""
        return None

    def _pruned_arrays(self, cells: Iterable[Any]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Validate cells, prune them and pack them, vectorised.

        Returns the pruned adjacency (n_cells, max_vertices, max_vertices)
        bool, the op ids into :attr:`op_names` (n_cells, max_vertices) with
        ``-1`` for padding, and each pruned cell's number of vertices; kept
        vertices keep their order.
        """
        cells = as_cells(cells, space=self)
        if not cells:
            raise ValueError("expected at least one cell, got an empty sequence")
        size = self.max_vertices
        adjacency = np.zeros((len(cells), size, size), dtype=bool)
        ops = np.full((len(cells), size), -1, dtype=np.int64)
        for rows, block, ids in self._blocks(cells):
            edges, keep = prune_edges(block, np.isin(ids, self._removable_ids()))
            adjacency[rows], ops[rows] = kept_first(edges, ids, keep, size)
        return adjacency, ops, (ops >= 0).sum(axis=1)

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
        n = check_int(n, "n", minimum=0)
        rng = check_random_state(random_state)
        try:
            return random_cells(
                rng, n, ops=self.ops, max_vertices=self.max_vertices, check=self._check, prune=prune
            )
        except RuntimeError as exc:
            raise RuntimeError(f"{exc}; valid cells are too rare in {self!r}") from None

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
        return one_change_neighbours(cell, self.ops, rng)

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
        total = count_candidates(len(self.ops), self.max_vertices)
        if total > _MAX_ENUMERATION_CANDIDATES:
            raise ValueError(self._too_large_message(total))
        labels = self._label_map()

        def key(pruned: Cell) -> str:
            return module_hash(pruned.matrix, [labels[op] for op in pruned.ops])

        return all_cells(self.ops, self.max_vertices, self._check, key)

    def _too_large_message(self, total: int) -> str:
        return (
            f"{self!r} is too large to enumerate (about 10^{math.log10(total):.0f} labelled "
            "candidate cells); draw from it with sample() instead"
        )
