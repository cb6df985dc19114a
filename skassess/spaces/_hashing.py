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
:func:`module_hashes` computes the same strings for a batch of cells with the
same number of vertices, with numpy doing all bookkeeping: at every round the
vertices' digests are replaced by their rank in the sorted table of distinct
digests (hex order is byte order, so sorting ranks sorts digests), each vertex
becomes a fixed-width row of integers (sorted in-neighbour ranks, sorted
out-neighbour ranks, own rank), identical rows are merged, and MD5 runs once
per distinct row on byte strings gathered from the digest table. Hashing the
423,624 NAS-Bench-101 cells this way takes seconds instead of minutes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from operator import methodcaller

import numpy as np

__all__ = ["module_hash", "module_hashes"]

_HEX_DIGITS = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
_DIGEST = methodcaller("digest")
_BAR = np.frombuffer(b"|", dtype=np.uint8)


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
    >>> module_hash(np.array([[0, 1], [0, 0]]), [-1, -2])
    '...'
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


def _digests(texts: list[bytes]) -> np.ndarray:
    """Raw MD5 digests of byte strings, as an (n, 16) uint8 array."""
    joined = b"".join(map(_DIGEST, map(hashlib.md5, texts)))
    return np.frombuffer(joined, dtype=np.uint8).reshape(-1, 16)


def _hex(raw: np.ndarray) -> np.ndarray:
    """(n, 16) raw digests -> (n, 32) uint8 array of lowercase hex digits."""
    out = np.empty((raw.shape[0], 32), dtype=np.uint8)
    out[:, 0::2] = _HEX_DIGITS[raw >> 4]
    out[:, 1::2] = _HEX_DIGITS[raw & 15]
    return out


def _md5_rows(rows: np.ndarray) -> np.ndarray:
    """Raw MD5 digests (n, 16) of every row of a (n, width) uint8 array of text."""
    if rows.shape[0] == 0:
        return np.empty((0, 16), dtype=np.uint8)
    texts = np.ascontiguousarray(rows).view(f"S{rows.shape[1]}").ravel().tolist()
    return _digests(texts)


def _group(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Group equal entries of a 1-d array: (index of one member per group, group of each entry).

    Groups are numbered in increasing order of their key.
    """
    order = np.argsort(keys)
    sorted_keys = keys[order]
    starts = np.ones(keys.size, dtype=bool)
    starts[1:] = sorted_keys[1:] != sorted_keys[:-1]
    group = np.empty(keys.size, dtype=np.int64)
    group[order] = np.cumsum(starts) - 1
    return order[starts], group


def _rank(raw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct digests, as hex, and each digest's index among them.

    Sorting the first 8 bytes as big-endian integers sorts the hex texts too;
    the rare tie of two different digests on those bytes falls back to an exact
    sort of the texts.
    """
    words = np.ascontiguousarray(raw).view(">u8").astype(np.uint64)
    first, group = _group(words[:, 0])
    if not np.array_equal(words[first[group], 1], words[:, 1]):
        first, group = _group(_hex(raw).view("S32").ravel())
    return _hex(raw[first]), group


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


def _initial_ranks(adjacency: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    out_degree = adjacency.sum(axis=2)
    in_degree = adjacency.sum(axis=1)
    triples = np.stack([out_degree, in_degree, labels], axis=-1).reshape(-1, 3)
    distinct, inverse = np.unique(triples, axis=0, return_inverse=True)
    texts = [str(tuple(int(x) for x in triple)).encode("utf-8") for triple in distinct]
    table, rank_of_distinct = _rank(_digests(texts))
    return table, rank_of_distinct[inverse.ravel()].reshape(labels.shape)


def _texts(table: np.ndarray, rows: np.ndarray, n: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """The MD5 inputs of one round, grouped by width: (row indices, uint8 text) pairs.

    ``rows`` holds, per vertex, the sorted in-neighbour ranks, the sorted
    out-neighbour ranks (both padded with -1 at the end) and the own rank.
    """
    n_in = (rows[:, :n] >= 0).sum(axis=1)
    n_out = (rows[:, n : 2 * n] >= 0).sum(axis=1)
    shape_code = n_in * (n + 1) + n_out
    order = np.argsort(shape_code, kind="stable")
    bounds = np.flatnonzero(np.diff(shape_code[order])) + 1
    batches = []
    for where in np.split(order, bounds):
        d_in, d_out = int(n_in[where[0]]), int(n_out[where[0]])
        text = np.empty((where.size, 32 * (d_in + d_out + 1) + 2), dtype=np.uint8)
        chunk = rows[where]
        cut = 32 * d_in
        text[:, :cut] = table[chunk[:, :d_in]].reshape(where.size, cut)
        text[:, cut] = ord("|")
        text[:, cut + 1 : cut + 1 + 32 * d_out] = table[chunk[:, n : n + d_out]].reshape(
            where.size, 32 * d_out
        )
        text[:, -33] = ord("|")
        text[:, -32:] = table[chunk[:, 2 * n]]
        batches.append((where, text))
    return batches


def _refine(
    table: np.ndarray, ranks: np.ndarray, adjacency: np.ndarray, merge: bool
) -> tuple[np.ndarray, np.ndarray, float]:
    """One round of the refinement on a batch.

    Returns the new digest table, the new ranks and the fraction of distinct
    vertex rows; with ``merge``, identical rows are hashed once.
    """
    n_cells, n = ranks.shape
    incoming = np.where(adjacency.transpose(0, 2, 1), ranks[:, None, :], -1)
    outgoing = np.where(adjacency, ranks[:, None, :], -1)
    rows = np.concatenate(
        [_sorted_present(incoming), _sorted_present(outgoing), ranks[:, :, None]], axis=2
    ).reshape(-1, 2 * n + 1)
    if merge:
        first, group = _distinct_rows(rows)
        rows = rows[first]
    raw = np.empty((rows.shape[0], 16), dtype=np.uint8)
    for where, text in _texts(table, rows, n):
        raw[where] = _md5_rows(text)
    new_table, new_ranks = _rank(raw)
    distinct_fraction = new_table.shape[0] / (n_cells * n)
    if merge:
        new_ranks = new_ranks[group]
    return new_table, new_ranks.reshape(n_cells, n), distinct_fraction


def _sorted_present(neighbour_ranks: np.ndarray) -> np.ndarray:
    """Sort each vertex's neighbour ranks ascending, with the -1 padding moved to the end."""
    big = np.iinfo(neighbour_ranks.dtype).max
    shifted = np.where(neighbour_ranks < 0, big, neighbour_ranks)
    shifted.sort(axis=2)
    shifted[shifted == big] = -1
    return shifted


def _fingerprints(table: np.ndarray, ranks: np.ndarray) -> np.ndarray:
    """Raw MD5 of ``str(sorted(hex digests))`` for every cell of the batch."""
    n_cells, n = ranks.shape
    digests = table[np.sort(ranks, axis=1)]  # (n_cells, n, 32)
    text = np.empty((n_cells, 2 + 32 * n + 4 * (n - 1) + 2), dtype=np.uint8)
    text[:, :2] = np.frombuffer(b"['", dtype=np.uint8)
    for v in range(n):
        start = 2 + 36 * v
        text[:, start : start + 32] = digests[:, v]
        if v < n - 1:
            text[:, start + 32 : start + 36] = np.frombuffer(b"', '", dtype=np.uint8)
    text[:, -2:] = np.frombuffer(b"']", dtype=np.uint8)
    return _md5_rows(text)


def module_hashes(adjacency: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """:func:`module_hash` of a batch of cells with the same number of vertices.

    Parameters
    ----------
    adjacency : ndarray of shape (n_cells, n_vertices, n_vertices)
        Upper-triangular 0/1 adjacency matrices.
    labels : ndarray of shape (n_cells, n_vertices)
        Integer vertex labels.

    Returns
    -------
    ndarray of shape (n_cells,), dtype '<U32'

    Examples
    --------
    >>> import numpy as np
    >>> matrix = np.array([[[0, 1, 1], [0, 0, 1], [0, 0, 0]]])
    >>> labels = np.array([[-1, 0, -2]])
    >>> bool(module_hashes(matrix, labels)[0] == module_hash(matrix[0], labels[0]))
    True
    """
    adjacency = np.asarray(adjacency, dtype=bool)
    labels = np.asarray(labels, dtype=np.int64)
    n_cells, n = labels.shape
    if n_cells == 0:
        return np.empty(0, dtype="<U32")
    table, ranks = _initial_ranks(adjacency, labels)
    distinct_fraction = 0.0
    for _ in range(n):
        # merging identical rows saves MD5 calls only while many vertices still
        # look alike, i.e. in the first rounds
        merge = distinct_fraction < 0.75
        table, ranks, distinct_fraction = _refine(table, ranks, adjacency, merge)
    return _hex(_fingerprints(table, ranks)).view("S32").ravel().astype("<U32")
