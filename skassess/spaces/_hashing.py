"""The NAS-Bench-101 graph hash, for one cell and vectorised over many.

NAS-Bench-101 (Ying et al., 2019) names every cell by an MD5 fingerprint that
is invariant to the order of its vertices, computed by ``hash_module`` in the
official ``nasbench/lib/graph_util.py``. It is a Weisfeiler-Lehman style
refinement:

1. every vertex starts from the MD5 of the text ``str((out_degree, in_degree,
   label))``, e.g. ``"(2, 0, -1)"``;
2. ``n_vertices`` times, every vertex takes the MD5 of the concatenation of its
   in-neighbours' hex digests (sorted), ``"|"``, its out-neighbours' hex digests
   (sorted), ``"|"`` and its own hex digest;
3. the fingerprint is the MD5 of ``str(sorted(final hex digests))``, the Python
   text of a list of strings, e.g. ``"['0a...', '1b...']"``.

Labels are integers: ``-1`` for the input, ``-2`` for the output and, in
NAS-Bench-101, the index of the operation in the canonical list
``['conv3x3-bn-relu', 'conv1x1-bn-relu', 'maxpool3x3']``.

:func:`module_hash` is the plain reading of these rules for one cell.
:func:`module_hashes` computes the same strings for a batch of cells of any
sizes at once:

- all vertices of all cells take part in every round, a cell of ``n`` vertices
  in rounds ``1..n`` only (a round's digests depend on the round, never on the
  cell's size, so small and large cells share their work);
- a vertex's text depends only on the digests of its neighbours and its own,
  so vertices are grouped by (in-degree, out-degree), whose texts all have the
  same length, and a group's texts are gathered from a table of hex digests
  with numpy and hashed by the vectorised MD5 of :mod:`skassess.spaces._md5`;
- while digests repeat (the first rounds: 40 distinct start values among the
  2.9 million vertices of NAS-Bench-101, 66,625 distinct ones after round 1),
  every vertex is reduced to a tuple of small integers (the ids of its
  in-neighbours' digests, of its out-neighbours' and its own) and each distinct
  tuple is hashed once; from round 3 on nearly every vertex of the space is
  distinct and the vertices are hashed directly, which costs less than
  finding the few repeats;
- neighbours are sorted by the first 8 bytes of their digests, which orders
  the hex texts as well, with an exact fallback for the rare rows where two
  different digests share them.

All 423,624 NAS-Bench-101 cells take about 16 million MD5s, whatever the
method; see ``benchmarks/bench_hashing.py`` for the measured time.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np

from skassess.spaces._md5 import md5_rows, md5_words

__all__ = ["module_hash", "module_hashes"]

# Cells per batch of module_hashes: bounds memory (about 100 bytes per vertex).
_BATCH = 1 << 17
# Vertices per MD5 call: bounds the memory of the texts being hashed.
_TEXTS = 1 << 16
# Tuples are deduplicated while the previous round's digests number less than
# this fraction of the vertices; past it, finding repeats costs more than it saves.
_DEDUPLICATE_BELOW = 0.5


def _hex_quads() -> np.ndarray:
    """Lowercase hex text of every pair of bytes (a little-endian uint16), as 4 ASCII bytes."""
    digits = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
    low, high = np.arange(65536) & 0xFF, np.arange(65536) >> 8
    chars = np.stack([digits[low >> 4], digits[low & 15], digits[high >> 4], digits[high & 15]])
    quads = np.ascontiguousarray(chars.T).view("<u4").ravel()
    quads.flags.writeable = False
    return quads


_HEX_QUADS = _hex_quads()


def _md5_hex(text: str) -> str:
    return hashlib.md5(text.encode("utf-8")).hexdigest()


def module_hash(matrix: np.ndarray, labels: Sequence[int]) -> str:
    """The NAS-Bench-101 graph hash of one (pruned) cell.

    Parameters
    ----------
    matrix : ndarray of shape (n_vertices, n_vertices)
        Upper-triangular 0/1 adjacency matrix.
    labels : sequence of int
        One integer label per vertex (``-1`` input, ``-2`` output).

    Returns
    -------
    str
        32 hexadecimal digits.

    Examples
    --------
    >>> import numpy as np
    >>> module_hash(np.array([[0, 1], [0, 0]]), [-1, -2])  # NAS-Bench-101's smallest cell
    '043721b9c7fe8c5fad811d47d83132ec'
    """
    n = len(labels)
    adjacency = np.asarray(matrix, dtype=bool)
    predecessors = [np.flatnonzero(adjacency[:, v]).tolist() for v in range(n)]
    successors = [np.flatnonzero(adjacency[v]).tolist() for v in range(n)]
    hashes = [
        _md5_hex(str((len(successors[v]), len(predecessors[v]), int(labels[v])))) for v in range(n)
    ]
    for _ in range(n):
        hashes = [
            _md5_hex(
                "".join(sorted(hashes[w] for w in predecessors[v]))
                + "|"
                + "".join(sorted(hashes[w] for w in successors[v]))
                + "|"
                + hashes[v]
            )
            for v in range(n)
        ]
    return _md5_hex(str(sorted(hashes)))


def _hex(raw: np.ndarray) -> np.ndarray:
    """(n, 16) raw digests -> (n, 32) uint8 array of lowercase hex digits."""
    pairs = np.ascontiguousarray(raw).view("<u2")
    return np.take(_HEX_QUADS, pairs).view(np.uint8).reshape(raw.shape[0], 32)


def _sort_keys(raw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A digest's bytes 0-7 and 8-15 as big-endian integers: they order its hex text."""
    halves = np.ascontiguousarray(raw).view(">u8")
    return halves[:, 0].astype(np.uint64), halves[:, 1].astype(np.uint64)


def _group(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Group equal entries of a 1-d array: (index of one member per group, group of each entry)."""
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    starts = np.ones(keys.size, dtype=bool)
    starts[1:] = sorted_keys[1:] != sorted_keys[:-1]
    group = np.empty(keys.size, dtype=np.int64)
    group[order] = np.cumsum(starts) - 1
    return order[starts], group


def _distinct_rows(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index of one member of each group of equal rows, and each row's group.

    Rows are grouped by a 64-bit mix of their entries (one fast integer sort
    instead of a sort of records); the grouping is then checked exactly, and a
    collision, should one ever occur, falls back to ``np.unique(axis=0)``.
    """
    key = np.zeros(rows.shape[0], dtype=np.uint64)
    with np.errstate(over="ignore"):
        for column in rows.T.astype(np.uint64):
            key = (key ^ column) * np.uint64(0x9E3779B97F4A7C15)
            key ^= key >> np.uint64(29)
    first, group = _group(key)
    if not np.array_equal(rows[first[group]], rows):
        _, first, group = np.unique(rows, axis=0, return_index=True, return_inverse=True)
        group = group.ravel()
    return first, group


def _by_digest(ids: np.ndarray, keys: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """Each row of vertex ids sorted by the vertices' digests (see :func:`_sort_keys`)."""
    width = ids.shape[1]
    if width < 2:
        return ids
    high, low = keys
    first = high[ids]
    if width == 2:  # one compare-exchange beats a sort of many tiny rows
        swap = first[:, 0] > first[:, 1]
        ids = np.where(swap[:, None], ids[:, ::-1], ids)
        first = np.where(swap[:, None], first[:, ::-1], first)
    else:
        order = np.argsort(first, axis=1, kind="stable")
        ids = np.take_along_axis(ids, order, axis=1)
        first = np.take_along_axis(first, order, axis=1)
    tied = (first[:, 1:] == first[:, :-1]).any(axis=1)
    if tied.any():  # equal first halves: the same digest, or (rarely) a tie to break
        rows = np.flatnonzero(tied)
        second = low[ids[rows]]
        clash = (second[:, 1:] < second[:, :-1]) & (first[rows, 1:] == first[rows, :-1])
        for row in rows[clash.any(axis=1)].tolist():
            ids[row] = ids[row, np.lexsort((low[ids[row]], high[ids[row]]))]
    return ids


class _DegreeGroup:
    """The vertices of a batch with the same in- and out-degree.

    Their texts all have ``32 * (in + out + 1) + 2`` bytes. The group's
    vertices are numbered consecutively from ``start``, by decreasing number of
    rounds (their cell's size), so the ones still refined in a round come
    first; within that, by cell, so that neighbours lie close in memory.
    """

    def __init__(self, start: int, inputs: np.ndarray, outputs: np.ndarray, rounds: np.ndarray):
        self.start = start
        self.inputs = inputs  # (count, in_degree) ids of in-neighbours
        self.outputs = outputs  # (count, out_degree) ids of out-neighbours
        self.rounds = rounds  # (count,) rounds of each vertex, decreasing

    def active(self, round_: int) -> int:
        """How many of the vertices take part in round ``round_`` (1-based)."""
        return int(np.count_nonzero(self.rounds >= round_))

    def tuples(self, colours: np.ndarray, count: int) -> np.ndarray:
        """Per active vertex: its in-neighbours' colours, out-neighbours', own (sorted by id)."""
        incoming = np.sort(colours[self.inputs[:count]], axis=1)
        outgoing = np.sort(colours[self.outputs[:count]], axis=1)
        own = colours[self.start : self.start + count]
        return np.column_stack([incoming, outgoing, own])

    def digests(
        self, words: np.ndarray, keys: tuple[np.ndarray, np.ndarray], which: np.ndarray
    ) -> np.ndarray:
        """Raw MD5 (len(which), 16) of the texts of the group's vertices ``which`` (positions).

        ``words`` holds every vertex's hex digest as 8 little-endian words
        (see :func:`_hex_words`).
        """
        d_in, d_out = self.inputs.shape[1], self.outputs.shape[1]
        length = 32 * (d_in + d_out + 1) + 2
        raw = np.empty((which.size, 16), dtype=np.uint8)
        for start in range(0, which.size, _TEXTS):
            rows = which[start : start + _TEXTS]
            text = _text_words(
                words,
                _by_digest(self.inputs[rows], keys),
                _by_digest(self.outputs[rows], keys),
                rows + self.start,
            )
            raw[start : start + rows.size] = md5_words(text, length)
        return raw


_BAR = ord("|")


def _text_words(
    words: np.ndarray, incoming: np.ndarray, outgoing: np.ndarray, own: np.ndarray
) -> np.ndarray:
    """The texts ``in digests | out digests | own digest`` as little-endian words, word-major.

    In-digests start the text, aligned on words, and are gathered as they are.
    After the first ``"|"`` the out-digests sit one byte later, and after the
    second ``"|"`` the own digest two bytes later, so each of those words is
    spliced from two neighbouring words of the digests with shifts.
    """
    count, d_in, d_out = own.size, incoming.shape[1], outgoing.shape[1]
    text = np.empty((8 * (d_in + d_out + 1) + 1, count), dtype=np.uint32)
    # np.take gathers whole rows of 8 words, much faster than 8 gathers of one word
    text[: 8 * d_in] = np.take(words, incoming, axis=0).reshape(count, -1).T
    # the words after the in-digests: "|" then out-digests, then the own digest
    tail = np.empty((8 * (d_out + 1) + 1, count), dtype=np.uint32)
    tail[0] = _BAR << 24
    tail[1:] = np.take(words, np.column_stack([outgoing, own]), axis=0).reshape(count, -1).T
    start, mine = 8 * d_in, 1 + 8 * d_out  # where the spliced words begin; the own digest
    spliced = text[start : start + 8 * d_out]  # each out byte one later: after "|"
    np.left_shift(tail[1:mine], 8, out=spliced)
    spliced |= tail[: mine - 1] >> 24
    # the last out byte (or the first "|"), the second "|", the own digest's first two bytes
    junction = text[start + 8 * d_out]
    np.left_shift(tail[mine], 16, out=junction)
    junction |= (tail[mine - 1] >> 24) | np.uint32(_BAR << 8)
    spliced = text[start + 8 * d_out + 1 : -1]  # each own byte two later
    np.left_shift(tail[mine + 1 :], 16, out=spliced)
    spliced |= tail[mine:-1] >> 16
    np.right_shift(tail[-1], 16, out=text[-1])
    return text


def _hex_words(raw: np.ndarray) -> np.ndarray:
    """(n, 16) raw digests -> (n, 8) uint32: their hex texts as little-endian words."""
    return _hex(raw).view("<u4")


def _neighbour_lists(adjacency: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Flat ids of every vertex's neighbours along ``adjacency[c, v, w]``, and where each starts."""
    n = adjacency.shape[1]
    cell, _, neighbour = np.nonzero(adjacency)  # sorted by (cell, vertex)
    degree = np.count_nonzero(adjacency, axis=2).ravel()
    return cell * n + neighbour, np.cumsum(degree) - degree


def _degree_groups(
    adjacency: np.ndarray, sizes: np.ndarray, d_in: np.ndarray, d_out: np.ndarray
) -> tuple[list[_DegreeGroup], np.ndarray]:
    """The degree groups of a batch, and the id of every flat vertex (-1 for padding)."""
    n_cells, n, _ = adjacency.shape
    rounds = np.repeat(sizes, n)
    present = np.flatnonzero(np.tile(np.arange(n), n_cells) < rounds)
    code = d_in * (n + 1) + d_out
    # by group, then by decreasing rounds, then by position (cell, vertex)
    key = (code[present] * (n + 1) + n - rounds[present]) * (n_cells * n) + present
    order = present[np.argsort(key)]
    ids = np.full(n_cells * n, -1, dtype=np.int64)
    ids[order] = np.arange(order.size)
    lists = (_neighbour_lists(adjacency.transpose(0, 2, 1)), _neighbour_lists(adjacency))
    starts = np.flatnonzero(np.r_[True, np.diff(code[order]) != 0])
    groups = []
    for start, stop in zip(starts.tolist(), [*starts[1:].tolist(), order.size], strict=True):
        vertices = order[start:stop]
        neighbours = []
        for (flat, offsets), degree in zip(lists, (d_in, d_out), strict=True):
            at = offsets[vertices, None] + np.arange(degree[vertices[0]])
            neighbours.append(ids[flat[at]])
        groups.append(_DegreeGroup(start, *neighbours, rounds[vertices]))
    return groups, ids


def _initial_digests(
    labels: np.ndarray, ids: np.ndarray, d_in: np.ndarray, d_out: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Round 0: raw digests of ``str((out, in, label))`` per vertex id, and their colours."""
    n = labels.shape[1]
    present = np.flatnonzero(ids >= 0)
    out_degree, in_degree, label = d_out[present], d_in[present], labels.ravel()[present]
    offset = int(label.min())
    code = (out_degree * (n + 1) + in_degree) * (int(label.max()) - offset + 1) + label - offset
    first, group = _group(code)
    texts = [
        str((int(out_degree[i]), int(in_degree[i]), int(label[i]))).encode("utf-8")
        for i in first.tolist()
    ]
    distinct = np.frombuffer(
        b"".join(hashlib.md5(text).digest() for text in texts), dtype=np.uint8
    ).reshape(-1, 16)
    raw = np.empty((present.size, 16), dtype=np.uint8)
    colours = np.empty(present.size, dtype=np.int64)
    raw[ids[present]] = distinct[group]
    colours[ids[present]] = group
    return raw, colours


def _refine(
    raw: np.ndarray, colours: np.ndarray | None, groups: list[_DegreeGroup], round_: int
) -> tuple[np.ndarray, np.ndarray | None]:
    """One round: the new raw digests, and the new colours if tuples were deduplicated.

    ``colours`` numbers the distinct digests of the previous round (None when
    not known); with them, equal tuples are hashed once.
    """
    words, keys = _hex_words(raw), _sort_keys(raw)
    new_raw = raw.copy()  # the vertices of finished cells keep their digests
    counts = [group.active(round_) for group in groups]
    deduplicate = colours is not None and (
        colours.max() + 1 < _DEDUPLICATE_BELOW * max(sum(counts), 1)
    )
    new_colours = np.full_like(colours, -1) if deduplicate else None
    offset = 0
    for group, count in zip(groups, counts, strict=True):
        if count == 0:
            continue
        active = slice(group.start, group.start + count)
        if deduplicate:
            first, repeat = _distinct_rows(group.tuples(colours, count))
            new_raw[active] = group.digests(words, keys, first)[repeat]
            new_colours[active] = repeat + offset
            offset += first.size
        else:
            new_raw[active] = group.digests(words, keys, np.arange(count))
    return new_raw, new_colours


def _fingerprints(raw: np.ndarray, ids: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Raw MD5 of ``str(sorted(hex digests))`` for every cell."""
    hexes, keys = _hex(raw), _sort_keys(raw)
    n = ids.size // sizes.size
    fingerprints = np.empty((sizes.size, 16), dtype=np.uint8)
    for size in np.unique(sizes).tolist():
        cells = np.flatnonzero(sizes == size)
        vertices = _by_digest(ids[cells[:, None] * n + np.arange(size)], keys)
        length = 2 + 32 * size + 4 * (size - 1) + 2
        text = np.empty((cells.size, length), dtype=np.uint8)
        text[:, :2] = np.frombuffer(b"['", dtype=np.uint8)
        for v in range(size):
            start = 2 + 36 * v
            text[:, start : start + 32] = np.take(hexes, vertices[:, v], axis=0)
            if v < size - 1:
                text[:, start + 32 : start + 36] = np.frombuffer(b"', '", dtype=np.uint8)
        text[:, -2:] = np.frombuffer(b"']", dtype=np.uint8)
        fingerprints[cells] = md5_rows(text)
    return fingerprints


def module_hashes(
    adjacency: np.ndarray, labels: np.ndarray, n_vertices: np.ndarray | None = None
) -> np.ndarray:
    """:func:`module_hash` of a batch of cells, of one size or padded to one.

    Parameters
    ----------
    adjacency : ndarray of shape (n_cells, n, n)
        Upper-triangular 0/1 adjacency matrices; a cell of ``v < n`` vertices
        fills rows and columns ``0..v-1`` (anything outside is ignored).
    labels : ndarray of shape (n_cells, n)
        Integer vertex labels (those of padding vertices are ignored).
    n_vertices : ndarray of shape (n_cells,), default=None
        Each cell's number of vertices, between 1 and ``n``; None when every
        cell has ``n``.

    Returns
    -------
    ndarray of shape (n_cells,), dtype '<U32'

    Examples
    --------
    >>> import numpy as np
    >>> matrix = np.array([[[0, 1, 1], [0, 0, 1], [0, 0, 0]], [[0, 1, 0], [0, 0, 0], [0, 0, 0]]])
    >>> labels = np.array([[-1, 0, -2], [-1, -2, 0]])
    >>> hashes = module_hashes(matrix, labels, n_vertices=np.array([3, 2]))
    >>> bool(hashes[0] == module_hash(matrix[0], labels[0]))
    True
    >>> bool(hashes[1] == module_hash(matrix[1, :2, :2], labels[1, :2]))
    True
    """
    adjacency = np.asarray(adjacency, dtype=bool)
    labels = np.asarray(labels, dtype=np.int64)
    n_cells, n = labels.shape
    sizes = np.full(n_cells, n) if n_vertices is None else np.asarray(n_vertices, dtype=np.int64)
    if sizes.shape != (n_cells,) or (n_cells and (sizes.min() < 1 or sizes.max() > n)):
        raise ValueError(f"n_vertices must hold {n_cells} sizes between 1 and {n}")
    if n_cells > _BATCH:
        return np.concatenate(
            [
                module_hashes(*(a[start : start + _BATCH] for a in (adjacency, labels, sizes)))
                for start in range(0, n_cells, _BATCH)
            ]
        )
    if n_cells == 0:
        return np.empty(0, dtype="<U32")
    present = np.arange(n)[None, :] < sizes[:, None]
    adjacency = adjacency & present[:, :, None] & present[:, None, :]
    d_in = np.count_nonzero(adjacency, axis=1).ravel()
    d_out = np.count_nonzero(adjacency, axis=2).ravel()
    groups, ids = _degree_groups(adjacency, sizes, d_in, d_out)
    raw, colours = _initial_digests(labels, ids, d_in, d_out)
    for round_ in range(1, int(sizes.max()) + 1):
        raw, colours = _refine(raw, colours, groups, round_)
    return _hex(_fingerprints(raw, ids, sizes)).view("S32").ravel().astype("<U32")
