"""Where a search's candidate architectures come from, one per canonical hash.

Two sources answer the same request, "``n`` cells whose hashes are not in
``seen``": :class:`_CellList`, a finite list (a benchmark's table, a
space's enumeration, the user's own list), drawn uniformly over its distinct
architectures; and :class:`_SpaceSampler`, a space's own sampler, for spaces
too large to list. :func:`mutants` adds cells a mutation or two away from the best
architectures found so far. :func:`sample_distinct` is the public face of the
list: a uniform draw over distinct architectures.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

import numpy as np
from sklearn.utils import check_random_state

from skassess._cell import Cell, InvalidCellError, as_cells

__all__ = ["sample_distinct"]


class _CellList:
    """A finite list of cells, one per canonical hash (the first of equal ones).

    Parameters
    ----------
    cells : sequence of Cell
    hashes : array-like of str
        Canonical hash of each cell, aligned with ``cells``.
    """

    def __init__(self, cells: Sequence[Cell], hashes: Any) -> None:
        hashes = np.asarray(hashes).astype(str)
        unique, first = np.unique(hashes, return_index=True)
        # Indexed by distinct architecture, in list order: its first row and hash.
        self._rows = np.sort(first)
        self._hashes = hashes[self._rows]
        self._free = np.ones(self._rows.size, dtype=bool)
        self._excluded: set[str] = set()
        # For look-ups by hash: the sorted hashes and where each one is above.
        self._sorted_hashes = unique
        self._position = np.searchsorted(self._rows, first)
        self.cells = cells

    def __len__(self) -> int:
        return int(self._rows.size)

    def draw(
        self, n: int | None, rng: np.random.RandomState, seen: Collection[str]
    ) -> tuple[list[Cell], list[str]]:
        """``n`` distinct unseen cells, uniformly without replacement, in random order.

        All of them, in list order, when ``n`` is None or fewer are left.
        ``seen`` may only grow from one call to the next (it is applied
        incrementally).
        """
        for key in seen:
            if key not in self._excluded:
                self._excluded.add(key)
                k = self._find(key)
                if k is not None:
                    self._free[k] = False
        free = np.flatnonzero(self._free)
        if n is not None and free.size > n:
            free = rng.choice(free, size=n, replace=False)
        return [self.cells[row] for row in self._rows[free].tolist()], self._hashes[free].tolist()

    def get(self, key: str) -> Cell | None:
        """The listed cell of hash ``key``, or None when the list lacks it."""
        k = self._find(key)
        return None if k is None else self.cells[int(self._rows[k])]

    def _find(self, key: str) -> int | None:
        """Position of hash ``key`` among the distinct architectures, or None."""
        k = int(np.searchsorted(self._sorted_hashes, key))
        found = k < self._sorted_hashes.size and self._sorted_hashes[k] == key
        return int(self._position[k]) if found else None


class _SpaceSampler:
    """Cells drawn with ``space.sample``, repeats and seen ones dropped.

    The sampler repeats architectures (small ones often, see
    :meth:`CellSpace.sample <skassess.spaces.CellSpace.sample>`), so what is
    missing is drawn again, up to three rounds: ``n`` cells or a few fewer.
    """

    def __init__(self, space: Any) -> None:
        self.space = space

    def draw(
        self, n: int, rng: np.random.RandomState, seen: Collection[str]
    ) -> tuple[list[Cell], list[str]]:
        found: dict[str, Cell] = {}
        for _ in range(3):
            cells = self.space.sample(n - len(found), random_state=rng)
            for cell, key in zip(cells, self.space.hash_many(cells).tolist(), strict=True):
                if key not in seen:
                    found.setdefault(key, cell)
            if len(found) == n:
                break
        return list(found.values()), list(found)


def mutants(
    space: Any,
    parents: Sequence[Cell],
    n: int,
    rng: np.random.RandomState,
    seen: Collection[str],
    listed: _CellList | None = None,
) -> tuple[list[Cell], list[str]]:
    """Up to ``n`` distinct unseen cells, each one or two mutations away from a parent.

    The parents take turns, the best first; each child gets a second mutation
    with probability one half. With a list of candidates (``listed``), a
    child outside it is dropped and one inside it replaced by the listed cell. Gives up
    after ``10 * n`` tries, or ``20`` per parent in a row that find nothing new
    (the parents' neighbourhoods are spent).
    """
    found: dict[str, Cell] = {}
    patience, misses = 20 * len(parents), 0
    for attempt in range(10 * n if parents else 0):
        if len(found) == n or misses == patience:
            break
        misses += 1
        child = parents[attempt % len(parents)]
        try:
            for _ in range(1 + int(rng.randint(2))):
                child = space.mutate(child, random_state=rng)
            key = str(space.hash(child))
        except InvalidCellError:  # a parent with no valid neighbour (input -> output)
            continue
        if key in seen or key in found:
            continue
        if listed is not None:
            child = listed.get(key)
            if child is None:
                continue
        found[key] = child
        misses = 0
    return list(found.values()), list(found)


def sample_distinct(
    cells: Any, n: int, *, space: Any = None, random_state: Any = None
) -> list[Cell]:
    """Draw ``n`` architectures uniformly from the distinct ones of a list or benchmark.

    Unlike :meth:`CellSpace.sample <skassess.spaces.CellSpace.sample>`, which
    draws random adjacency matrices and so favours small cells and repeats
    some, every distinct architecture (canonical hash) of ``cells`` has the
    same chance here, and none is drawn twice. For a whole space, pass
    ``space.enumerate()`` where the space can enumerate itself, or a
    benchmark, which lists every cell of its space.

    Parameters
    ----------
    cells : Benchmark or sequence of cells
        A :class:`~skassess.datasets.Benchmark` (its ``cells``, ``space`` and
        precomputed ``hashes`` are used), or cells in any spelling of
        :func:`skassess.as_cells`.
    n : int
        Number of cells to draw; at most the number of distinct architectures.
    space : CellSpace, optional
        The space that validates and hashes the cells; required for a plain
        sequence, taken from a benchmark otherwise.
    random_state : int, RandomState instance or None, default=None

    Returns
    -------
    list of Cell
        In random order; for a benchmark, its own cell objects.

    Raises
    ------
    ValueError
        If ``n`` exceeds the number of distinct architectures, or no space is
        given for a plain sequence.

    Examples
    --------
    >>> from skassess.spaces import CellSpace
    >>> from skassess.search import sample_distinct
    >>> space = CellSpace(ops=["conv", "pool"], max_vertices=4)
    >>> cells = sample_distinct(space.enumerate(), 3, space=space, random_state=0)
    >>> len({space.hash(cell) for cell in cells})
    3
    """
    listed = as_cell_list(cells, space)
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or not 0 <= n <= len(listed):
        raise ValueError(
            f"n must be an integer from 0 to {len(listed)}, the number of distinct "
            f"architectures, got {n!r}"
        )
    return listed.draw(int(n), check_random_state(random_state), ())[0]


def as_cell_list(cells: Any, space: Any) -> _CellList:
    """A :class:`_CellList` of a benchmark or of a sequence of cells of ``space``."""
    if hasattr(cells, "cells") and hasattr(cells, "space"):  # a Benchmark
        hashes = getattr(cells, "hashes", None)
        space = cells.space if space is None else space
        cells = cells.cells
    else:
        hashes = None
    if space is None:
        raise ValueError("a space is needed to tell distinct architectures apart: pass space=")
    if hashes is None:
        cells = as_cells(cells, space=space)
        hashes = space.hash_many(cells)
    return _CellList(cells, hashes)
