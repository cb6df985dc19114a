"""Bounded caches owned by a space: what it has already decided about a cell."""

from __future__ import annotations

from typing import Any

__all__ = ["RecentResults", "SpaceMemory"]


class RecentResults:
    """Results about objects, keyed by the object itself (its identity), at most ``max_size``.

    Identity keys cost nothing to compute and never confuse two cells; the
    entry holds the object, so its identity stays valid while cached. When
    full, the cache starts over: the cells asked about again come back first.

    Examples
    --------
    >>> cache = RecentResults(max_size=2)
    >>> key = object()
    >>> cache.put(key, "verdict")
    >>> cache.get(key), cache.get(object())
    ('verdict', None)
    """

    def __init__(self, max_size: int) -> None:
        self.max_size = max_size
        self._entries: dict[int, tuple[Any, Any]] = {}

    def get(self, key: Any, default: Any = None) -> Any:
        """The result stored for ``key``, or ``default``."""
        entry = self._entries.get(id(key))
        return entry[1] if entry is not None and entry[0] is key else default

    def put(self, key: Any, value: Any) -> None:
        """Store ``value`` for ``key``, forgetting everything first if full."""
        if len(self._entries) >= self.max_size:
            self._entries.clear()
        self._entries[id(key)] = (key, value)

    def __len__(self) -> int:
        return len(self._entries)


class SpaceMemory:
    """The caches of one space, valid for one value of its parameters.

    ``accepted`` holds the cells the space has validated (value ``True``),
    ``hashes`` their hashes. Both hold up to 2^19 cells, the whole of
    NAS-Bench-101 (about 110 bytes per cell and cache).
    """

    MAX_SIZE = 1 << 19

    def __init__(self, key: Any) -> None:
        self.key = key
        self.accepted = RecentResults(self.MAX_SIZE)
        self.hashes = RecentResults(self.MAX_SIZE)
