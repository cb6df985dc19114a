"""What an estimator does with the cells it is given: know their space, validate, prune.

When the search space of the cells is known, an estimator reads them as that
space does, so that one architecture gets one prediction however it is
written:

1. the space is the one given (an estimator's ``space``, a
   :class:`~skassess.datasets.Benchmark`'s), or else the public space whose
   operations the cells use (:func:`infer_space`; the inner ops of
   NAS-Bench-101, NAS-Bench-201 and NAS-Bench-Graph are disjoint);
2. every cell is validated against it (a 9-vertex cell is no NAS-Bench-101
   cell);
3. every vertex on no input -> output path is dropped with its edges
   (:func:`prune_dangling`), as nasbench's ``ModelSpec`` does.

Step 3 is structural only: vertices whose op computes nothing (NAS-Bench-201's
``none``) stay, so a NAS-Bench-201 architecture keeps its 8-vertex form, which
names exactly one benchmark entry, and the encodings learned on it do not
change. Cells with nothing to drop come back as the very same objects, so the
spaces' caches of verdicts (kept by identity) still recognise them.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from skassess._cell import Cell, InvalidCellError, as_cells, cell_sequence
from skassess.spaces._nasbench101 import NASBench101
from skassess.spaces._nasbench201 import NASBench201
from skassess.spaces._nasbench_graph import NASBenchGraph
from skassess.spaces._pruning import on_path_batch
from skassess.spaces._validity import INPUT, OUTPUT

__all__ = ["infer_space", "prepare_cells", "prune_dangling"]


# Their inner ops are disjoint: the ops of a cell name at most one of them.
_PUBLIC_SPACES = (NASBench101, NASBench201, NASBenchGraph)


@functools.cache
def _shared(space_class: type) -> Any:
    """One instance of a public space, shared so that its caches of verdicts persist."""
    return space_class()


def infer_space(cells: Sequence[Cell]) -> Any:
    """The public space whose operations ``cells`` use, or None when no one space fits.

    Parameters
    ----------
    cells : sequence of Cell

    Returns
    -------
    NASBench101, NASBench201, NASBenchGraph or None
        None when the cells have no inner op, or ops of no single public space.

    Examples
    --------
    >>> from skassess import Cell
    >>> cell = Cell([[0, 1, 0], [0, 0, 1], [0, 0, 0]], ["input", "maxpool3x3", "output"])
    >>> infer_space([cell])
    NASBench101()
    """
    seen: dict[int, tuple[str, ...]] = {}
    for cell in cells:  # op tuples are often shared: look at each one once
        seen.setdefault(id(cell.ops), cell.ops)
    ops = set().union(*seen.values()) - {INPUT, OUTPUT}
    if not ops:
        return None
    for space_class in _PUBLIC_SPACES:
        space = _shared(space_class)
        if ops.issubset(space.ops):
            return space
    return None


def prune_dangling(cells: Sequence[Cell]) -> list[Cell]:
    """Drop from each cell the vertices on no input -> output path, with their edges.

    Vectorised over the cells of each size; a cell with nothing to drop (or
    with no input -> output path at all, which only a space can judge) is
    returned as the same object.

    Parameters
    ----------
    cells : sequence of Cell

    Returns
    -------
    list of Cell

    Examples
    --------
    >>> from skassess import Cell
    >>> ops = ["input", "conv3x3-bn-relu", "maxpool3x3", "output"]
    >>> dangling = Cell([[0, 1, 1, 0], [0, 0, 0, 1], [0, 0, 0, 0], [0, 0, 0, 0]], ops)
    >>> prune_dangling([dangling])[0].ops  # the pool reaches no output
    ('input', 'conv3x3-bn-relu', 'output')
    """
    pruned = list(cells)
    matrices = [cell.matrix for cell in pruned]
    sizes = np.fromiter(map(len, matrices), dtype=np.int64, count=len(matrices))
    for n in np.unique(sizes).tolist():
        rows = np.flatnonzero(sizes == n)
        group = matrices if rows.size == len(matrices) else [matrices[i] for i in rows.tolist()]
        # one join of the bytes is twice as fast as np.stack of many small arrays
        block = np.frombuffer(b"".join([m.tobytes() for m in group]), dtype=np.uint8)
        keep = on_path_batch(block.reshape(-1, n, n))
        partial = ~keep.all(axis=1) & keep[:, 0]
        for row, kept in zip(rows[partial].tolist(), keep[partial], strict=True):
            cell = pruned[row]
            index = np.flatnonzero(kept)
            matrix = np.ascontiguousarray(cell.matrix[np.ix_(index, index)])
            pruned[row] = Cell._trusted(matrix, tuple(cell.ops[i] for i in index.tolist()))
    return pruned


def prepare_cells(X: Any, space: Any = None) -> list[Cell]:
    """Read ``X`` as cells of their space: validated and pruned when the space is known.

    The whole of step 1-3 above; what :func:`skassess.utils.validation.check_cells`
    does for every estimator.

    Parameters
    ----------
    X : sequence of cells, one-column DataFrame, (n, 1) object array or Benchmark
        Cells in any spelling :func:`skassess.as_cells` accepts; NAS-Bench-201
        architecture strings when the space is (or is inferred as) NAS-Bench-201.
    space : CellSpace, optional
        The space of the cells; None for a Benchmark's space, or the one
        :func:`infer_space` finds.

    Returns
    -------
    list of Cell
        Pruned when the space is known, as given otherwise.

    Raises
    ------
    InvalidCellError
        If a cell is not in the space; the message names its position, and
        the space when it was inferred.
    """
    if space is None and hasattr(X, "cells") and not isinstance(X, Iterable):
        space = X.space  # a Benchmark knows its space
    if space is not None:
        return prune_dangling(as_cells(X, space))
    items = list(cell_sequence(X))
    if any(isinstance(item, str) for item in items):
        # strings: NAS-Bench-201's architecture strings
        return prune_dangling(as_cells(items, _shared(NASBench201)))
    cells = as_cells(items)
    space = infer_space(cells)
    if space is None:
        return cells
    try:
        space._validate_cells(cells)
    except InvalidCellError as exc:
        raise InvalidCellError(
            f"{exc} (the cells' ops are {type(space).__name__}'s, so they were read as its "
            "cells; for a space of your own, pass space=CellSpace(...))"
        ) from None
    return prune_dangling(cells)
