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
per distinct row on byte strings gathered from the digest table, in batches
of cells that share their vertices' degrees. MD5 itself is then about half of
the work: all 423,624 NAS-Bench-101 cells take about 25 s of CPU time, three
times less than :func:`module_hash` cell by cell (``benchmarks/bench_hashing.py``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from operator import methodcaller

import numpy as np

__all__ = ["module_hash", "module_hashes"]

# Two lowercase hex digits per byte value, as one little-endian uint16 each.
_HEX_PAIRS = np.array(
    [int.from_bytes(f"{value:02x}".encode("ascii"), "little") for value in range(256)],
    dtype="<u2",
)
# Cells per batch of module_hashes: bounds the memory held by MD5 inputs.
_BATCH = 20_000
_DIGEST = methodcaller("digest")


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


def _digests(texts: list[bytes]) -> np.ndarray:
    """Raw MD5 digests of byte strings, as an (n, 16) uint8 array."""
    joined = b"".join(map(_DIGEST, map(hashlib.md5, texts)))
    return np.frombuffer(joined, dtype=np.uint8).reshape(-1, 16)


def _hex(raw: np.ndarray) -> np.ndarray:
    """(n, 16) raw digests -> (n, 32) uint8 array of lowercase hex digits."""
    return _HEX_PAIRS[raw].view(np.uint8).reshape(raw.shape[0], 32)


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
    return _hex(np.take(raw, first, axis=0)), group


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
    """Digest table and flat vertex ranks of round 0, from ``(out, in, label)``."""
    n = labels.shape[1]
    out_degree = adjacency.sum(axis=2).astype(np.int64).ravel()
    in_degree = adjacency.sum(axis=1).astype(np.int64).ravel()
    label = labels.ravel()
    offset = int(label.min())
    code = (out_degree * (n + 1) + in_degree) * (int(label.max()) - offset + 1) + label - offset
    first, group = _group(code)
    texts = [
        str((int(out_degree[i]), int(in_degree[i]), int(label[i]))).encode("utf-8")
        for i in first.tolist()
    ]
    table, rank_of_distinct = _rank(_digests(texts))
    return table, rank_of_distinct[group]


class _Shape:
    """The vertices of a batch that have the same in- and out-degree.

    Degrees never change between rounds, so every round builds MD5 inputs of
    the same width for them: ``32 * (in + out + 1) + 2`` bytes.
    """

    def __init__(self, vertices: np.ndarray, inputs: np.ndarray, outputs: np.ndarray) -> None:
        self.vertices = vertices  # (count,) flat vertex ids
        self.inputs = inputs  # (count, in_degree) flat ids of in-neighbours
        self.outputs = outputs  # (count, out_degree) flat ids of out-neighbours

    def rows(self, ranks: np.ndarray) -> np.ndarray:
        """Per vertex: sorted in-neighbour ranks, sorted out-neighbour ranks, own rank."""
        incoming = np.sort(ranks[self.inputs], axis=1)
        outgoing = np.sort(ranks[self.outputs], axis=1)
        return np.concatenate([incoming, outgoing, ranks[self.vertices, None]], axis=1)

    def texts(self, table: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """The MD5 inputs of ``rows`` as a (count, width) uint8 array."""
        count = rows.shape[0]
        d_in, d_out = self.inputs.shape[1], self.outputs.shape[1]
        text = np.empty((count, 32 * (d_in + d_out + 1) + 2), dtype=np.uint8)
        cut = 32 * d_in
        # np.take gathers whole 32-byte rows, several times faster than table[...]
        text[:, :cut] = np.take(table, rows[:, :d_in], axis=0).reshape(count, cut)
        text[:, cut] = ord("|")
        text[:, cut + 1 : -33] = np.take(table, rows[:, d_in:-1], axis=0).reshape(count, -1)
        text[:, -33] = ord("|")
        text[:, -32:] = np.take(table, rows[:, -1], axis=0)
        return text


def _shapes(adjacency: np.ndarray) -> list[_Shape]:
    n_cells, n, _ = adjacency.shape
    incoming = adjacency.transpose(0, 2, 1).reshape(-1, n)  # [c*n + v, w] = edge w -> v
    outgoing = adjacency.reshape(-1, n)
    cell_base = np.repeat(np.arange(n_cells) * n, n)
    d_in, d_out = incoming.sum(axis=1), outgoing.sum(axis=1)
    code = d_in * (n + 1) + d_out
    first, group = _group(code)
    shapes = []
    for k in range(first.size):
        vertices = np.flatnonzero(group == k)
        ids = []
        for mask, degree in ((incoming, d_in), (outgoing, d_out)):
            width = int(degree[vertices[0]])
            _, neighbour = np.nonzero(mask[vertices])
            ids.append(neighbour.reshape(vertices.size, width) + cell_base[vertices, None])
        shapes.append(_Shape(vertices, *ids))
    return shapes


def _refine(
    table: np.ndarray, ranks: np.ndarray, shapes: list[_Shape], merge: bool
) -> tuple[np.ndarray, np.ndarray, float]:
    """One round of the refinement over all vertices of a batch.

    Returns the new digest table, the new flat ranks and the fraction of
    vertices with distinct digests; with ``merge``, identical MD5 inputs are
    hashed once (worth it in the first rounds, while many vertices look alike).
    """
    raw = np.empty((ranks.size, 16), dtype=np.uint8)
    for shape in shapes:
        rows = shape.rows(ranks)
        if merge:
            first, group = _distinct_rows(rows)
            raw[shape.vertices] = _md5_rows(shape.texts(table, rows[first]))[group]
        else:
            raw[shape.vertices] = _md5_rows(shape.texts(table, rows))
    new_table, new_ranks = _rank(raw)
    return new_table, new_ranks, new_table.shape[0] / ranks.size


def _fingerprints(table: np.ndarray, ranks: np.ndarray) -> np.ndarray:
    """Raw MD5 of ``str(sorted(hex digests))`` for every cell of the batch."""
    n_cells, n = ranks.shape
    digests = np.take(table, np.sort(ranks, axis=1), axis=0)  # (n_cells, n, 32)
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
    if n_cells > _BATCH:
        return np.concatenate(
            [
                module_hashes(adjacency[start : start + _BATCH], labels[start : start + _BATCH])
                for start in range(0, n_cells, _BATCH)
            ]
        )
    if n_cells == 0:
        return np.empty(0, dtype="<U32")
    table, ranks = _initial_ranks(adjacency, labels)
    shapes = _shapes(adjacency)
    distinct_fraction = 0.0
    for _ in range(n):
        merge = distinct_fraction < 0.75
        table, ranks, distinct_fraction = _refine(table, ranks, shapes, merge)
    ranks = ranks.reshape(n_cells, n)
    return _hex(_fingerprints(table, ranks)).view("S32").ravel().astype("<U32")
