"""The NAS-Bench-Graph search space (Qin et al., NeurIPS 2022 Datasets and Benchmarks)."""

from __future__ import annotations

import functools
import itertools
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
from sklearn.utils import check_random_state

from skassess._cell import Cell, InvalidCellError
from skassess.spaces._space import INPUT, OUTPUT, CellSpace
from skassess.utils.validation import check_int

__all__ = ["NASBenchGraph"]

# The package's ``gnn_list``, in its order: ``Arch.valid_hash`` numbers ops by it.
_OPS = ("gat", "gcn", "gin", "cheb", "sage", "arma", "graph", "fc", "skip")
_N_NODES = 4


def _arch_class() -> Any:
    try:
        from nas_bench_graph.architecture import Arch
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise ImportError(
            "NASBenchGraph needs the nas-bench-graph package: pip install nas-bench-graph"
        ) from exc
    return Arch


class NASBenchGraph(CellSpace):
    """The NAS-Bench-Graph space: 4 computing nodes, each reading one earlier node.

    A NAS-Bench-Graph architecture (package ``nas_bench_graph``) is a ``link``
    list, the node each computing node reads (0 the input, ``k`` the k-th
    computing node), and one of 9 GNN operations per computing node; every
    computing node that no other node reads feeds the output. As a cell: the
    input vertex, the 4 computing nodes in link order, and an output vertex
    reading those leaves, 6 vertices in all.

    :meth:`hash` is the benchmark's own key, ``Arch(link, ops).valid_hash()``
    (as a string), so :meth:`hash` joins cells with the dicts of
    ``nas_bench_graph.light_read``. It does not depend on the order of the
    computing nodes, and it also merges architectures that the benchmark
    treats as one (skip connections that can move without changing the
    function); an architecture of 4 skip connections is not in the benchmark
    and not in the space.

    Attributes
    ----------
    ops : tuple of str
        ``("gat", "gcn", "gin", "cheb", "sage", "arma", "graph", "fc",
        "skip")``, the order of the package's ``gnn_list``.
    op_names : tuple of str
        ``("input", *ops, "output")``.
    max_vertices : int
        6.
    max_edges : int
        8.

    Examples
    --------
    >>> from skassess.spaces import NASBenchGraph
    >>> space = NASBenchGraph()
    >>> cell = space.cell_from_arch([0, 1, 2, 1], ["gcn", "gin", "fc", "cheb"])
    >>> cell.n_vertices, cell.n_edges
    (6, 6)
    >>> same = space.cell_from_arch([0, 1, 1, 2], ["gcn", "gin", "cheb", "fc"])
    >>> space.hash(cell) == space.hash(same)  # the same graph, nodes in another order
    True
    """

    vectorised_checks = True  # its batch hooks check what _check checks

    def __init__(self) -> None:
        super().__init__(ops=_OPS, max_vertices=_N_NODES + 2, max_edges=2 * _N_NODES)

    def _params(self) -> dict[str, Any]:
        return {}

    # ------------------------------------------------------------------ conversions

    def cell_from_arch(self, link: Sequence[int], ops: Sequence[Any]) -> Cell:
        """The cell of a NAS-Bench-Graph architecture.

        Parameters
        ----------
        link : sequence of 4 int
            ``link[k]`` is the node computing node ``k + 1`` reads: 0 the
            input, ``j`` the j-th computing node, ``j <= k``.
        ops : sequence of 4 str or int
            Op names, or ids into :attr:`ops`.

        Returns
        -------
        Cell

        Raises
        ------
        InvalidCellError
            If ``link`` or ``ops`` is malformed.
        """
        link = _check_link(link)
        names = self._op_list(ops)
        n = _N_NODES + 2
        matrix = np.zeros((n, n), dtype=np.uint8)
        for node, source in enumerate(link, start=1):
            matrix[source, node] = 1
        for node in range(1, _N_NODES + 1):
            if not matrix[node, 1 : _N_NODES + 1].any():
                matrix[node, n - 1] = 1
        return Cell._trusted(matrix, (INPUT, *names, OUTPUT))

    def arch(self, cell: Any) -> tuple[list[int], list[str]]:
        """The ``(link, ops)`` of a cell of the space, in its vertex order.

        Examples
        --------
        >>> from skassess.spaces import NASBenchGraph
        >>> space = NASBenchGraph()
        >>> space.arch(space.cell_from_arch([0, 0, 1, 3], [1, 1, 8, 0]))
        ([0, 0, 1, 3], ['gcn', 'gcn', 'skip', 'gat'])
        """
        pruned = self._check(self._as_cell(cell))
        return _link_of(pruned), list(pruned.ops[1:-1])

    def _op_list(self, ops: Sequence[Any]) -> list[str]:
        if isinstance(ops, str) or not isinstance(ops, Iterable):
            raise InvalidCellError(f"ops must be a sequence of {_N_NODES} ops, got {ops!r}")
        ops = list(ops)
        if len(ops) != _N_NODES:
            raise InvalidCellError(f"NAS-Bench-Graph has {_N_NODES} computing nodes, got {ops}")
        names = []
        for position, op in enumerate(ops):
            if isinstance(op, int | np.integer) and not isinstance(op, bool):
                if not 0 <= op < len(_OPS):
                    raise InvalidCellError(f"node {position + 1} has op id {op}, outside 0..8")
                op = _OPS[op]
            if op not in _OPS:
                raise InvalidCellError(
                    f"node {position + 1} has unknown op {op!r}; allowed: {list(_OPS)}"
                )
            names.append(op)
        return names

    # ------------------------------------------------------------------ validity and hashing

    def _check(self, cell: Cell) -> Cell:
        if _is_well_formed(cell):  # the common case: nothing to prune, skip the generic path
            return cell
        pruned = super()._check(cell)
        n = pruned.n_vertices
        if n != _N_NODES + 2:
            raise InvalidCellError(
                f"a NAS-Bench-Graph cell has {_N_NODES} computing nodes, got {n - 2} after pruning"
            )
        matrix = pruned.matrix
        nodes = slice(1, n - 1)
        for node, degree in enumerate(matrix[:, nodes].sum(axis=0).tolist(), start=1):
            if degree != 1:
                raise InvalidCellError(
                    f"computing node {node} reads {degree} nodes; each reads exactly one"
                )
        leaves = ~matrix[nodes, nodes].any(axis=1)
        if matrix[0, n - 1] or not np.array_equal(matrix[nodes, n - 1].astype(bool), leaves):
            raise InvalidCellError(
                "the output must read exactly the computing nodes that no other node reads"
            )
        if all(op == "skip" for op in pruned.ops[1:-1]):
            raise InvalidCellError("4 skip connections is no NAS-Bench-Graph architecture")
        return pruned

    def _check_block(self, adjacency: np.ndarray, ops: np.ndarray) -> np.ndarray:
        # _is_well_formed, vectorised; the other cells go to _check.
        n_cells, n = ops.shape
        if n != _N_NODES + 2:
            return np.ones(n_cells, dtype=bool)
        matrix = np.asarray(adjacency, dtype=bool)
        skip = self.op_names.index("skip")
        inner = ops[:, 1:-1]
        well = (ops[:, 0] == 0) & (ops[:, -1] == len(self.op_names) - 1)
        well &= ((inner >= 1) & (inner < len(self.op_names) - 1)).all(axis=1)
        well &= ~(inner == skip).all(axis=1)
        nodes = matrix[:, :, 1:-1]
        well &= (nodes.sum(axis=1) == 1).all(axis=1) & ~matrix[:, 0, -1]
        leaves = ~nodes[:, 1:-1].any(axis=2)
        well &= (matrix[:, 1:-1, -1] == leaves).all(axis=1)
        return ~well

    def hash(self, cell: Any) -> str:
        """The benchmark's key of a cell: ``Arch(link, ops).valid_hash()``, as a string.

        Examples
        --------
        >>> from skassess.spaces import NASBenchGraph
        >>> space = NASBenchGraph()
        >>> space.hash(space.cell_from_arch([0, 1, 2, 3], ["gcn"] * 4))
        '81111'
        """
        pruned = self._check(self._as_cell(cell))
        return str(_arch_class()(_link_of(pruned), list(pruned.ops[1:-1])).valid_hash())

    def hash_many(self, cells: Iterable[Any]) -> np.ndarray:
        """:meth:`hash` of many cells (a loop: the benchmark's key is cheap).

        Returns
        -------
        ndarray of shape (n_cells,), dtype str
        """
        hashes = []
        for position, cell in enumerate(cells):
            try:
                hashes.append(self.hash(cell))
            except InvalidCellError as exc:
                raise InvalidCellError(f"cell {position}: {exc}") from None
        return np.array(hashes, dtype=str)

    def hash_arrays(self, adjacency: Any, ops: Any) -> np.ndarray:
        """:meth:`hash` of cells packed in arrays (see :meth:`CellSpace.hash_arrays`)."""
        adjacency, ops = np.asarray(adjacency), np.asarray(ops)
        if adjacency.ndim != 3 or ops.shape != adjacency.shape[:2]:
            raise InvalidCellError(
                f"adjacency (n, V, V) and ops (n, V) expected, got {adjacency.shape} and "
                f"{ops.shape}"
            )
        cells = []
        for matrix, ids in zip(adjacency, ops.tolist(), strict=True):
            n = sum(i >= 0 for i in ids)
            cells.append((matrix[:n, :n], ids[:n]))
        return self.hash_many(cells)

    # ------------------------------------------------------------------ sample / mutate / enumerate

    def enumerate(self) -> list[Cell]:
        """The 26,206 architectures of the benchmark, one per key.

        In the order of the package's ``all_archs()`` (which prints; this does
        not).

        Examples
        --------
        >>> from skassess.spaces import NASBenchGraph
        >>> len(NASBenchGraph().enumerate())
        26206
        """
        return [self.cell_from_arch(link, ops) for link, ops in _architectures()]

    def sample(self, n: int, random_state: Any = None, *, prune: bool = True) -> list[Cell]:
        """Draw architectures uniformly from the 26,206 of the benchmark.

        Parameters
        ----------
        n : int
        random_state : int, RandomState instance or None, default=None
        prune : bool, default=True
            Ignored: NAS-Bench-Graph cells have nothing to prune.

        Returns
        -------
        list of Cell

        Examples
        --------
        >>> from skassess.spaces import NASBenchGraph
        >>> len(NASBenchGraph().sample(3, random_state=0))
        3
        """
        n = check_int(n, "n", minimum=0)
        rng = check_random_state(random_state)
        architectures = _architectures()
        picks = rng.randint(0, len(architectures), size=n)
        return [self.cell_from_arch(*architectures[k]) for k in picks.tolist()]

    def mutate(self, cell: Any, random_state: Any = None) -> Cell:
        """Change one node's op, or re-wire one node to another earlier node.

        Drawn uniformly among the single changes that give an architecture of
        the benchmark with another key.

        Examples
        --------
        >>> from skassess.spaces import NASBenchGraph
        >>> space = NASBenchGraph()
        >>> parent = space.sample(1, random_state=0)[0]
        >>> space.hash(space.mutate(parent, random_state=0)) != space.hash(parent)
        True
        """
        return super().mutate(cell, random_state)

    def _mutations(self, cell: Cell, rng: np.random.RandomState) -> Iterable[Cell]:
        link, ops = self.arch(cell)
        changes = [("op", k, op) for k in range(_N_NODES) for op in _OPS if op != ops[k]]
        changes += [
            ("link", k, source)
            for k in range(_N_NODES)
            for source in range(k + 1)
            if source != link[k]
        ]
        for index in rng.permutation(len(changes)).tolist():
            kind, k, value = changes[index]
            new_link, new_ops = list(link), list(ops)
            if kind == "op":
                new_ops[k] = value
            else:
                new_link[k] = value
            yield self.cell_from_arch(new_link, new_ops)


def _check_link(link: Any) -> list[int]:
    if isinstance(link, str) or not isinstance(link, Iterable):
        raise InvalidCellError(f"link must be a sequence of {_N_NODES} ints, got {link!r}")
    link = list(link)
    if len(link) != _N_NODES:
        raise InvalidCellError(f"link must name {_N_NODES} predecessors, got {link}")
    for k, source in enumerate(link):
        if not isinstance(source, int | np.integer) or isinstance(source, bool):
            raise InvalidCellError(f"link[{k}] must be an int, got {source!r}")
        if not 0 <= source <= k:
            raise InvalidCellError(
                f"link[{k}] = {source}: computing node {k + 1} can read only the input (0) "
                f"or an earlier node (1..{k})"
            )
    return [int(source) for source in link]


def _is_well_formed(cell: Cell) -> bool:
    """Whether a cell is, as given, a NAS-Bench-Graph architecture (a fast check)."""
    if cell.n_vertices != _N_NODES + 2 or cell.ops[0] != INPUT or cell.ops[-1] != OUTPUT:
        return False
    inner = cell.ops[1:-1]
    if not all(op in _OPS for op in inner) or all(op == "skip" for op in inner):
        return False
    matrix = cell.matrix
    nodes = matrix[:, 1:-1]
    if not (nodes.sum(axis=0) == 1).all() or matrix[0, -1]:
        return False
    leaves = ~nodes[1:-1].any(axis=1)
    return bool((matrix[1:-1, -1].astype(bool) == leaves).all())


def _link_of(cell: Cell) -> list[int]:
    """The node each computing node of a valid cell reads."""
    return [int(np.flatnonzero(cell.matrix[:, node])[0]) for node in range(1, _N_NODES + 1)]


@functools.cache
def _architectures() -> tuple[tuple[tuple[int, ...], tuple[str, ...]], ...]:
    """The 26,206 architectures as (link, ops), as the package's ``all_archs()`` lists them.

    A constant of the benchmark, computed on first use.
    """
    arch_class = _arch_class()
    from nas_bench_graph.architecture import link_list

    found = []
    for ops in itertools.product(_OPS, repeat=_N_NODES):
        if all(op == "skip" for op in ops):
            continue
        for link in link_list:
            # check_isomorph normalises the arch in place: a fresh one each time
            if arch_class(list(link), list(ops)).check_isomorph():
                found.append((tuple(link), ops))
    return tuple(found)
