"""Drawing, changing and listing cells of a space, given the space's check.

Each function takes the space's ops and limits and a ``check`` callable (a
cell -> its pruned form, raising :class:`~skassess.InvalidCellError` when the
cell is outside the space), so that it works for any space:

- :func:`random_cells`: the random search of the official NAS-Bench-101
  examples, coin-flip edges and uniform ops, redrawn until valid;
- :func:`one_change_neighbours`: every cell one edge flip or one inner-op
  change away, in random order (the mutation of regularized evolution);
- :func:`all_cells`: every cell of a small space, one per hash.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Sequence

import numpy as np

from skassess._cell import Cell, InvalidCellError
from skassess.spaces._validity import INPUT, OUTPUT

__all__ = ["all_cells", "count_candidates", "one_change_neighbours", "random_cells"]

Check = Callable[[Cell], Cell]


def random_cells(
    rng: np.random.RandomState,
    n: int,
    *,
    ops: Sequence[str],
    max_vertices: int,
    check: Check,
    prune: bool,
) -> list[Cell]:
    """``n`` valid cells of ``max_vertices`` vertices, drawn by rejection.

    Upper-triangular adjacency entries are fair coin flips and inner ops are
    uniform; a draw outside the space is redrawn, up to ``1000 + 1000 n`` draws.
    Returns the pruned cells when ``prune``, else the drawn ones.

    Raises
    ------
    RuntimeError
        If valid cells are too rare for rejection sampling.

    Examples
    --------
    >>> import numpy as np
    >>> cells = random_cells(np.random.RandomState(0), 2, ops=["conv"], max_vertices=3,
    ...                      check=lambda cell: cell, prune=True)
    >>> [cell.n_vertices for cell in cells]
    [3, 3]
    """
    upper = np.triu(np.ones((max_vertices, max_vertices), dtype=bool), 1)
    cells: list[Cell] = []
    budget = 1000 + 1000 * n
    for _ in range(budget):
        if len(cells) == n:
            break
        matrix = np.zeros((max_vertices, max_vertices), dtype=np.uint8)
        matrix[upper] = rng.randint(0, 2, size=int(upper.sum()))
        inner = rng.randint(0, len(ops), size=max_vertices - 2)
        cell = Cell._trusted(matrix, (INPUT, *(ops[k] for k in inner), OUTPUT))
        try:
            pruned = check(cell)
        except InvalidCellError:
            continue
        cells.append(pruned if prune else cell)
    if len(cells) < n:
        raise RuntimeError(
            f"rejection sampling found only {len(cells)} valid cells of {n} in {budget} draws"
        )
    return cells


def one_change_neighbours(
    cell: Cell, ops: Sequence[str], rng: np.random.RandomState
) -> Iterator[Cell]:
    """Every cell one edge flip or one inner-op change away from ``cell``, in random order.

    Neighbours may be outside the space; the caller checks them.

    Examples
    --------
    >>> import numpy as np
    >>> cell = Cell([[0, 1, 0], [0, 0, 1], [0, 0, 0]], ["input", "a", "output"])
    >>> len(list(one_change_neighbours(cell, ["a", "b"], np.random.RandomState(0))))
    4
    """
    n = cell.n_vertices
    edges = [(i, j) for i in range(n) for j in range(i + 1, n)]
    changes = [("edge", i, j) for i, j in edges] + [
        ("op", v, op) for v in range(1, n - 1) for op in ops if op != cell.ops[v]
    ]
    for k in rng.permutation(len(changes)).tolist():
        kind, a, b = changes[k]
        if kind == "edge":
            matrix = np.array(cell.matrix)
            matrix[a, b] = 1 - matrix[a, b]
            yield Cell._trusted(matrix, cell.ops)
        else:
            changed = list(cell.ops)
            changed[a] = b
            yield Cell._trusted(np.array(cell.matrix), tuple(changed))


def count_candidates(n_ops: int, max_vertices: int) -> int:
    """Labelled cells of 2 to ``max_vertices`` vertices: what :func:`all_cells` looks at."""
    return sum(2 ** (v * (v - 1) // 2) * n_ops ** (v - 2) for v in range(2, max_vertices + 1))


def all_cells(
    ops: Sequence[str], max_vertices: int, check: Check, key: Callable[[Cell], str]
) -> list[Cell]:
    """Every cell of a space, pruned, one per ``key`` (its hash), sorted by key.

    Looks at all :func:`count_candidates` labelled cells: for small spaces only.

    Examples
    --------
    >>> from skassess.spaces import CellSpace
    >>> space = CellSpace(ops=["conv"], max_vertices=3)
    >>> len(all_cells(space.ops, 3, space._check, space.hash))
    3
    """
    found: dict[str, Cell] = {}
    for v in range(2, max_vertices + 1):
        rows, cols = np.triu_indices(v, 1)
        for bits in itertools.product((0, 1), repeat=rows.size):
            matrix = np.zeros((v, v), dtype=np.uint8)
            matrix[rows, cols] = bits
            for inner in itertools.product(ops, repeat=v - 2):
                try:
                    pruned = check(Cell._trusted(matrix, (INPUT, *inner, OUTPUT)))
                except InvalidCellError:
                    continue
                found.setdefault(key(pruned), pruned)
    return [found[k] for k in sorted(found)]
