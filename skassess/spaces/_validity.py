"""Which cells belong to a space: the checks of the official ``nasbench`` API, in its order.

A cell belongs to a space when its first vertex is ``"input"`` and its last
``"output"`` and, once pruned (:mod:`skassess.spaces._pruning`), every other
vertex carries one of the space's ops and it has at most ``max_vertices``
vertices and ``max_edges`` edges: the limits apply to the *pruned* cell, as in
``nasbench``'s ``ModelSpec`` and ``NASBench.is_valid``, so the op of a vertex
that pruning drops is never looked at. A cell with no input -> output path
belongs to no space.

Each rule exists twice: a check of one cell that raises
:class:`~skassess.InvalidCellError` with the reason, and :func:`flag_outside`,
which flags the cells of a batch that break one, vectorised.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from skassess._cell import Cell, InvalidCellError

__all__ = [
    "INPUT",
    "OUTPUT",
    "check_endpoints",
    "cell_of_row",
    "check_ops",
    "check_packed",
    "check_pruned",
    "flag_malformed",
    "flag_outside",
    "no_path",
]

INPUT = "input"
OUTPUT = "output"


def check_ops(ops: Any) -> tuple[str, ...]:
    """The ops of a space as a tuple, or a clear error."""
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


def check_endpoints(ops: Sequence[str]) -> None:
    """Raise unless the first vertex is the input and the last the output."""
    if ops[0] != INPUT:
        raise InvalidCellError(
            f"the first vertex must be the input: ops[0] is {ops[0]!r}, not {INPUT!r}"
        )
    if ops[-1] != OUTPUT:
        raise InvalidCellError(f"the last vertex must be the output: ops[-1] is {ops[-1]!r}")


def no_path(n_vertices: int) -> InvalidCellError:
    """The error for a cell whose input cannot reach its output."""
    return InvalidCellError(
        f"the input cannot reach the output: no path from vertex 0 to vertex "
        f"{n_vertices - 1}, so pruning leaves nothing"
    )


def check_pruned(
    pruned: Cell,
    kept: np.ndarray,
    *,
    ops: Sequence[str],
    max_vertices: int,
    max_edges: int | None,
    space: str,
) -> None:
    """Raise unless a pruned cell keeps to the limits and carries only ``ops`` inside.

    ``kept`` holds each vertex's position in the cell before pruning, to name it.
    """
    if pruned.n_vertices > max_vertices:
        raise InvalidCellError(
            f"the cell has {pruned.n_vertices} vertices after pruning, more than "
            f"max_vertices={max_vertices}"
        )
    if max_edges is not None and pruned.n_edges > max_edges:
        raise InvalidCellError(
            f"the cell has {pruned.n_edges} edges after pruning, more than max_edges={max_edges}"
        )
    allowed = set(ops)
    for position, op in zip(kept[1:-1].tolist(), pruned.ops[1:-1], strict=True):
        if op in allowed:
            continue
        if op in (INPUT, OUTPUT):
            raise InvalidCellError(
                f"{op!r} at vertex {position}: only the first vertex may be the input "
                "and only the last the output"
            )
        raise InvalidCellError(
            f"unknown op {op!r} at vertex {position}; {space} allows {list(ops)}"
        )


def flag_outside(
    edges: np.ndarray,
    keep: np.ndarray,
    ops: np.ndarray,
    *,
    n_names: int,
    max_vertices: int,
    max_edges: int | None,
) -> np.ndarray:
    """Vectorised: the cells of a batch that break a rule other than having no path.

    Parameters
    ----------
    edges, keep : ndarray
        The pruned edges and kept vertices (:func:`~skassess.spaces._pruning.prune_edges`)
        of cells with the same number of vertices.
    ops : ndarray of shape (n_cells, n), int
        Op ids into ``("input", *ops, "output")``, ``n_names`` of them; an id
        of ``n_names`` or more stands for a name outside.
    n_names : int
    max_vertices : int
    max_edges : int or None

    Returns
    -------
    ndarray of shape (n_cells,), bool
    """
    last = n_names - 1
    bad = (ops[:, 0] != 0) | (ops[:, -1] != last)
    bad |= keep[:, 0] & (keep.sum(axis=1) > max_vertices)
    if max_edges is not None:
        bad |= edges.sum(axis=(1, 2)) > max_edges
    inner_ok = (ops >= 1) & (ops < last)
    inner_ok[:, [0, -1]] = True
    return bad | (keep & ~inner_ok).any(axis=1)


def check_packed(adjacency: Any, ops: Any, n_names: int) -> tuple[np.ndarray, np.ndarray]:
    """Cells packed in arrays (``cells_to_arrays``' layout), as arrays, or a clear error.

    Checks the layout only: shapes, integer op ids in ``-1 .. n_names - 1``,
    padding (-1) after each cell's last vertex. Returns the adjacency and the
    op ids as int64.
    """
    adjacency = np.asarray(adjacency)
    ops = np.asarray(ops)
    if adjacency.ndim != 3 or adjacency.shape[1] != adjacency.shape[2]:
        raise InvalidCellError(
            f"adjacency must have shape (n_cells, n_vertices, n_vertices), got {adjacency.shape}"
        )
    if ops.shape != adjacency.shape[:2]:
        raise InvalidCellError(
            f"ops must have shape {adjacency.shape[:2]} to match adjacency, got {ops.shape}"
        )
    if not np.issubdtype(ops.dtype, np.integer):
        raise InvalidCellError(f"ops must be integer op ids, got dtype {ops.dtype}")
    ops = ops.astype(np.int64)
    if ops.size and (ops.min() < -1 or ops.max() >= n_names):
        row = int(np.argmax(((ops < -1) | (ops >= n_names)).any(axis=1)))
        raise InvalidCellError(
            f"cell {row}: op ids must lie in -1..{n_names - 1} (-1 pads), got {ops[row].tolist()}"
        )
    present = ops >= 0
    contiguous = present == (np.arange(ops.shape[1]) < present.sum(axis=1)[:, None])
    if not contiguous.all():
        row = int(np.argmin(contiguous.all(axis=1)))
        raise InvalidCellError(
            f"cell {row}: padding (-1) must come after the last vertex, got ops {ops[row].tolist()}"
        )
    return adjacency, ops


def flag_malformed(adjacency: np.ndarray, n: int) -> np.ndarray:
    """Vectorised: packed cells of ``n`` vertices whose matrix is not 0/1 upper-triangular.

    Edges outside the top-left ``n x n`` block count as malformed too.
    """
    block = adjacency[:, :n, :n]
    if n < 2:
        return np.ones(adjacency.shape[0], dtype=bool)
    outside = adjacency.sum(axis=(1, 2)) != block.sum(axis=(1, 2))
    return outside | ~np.isin(block, (0, 1)).all(axis=(1, 2)) | np.tril(block).any(axis=(1, 2))


def cell_of_row(adjacency: np.ndarray, ops: np.ndarray, names: Sequence[str]) -> Cell:
    """The cell of one packed row, or the error of a malformed one."""
    n = int((ops >= 0).sum())
    if n < 2:
        raise InvalidCellError(f"a cell needs at least an input and an output vertex, got {n}")
    if adjacency.sum() != adjacency[:n, :n].sum():
        raise InvalidCellError(f"adjacency has edges outside the {n} vertices that ops names")
    return Cell(adjacency[:n, :n], [names[i] for i in ops[:n]])
