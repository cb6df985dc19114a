"""The NAS-Bench-201 search space (Dong & Yang, ICLR 2020) as vertex-labelled cells."""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Iterable, Mapping, Sequence
from types import MappingProxyType
from typing import Any

import numpy as np
from sklearn.utils import check_random_state

from skassess._cell import Cell, InvalidCellError
from skassess.spaces._hashing import module_hash
from skassess.spaces._space import INPUT, OUTPUT, CellSpace
from skassess.utils.validation import check_int

__all__ = ["NASBench201"]

NONE = "none"
_OPS = (NONE, "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
# Parameters of the benchmark's network: what a 3x3 / 1x1 ReLU-conv-BN edge adds over
# the 15 cells (5 per stage of 16, 32, 64 channels: 5 * sum(k*k*C*C + 2*C)), and the
# stem, reduction blocks, last batch norm and classifier without its 65 per class.
_CONV_3X3_PARAMETERS = 5 * sum(9 * c * c + 2 * c for c in (16, 32, 64))
_CONV_1X1_PARAMETERS = 5 * sum(c * c + 2 * c for c in (16, 32, 64))
_FIXED_PARAMETERS = 72_656

# The 6 edges (target <- source) of the 4-node NAS-Bench-201 cell, in the order
# of the arch string and of the benchmark's op tables.
EDGES = ((1, 0), (2, 0), (2, 1), (3, 0), (3, 1), (3, 2))


def _layout() -> np.ndarray:
    """Adjacency of the 8-vertex cell: input, one vertex per edge, output.

    The vertex of edge ``j <- i`` reads node ``i``: the input when ``i == 0``,
    else the sum of the vertices of the edges into ``i``. The output reads the
    vertices of the edges into node 3.
    """
    n = len(EDGES) + 2
    matrix = np.zeros((n, n), dtype=np.uint8)
    for vertex, (_, source) in enumerate(EDGES, start=1):
        if source == 0:
            matrix[0, vertex] = 1
        for feeder, (target, _) in enumerate(EDGES, start=1):
            if target == source:
                matrix[feeder, vertex] = 1
    for vertex, (target, _) in enumerate(EDGES, start=1):
        if target == 3:
            matrix[vertex, n - 1] = 1
    matrix.flags.writeable = False
    return matrix


LAYOUT = _layout()
ZERO_CELL = Cell([[0, 0], [0, 0]], [INPUT, OUTPUT])
_TOKEN = re.compile(r"^([A-Za-z0-9_]+)~(\d+)$")


class NASBench201(CellSpace):
    """The NAS-Bench-201 space: an operation on each of the 6 edges of a 4-node cell.

    NAS-Bench-201 puts operations on edges; skassess puts them on vertices.
    The two meet in the usual way, the line graph: every edge becomes a
    vertex carrying its op, so a NAS-Bench-201 architecture is the
    8-vertex cell ``input, (1<-0), (2<-0), (2<-1), (3<-0), (3<-1), (3<-2),
    output`` with the fixed wiring :data:`LAYOUT`. That cell keeps the ``none``
    ops, so it stands for exactly one architecture (one arch string, one
    benchmark entry) and :meth:`arch_str` inverts :meth:`cell_from_arch_str`.

    :meth:`prune` turns it into the graph it computes: ``none`` vertices
    (which output zeros) go, then every vertex on no input -> output path. An
    architecture whose every input -> output path has a ``none`` computes
    zero; NAS-Bench-201 trains and lists such cells too, so they are kept
    valid and prune to the dedicated two-vertex cell ``input, output`` without
    edges (:data:`ZERO_CELL`), instead of to nothing.

    A cell is in the space when it is the 8-vertex layout with ops from
    :attr:`ops`, or when it prunes to the same graph (up to the order of its
    vertices) as one of the 15,625 architectures. :meth:`hash` is the
    NAS-Bench-101 graph hash of the pruned cell: architectures that compute
    the same graph, such as those differing only on edges that reach no
    output, or mirror images through nodes 1 and 2, share it.

    Attributes
    ----------
    ops : tuple of str
        ``("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3",
        "avg_pool_3x3")``, in the order of the benchmark's op ids.
    op_names : tuple of str
        ``("input", *ops, "output")``.
    max_vertices : int
        8.
    max_edges : int
        10.

    Examples
    --------
    >>> from skassess.spaces import NASBench201
    >>> space = NASBench201()
    >>> s = "|nor_conv_3x3~0|+|none~0|skip_connect~1|+|none~0|none~1|avg_pool_3x3~2|"
    >>> cell = space.cell_from_arch_str(s)
    >>> cell.n_vertices, space.arch_str(cell) == s
    (8, True)
    >>> space.prune(cell).ops
    ('input', 'nor_conv_3x3', 'skip_connect', 'avg_pool_3x3', 'output')
    """

    vectorised_checks = True  # its batch hooks check what _check checks

    def __init__(self) -> None:
        super().__init__(ops=_OPS, max_vertices=8, max_edges=10)

    def _params(self) -> dict[str, Any]:
        return {}

    # ------------------------------------------------------------------ conversions

    def cell_from_edge_ops(self, edge_ops: Sequence[Any]) -> Cell:
        """The 8-vertex cell of the architecture with these ops on its 6 edges.

        Parameters
        ----------
        edge_ops : sequence of 6 str or int
            Ops of edges (1<-0), (2<-0), (2<-1), (3<-0), (3<-1), (3<-2): names,
            or ids into :attr:`ops` (0 none ... 4 avg_pool_3x3, the ids of the
            benchmark's op tables; note they are not ids into :attr:`op_names`).

        Returns
        -------
        Cell

        Examples
        --------
        >>> from skassess.spaces import NASBench201
        >>> NASBench201().cell_from_edge_ops([3, 0, 1, 0, 0, 4]).ops[1:4]
        ('nor_conv_3x3', 'none', 'skip_connect')
        """
        if isinstance(edge_ops, str) or not isinstance(edge_ops, Iterable):
            raise InvalidCellError(f"edge_ops must be a sequence of 6 ops, got {edge_ops!r}")
        edge_ops = list(edge_ops)
        if len(edge_ops) != len(EDGES):
            raise InvalidCellError(f"a NAS-Bench-201 cell has 6 edges, got {len(edge_ops)} ops")
        names = []
        for position, op in enumerate(edge_ops):
            if isinstance(op, int | np.integer) and not isinstance(op, bool):
                if not 0 <= op < len(_OPS):
                    raise InvalidCellError(f"edge {position} has op id {op}, outside 0..4")
                op = _OPS[op]
            if op not in _OPS:
                raise InvalidCellError(f"edge {position} has unknown op {op!r}; allowed: {_OPS}")
            names.append(op)
        return Cell._trusted(LAYOUT, (INPUT, *names, OUTPUT))

    def cell_from_arch_str(self, arch_str: str) -> Cell:
        """The 8-vertex cell of a NAS-Bench-201 architecture string.

        Parameters
        ----------
        arch_str : str
            As in the benchmark, e.g.
            ``"|nor_conv_3x3~0|+|none~0|skip_connect~1|+|none~0|none~1|avg_pool_3x3~2|"``.

        Returns
        -------
        Cell

        Raises
        ------
        InvalidCellError
            If the string is not a NAS-Bench-201 architecture.
        """
        if not isinstance(arch_str, str):
            raise InvalidCellError(f"arch_str must be a string, got {type(arch_str).__name__}")
        nodes = arch_str.split("+")
        if len(nodes) != 3:
            raise InvalidCellError(
                f"a NAS-Bench-201 arch string has 3 nodes separated by '+', got {arch_str!r}"
            )
        ops = []
        for target, node in enumerate(nodes, start=1):
            if not (node.startswith("|") and node.endswith("|")):
                raise InvalidCellError(f"node {target} of {arch_str!r} is not framed by '|'")
            tokens = node[1:-1].split("|")
            if len(tokens) != target:
                raise InvalidCellError(
                    f"node {target} of {arch_str!r} must have {target} inputs, got {len(tokens)}"
                )
            for source, token in enumerate(tokens):
                match = _TOKEN.match(token)
                if match is None or int(match.group(2)) != source:
                    raise InvalidCellError(
                        f"expected 'op~{source}' in node {target} of {arch_str!r}, got {token!r}"
                    )
                ops.append(match.group(1))
        return self.cell_from_edge_ops(ops)

    def edge_ops(self, cell: Any) -> tuple[str, ...]:
        """The ops on the 6 edges of a cell's architecture.

        For the 8-vertex layout, read off the cell; for any other cell of the
        space (pruned, or with its vertices in another order), the first of
        the 15,625 architectures, in :meth:`enumerate` order, that computes
        the same graph.

        Returns
        -------
        tuple of 6 str
            Ops of edges (1<-0), (2<-0), (2<-1), (3<-0), (3<-1), (3<-2).
        """
        cell = self._as_cell(cell)
        if _is_layout(cell) and cell.ops[0] == INPUT and cell.ops[-1] == OUTPUT:
            inner = cell.ops[1:-1]
            if all(op in _OPS for op in inner):
                return inner
        return tuple(_OPS[k] for k in _representatives()[self.hash(cell)])

    def trainable_parameters(self, cells: Iterable[Any], *, num_classes: int = 10) -> np.ndarray:
        """Trainable parameters of the NAS-Bench-201 network built from each cell.

        The benchmark's network (Dong and Yang, ICLR 2020): a 16-channel stem,
        3 stages of 5 cells with 16, 32 and 64 channels and a residual
        reduction block between stages, global pooling and a linear
        classifier. Only the convolutions on the cell's edges vary: each
        ``nor_conv_3x3`` edge adds 243,040 parameters over the 15 cells (a
        ReLU-conv-batch-norm of ``9 C**2 + 2 C``) and each ``nor_conv_1x1``
        edge 28,000; the rest is ``72,656 + 65 * num_classes``. The counts
        span 73,306 to 1,531,546 for CIFAR-10, the benchmark's published range.
        Counted over the 6 edges of :meth:`edge_ops` (exact for the 8-vertex
        layout of the benchmark's tables).

        Parameters
        ----------
        cells : sequence of cells
        num_classes : int, default=10
            10 for CIFAR-10, 100 for CIFAR-100, 120 for ImageNet16-120.

        Returns
        -------
        ndarray of shape (n_cells,), int64

        Examples
        --------
        >>> from skassess.spaces import NASBench201
        >>> space = NASBench201()
        >>> cells = [space.cell_from_edge_ops([op] * 6) for op in ("nor_conv_3x3", "none")]
        >>> space.trainable_parameters(cells).tolist()
        [1531546, 73306]
        """
        num_classes = check_int(num_classes, "num_classes", minimum=1)
        edge_ops = np.array([self.edge_ops(cell) for cell in cells], dtype=object).reshape(-1, 6)
        n_3x3 = (edge_ops == "nor_conv_3x3").sum(axis=1)
        n_1x1 = (edge_ops == "nor_conv_1x1").sum(axis=1)
        convolutions = _CONV_3X3_PARAMETERS * n_3x3 + _CONV_1X1_PARAMETERS * n_1x1
        return (_FIXED_PARAMETERS + 65 * num_classes + convolutions).astype(np.int64)

    def arch_str(self, cell: Any) -> str:
        """The NAS-Bench-201 architecture string of a cell.

        The inverse of :meth:`cell_from_arch_str` on the 8-vertex layout; for
        other cells of the space, the string of the architecture chosen by
        :meth:`edge_ops`.

        Examples
        --------
        >>> from skassess.spaces import NASBench201
        >>> space = NASBench201()
        >>> space.arch_str(space.cell_from_edge_ops(["nor_conv_3x3"] * 6))
        '|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|'
        """
        ops = iter(self.edge_ops(cell))
        nodes = []
        for target in range(1, 4):
            tokens = [f"{next(ops)}~{source}" for source in range(target)]
            nodes.append("|" + "|".join(tokens) + "|")
        return "+".join(nodes)

    # ------------------------------------------------------------------ validity and pruning

    def _removable(self, cell: Cell) -> np.ndarray:
        return np.array([op == NONE for op in cell.ops])

    def _removable_ids(self) -> np.ndarray:
        return np.array([self.op_names.index(NONE)])

    def _empty_cell(self, cell: Cell) -> tuple[Cell, np.ndarray]:
        return ZERO_CELL, np.array([0, cell.n_vertices - 1])

    def _empty_hash(self) -> str:
        return module_hash(ZERO_CELL.matrix, [-1, -2])

    def _check(self, cell: Cell) -> Cell:
        pruned = super()._check(cell)
        if not _is_layout(cell):
            labels = self._label_map()
            key = module_hash(pruned.matrix, [labels[op] for op in pruned.ops])
            if key not in _representatives():
                raise InvalidCellError(
                    "the cell computes none of the 15,625 NAS-Bench-201 architectures"
                )
        return pruned

    def _hash_block(self, adjacency: np.ndarray, ops: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        hashes, bad = super()._hash_block(adjacency, ops)
        if ops.shape[1] == LAYOUT.shape[0]:
            layout = (np.asarray(adjacency, dtype=bool) == LAYOUT.astype(bool)).all(axis=(1, 2))
        else:
            layout = np.zeros(ops.shape[0], dtype=bool)
        check = ~bad & ~layout
        if check.any():
            members = _representatives()
            bad[check] = [key not in members for key in hashes[check].tolist()]
        return hashes, bad

    def _check_block(self, adjacency: np.ndarray, ops: np.ndarray) -> np.ndarray:
        flagged = super()._check_block(adjacency, ops)
        check = ~flagged
        if ops.shape[1] == LAYOUT.shape[0]:
            check &= ~(np.asarray(adjacency, dtype=bool) == LAYOUT.astype(bool)).all(axis=(1, 2))
        if check.any():  # not the 8-vertex layout: valid when it computes a member
            rows = np.flatnonzero(check)
            hashes, bad = CellSpace._hash_block(self, adjacency[rows], ops[rows])
            members = _representatives()
            flagged[rows] = bad | [key not in members for key in hashes.tolist()]
        return flagged

    # ------------------------------------------------------------------ sample / mutate / enumerate

    def enumerate(self) -> list[Cell]:
        """All 15,625 architectures as 8-vertex cells.

        In the order of :func:`itertools.product` over the edge ops (edge
        (3<-2) varying fastest), which is not the benchmark's index order: map
        through :meth:`arch_str` to join with it.

        Examples
        --------
        >>> from skassess.spaces import NASBench201
        >>> len(NASBench201().enumerate())
        15625
        """
        return [
            Cell._trusted(LAYOUT, (INPUT, *ops, OUTPUT))
            for ops in itertools.product(_OPS, repeat=len(EDGES))
        ]

    def sample(self, n: int, random_state: Any = None, *, prune: bool = False) -> list[Cell]:
        """Draw architectures uniformly from the 15,625, as 8-vertex cells.

        Each edge op is drawn uniformly and independently, which is uniform
        over the benchmark's entries (not over distinct pruned graphs).

        Parameters
        ----------
        n : int
        random_state : int, RandomState instance or None, default=None
        prune : bool, default=False
            Return the pruned graphs instead of the 8-vertex cells.

        Returns
        -------
        list of Cell

        Examples
        --------
        >>> from skassess.spaces import NASBench201
        >>> [c.n_vertices for c in NASBench201().sample(2, random_state=0)]
        [8, 8]
        """
        n = check_int(n, "n", minimum=0)
        rng = check_random_state(random_state)
        draws = rng.randint(0, len(_OPS), size=(n, len(EDGES)))
        cells = [self.cell_from_edge_ops(row.tolist()) for row in draws]
        return [self.prune(c) for c in cells] if prune else cells

    def mutate(self, cell: Any, random_state: Any = None) -> Cell:
        """Change the op of one edge, to an architecture that computes another graph.

        The mutation of regularized evolution on NAS-Bench-201 (Dong & Yang,
        2020), drawn uniformly among the single edge-op changes whose pruned
        graph differs from the parent's.

        Parameters
        ----------
        cell : cell of the space in any spelling; a cell other than the
            8-vertex layout stands for the architecture :meth:`edge_ops` picks
        random_state : int, RandomState instance or None, default=None

        Returns
        -------
        Cell
            An 8-vertex cell.

        Examples
        --------
        >>> from skassess.spaces import NASBench201
        >>> space = NASBench201()
        >>> parent = space.sample(1, random_state=0)[0]
        >>> child = space.mutate(parent, random_state=0)
        >>> sum(a != b for a, b in zip(parent.ops, child.ops))
        1
        """
        return super().mutate(cell, random_state)

    def _mutations(self, cell: Cell, rng: np.random.RandomState) -> Iterable[Cell]:
        edge_ops = list(self.edge_ops(cell))
        changes = [(e, op) for e in range(len(EDGES)) for op in _OPS if op != edge_ops[e]]
        for k in rng.permutation(len(changes)).tolist():
            edge, op = changes[k]
            yield self.cell_from_edge_ops([*edge_ops[:edge], op, *edge_ops[edge + 1 :]])


def _is_layout(cell: Cell) -> bool:
    return cell.n_vertices == LAYOUT.shape[0] and bool((cell.matrix == LAYOUT).all())


@functools.cache
def _representatives() -> Mapping[str, tuple[int, ...]]:
    """Hash of each distinct pruned graph -> edge op ids of its first architecture.

    A constant of the benchmark (the first of the 15,625 architectures, in
    enumeration order, that prunes to each graph), computed on first use.
    """
    space = NASBench201()
    ops = np.array(list(itertools.product(range(len(_OPS)), repeat=len(EDGES))))
    ids = np.column_stack([np.zeros(len(ops), int), ops + 1, np.full(len(ops), len(_OPS) + 1)])
    adjacency = np.broadcast_to(LAYOUT, (len(ops), *LAYOUT.shape))
    hashes, _ = CellSpace._hash_block(space, adjacency, ids)
    found: dict[str, tuple[int, ...]] = {}
    for key, row in zip(hashes.tolist(), ops.tolist(), strict=True):
        found.setdefault(key, tuple(row))
    return MappingProxyType(found)
