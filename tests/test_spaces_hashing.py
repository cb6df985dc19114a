"""The vectorised MD5 and NAS-Bench-101 hash against their plain counterparts."""

import hashlib

import numpy as np
import pytest

from skassess.spaces import _hashing
from skassess.spaces._hashing import _by_digest, module_hash, module_hashes
from skassess.spaces._md5 import md5_rows, md5_words


@pytest.mark.parametrize("length", [0, 1, 3, 4, 55, 56, 57, 63, 64, 65, 98, 119, 120, 130, 200])
def test_md5_rows_equals_hashlib_around_block_boundaries(length):
    rows = np.random.default_rng(length).integers(0, 256, size=(7, length), dtype=np.uint8)
    digests = md5_rows(rows)
    assert digests.shape == (7, 16)
    for row, digest in zip(rows, digests, strict=True):
        assert digest.tobytes() == hashlib.md5(row.tobytes()).digest()


def test_md5_words_ignores_bytes_past_the_text():
    words = np.frombuffer(b"abcdeXYZ" + b"abcdeQRS", dtype="<u4").reshape(2, 2, order="F")
    digests = md5_words(words, 5)
    assert digests[0].tobytes() == digests[1].tobytes() == hashlib.md5(b"abcde").digest()


def test_md5_words_checks_the_number_of_words():
    with pytest.raises(ValueError, match="a text of 9 bytes has 3 words, got 2"):
        md5_words(np.zeros((2, 1), dtype=np.uint32), 9)


def test_md5_rows_spans_several_chunks(monkeypatch):
    monkeypatch.setattr("skassess.spaces._md5._CHUNK", 5)
    rows = np.random.default_rng(0).integers(0, 256, size=(12, 70), dtype=np.uint8)
    assert [d.tobytes() for d in md5_rows(rows)] == [
        hashlib.md5(r.tobytes()).digest() for r in rows
    ]


def _random_dags(n_cells, n, rng):
    """Upper-triangular DAGs of 1..n vertices (padded to n), labels in -2..2, unpruned."""
    sizes = rng.integers(1, n + 1, size=n_cells)
    adjacency = np.triu(rng.random((n_cells, n, n)) < 0.4, 1)
    present = np.arange(n)[None, :] < sizes[:, None]
    adjacency &= present[:, :, None] & present[:, None, :]
    labels = rng.integers(-2, 3, size=(n_cells, n))
    return adjacency, labels, sizes


def test_module_hashes_of_mixed_sizes_equal_module_hash_cell_by_cell():
    adjacency, labels, sizes = _random_dags(300, 8, np.random.default_rng(0))
    hashes = module_hashes(adjacency, labels, sizes)
    expected = [
        module_hash(matrix[:size, :size], label[:size])
        for matrix, label, size in zip(adjacency, labels, sizes, strict=True)
    ]
    assert hashes.tolist() == expected


def test_module_hashes_ignores_what_lies_outside_each_cell():
    adjacency, labels, sizes = _random_dags(50, 6, np.random.default_rng(1))
    noisy = adjacency.copy()
    noisy[:, :, -1] |= sizes[:, None] < 6  # edges into a padding vertex
    noisy_labels = np.where(np.arange(6) < sizes[:, None], labels, 99)
    clean = module_hashes(adjacency, labels, sizes)
    assert (module_hashes(noisy, noisy_labels, sizes) == clean).all()


def test_module_hashes_is_the_same_in_batches(monkeypatch):
    adjacency, labels, sizes = _random_dags(40, 5, np.random.default_rng(2))
    whole = module_hashes(adjacency, labels, sizes)
    monkeypatch.setattr(_hashing, "_BATCH", 7)
    monkeypatch.setattr(_hashing, "_TEXTS", 3)
    assert (module_hashes(adjacency, labels, sizes) == whole).all()


def test_module_hashes_rejects_bad_sizes():
    adjacency, labels, _ = _random_dags(3, 4, np.random.default_rng(3))
    with pytest.raises(ValueError, match="n_vertices must hold 3 sizes between 1 and 4"):
        module_hashes(adjacency, labels, np.array([2, 5, 3]))


def test_neighbours_tied_on_the_first_half_of_their_digest_are_ordered_by_the_second():
    high = np.array([7, 7, 7, 3], dtype=np.uint64)
    low = np.array([9, 2, 5, 0], dtype=np.uint64)
    ids = np.array([[0, 1], [2, 0], [0, 3], [1, 2], [0, 1]])
    ordered = _by_digest(ids, (high, low))
    assert ordered.tolist() == [[1, 0], [2, 0], [3, 0], [1, 2], [1, 0]]
    three = _by_digest(np.array([[0, 3, 2, 1]]), (high, low))
    assert three.tolist() == [[3, 1, 2, 0]]
