"""MD5 of many equal-length byte strings at once, vectorised with numpy.

The NAS-Bench-101 module hash (:mod:`skassess.spaces._hashing`) runs MD5 on
millions of short texts. :mod:`hashlib` costs about a microsecond per text in
Python overhead and ``bytes`` objects alone; here every one of the 64 steps of
MD5 (RFC 1321) is a handful of numpy operations on one ``uint32`` lane per
text, so a batch of texts is hashed in the time of a few thousand numpy calls,
about 0.4 us per text of up to 119 bytes on one core.

The algorithm, for texts of ``L`` bytes: append the byte ``0x80``, zeros up to
56 bytes modulo 64, and ``8 * L`` as a little-endian 64-bit integer; read every
64-byte block as 16 little-endian words; starting from the state ``A, B, C, D =
0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476``, mix each block in 64 steps

    ``F = f_i(B, C, D) + A + K[i] + M[g_i]``;
    ``A, B, C, D = D, B + (F <<< s_i), B, C``

and add the result to the state. The digest is the final state's 16 bytes.
Padding words are the same for every text of a batch, so steps that read them
fold them into the constant instead of reading a column of zeros.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["md5_rows", "md5_words"]

_SHIFTS = (7, 12, 17, 22) * 4 + (5, 9, 14, 20) * 4 + (4, 11, 16, 23) * 4 + (6, 10, 15, 21) * 4
_CONSTANTS = tuple(int(abs(math.sin(i + 1)) * 2**32) & 0xFFFFFFFF for i in range(64))
_WORD_OF_STEP = tuple(
    [i for i in range(16)]
    + [(5 * i + 1) % 16 for i in range(16, 32)]
    + [(3 * i + 5) % 16 for i in range(32, 48)]
    + [(7 * i) % 16 for i in range(48, 64)]
)
_INITIAL_STATE = (0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476)
# Texts per batch of numpy operations: the working set stays in the CPU cache.
_CHUNK = 1 << 16


def _compress(state: list[np.ndarray], block: list, scratch: np.ndarray) -> None:
    """Mix one 64-byte block into ``state`` (four (n,) uint32 arrays), in place.

    ``block`` holds the block's 16 words: (n,) arrays, or ints for words that
    are the same in every text (padding), folded into the step's constant.
    """
    a, b, c, d = (word.copy() for word in state)
    f = scratch[0]
    rotated = scratch[1]
    for step in range(64):
        if step < 16:  # F = (B and C) or (not B and D)
            np.bitwise_xor(c, d, out=f)
            f &= b
            f ^= d
        elif step < 32:  # G = (D and B) or (not D and C)
            np.bitwise_xor(b, c, out=f)
            f &= d
            f ^= c
        elif step < 48:  # H = B xor C xor D
            np.bitwise_xor(b, c, out=f)
            f ^= d
        else:  # I = C xor (B or not D)
            np.invert(d, out=f)
            f |= b
            f ^= c
        word = block[_WORD_OF_STEP[step]]
        constant = _CONSTANTS[step]
        if isinstance(word, int):
            constant = (constant + word) & 0xFFFFFFFF
        else:
            f += word
        f += a
        f += np.uint32(constant)
        shift = _SHIFTS[step]
        np.left_shift(f, shift, out=rotated)
        f >>= 32 - shift
        f |= rotated
        f += b
        # A, B, C, D = D, F, B, C; A's old buffer becomes the next F.
        a, b, c, d, f = d, f, b, c, a
    for word, mixed in zip(state, (a, b, c, d), strict=True):
        word += mixed


def md5_words(words: np.ndarray, length: int) -> np.ndarray:
    """Raw MD5 digests of texts given as little-endian 32-bit words, word-major.

    Parameters
    ----------
    words : ndarray of shape (ceil(length / 4), n_texts), uint32
        Row ``k`` holds bytes ``4k .. 4k+3`` of every text, the first byte in
        the lowest bits. Bytes of the last row past ``length`` are ignored.
    length : int
        The length of every text, in bytes.

    Returns
    -------
    ndarray of shape (n_texts, 16), uint8

    Examples
    --------
    >>> import hashlib
    >>> import numpy as np
    >>> words = np.frombuffer(b"abcdefgh", dtype="<u4").reshape(2, 1)  # "gh" is ignored
    >>> md5_words(words, 6)[0].tobytes() == hashlib.md5(b"abcdef").digest()
    True
    """
    n_text_words, n_texts = (length + 3) // 4, words.shape[1]
    if words.shape[0] != n_text_words:
        raise ValueError(f"a text of {length} bytes has {n_text_words} words, got {words.shape[0]}")
    n_words = 16 * ((length + 8) // 64 + 1)
    template: list = [0] * n_words
    if length % 4 == 0:
        template[length // 4] = 0x80
    template[-2], template[-1] = (8 * length) & 0xFFFFFFFF, (8 * length) >> 32
    digests = np.empty((n_texts, 4), dtype="<u4")
    for start in range(0, n_texts, _CHUNK):
        stop = min(start + _CHUNK, n_texts)
        message = template.copy()
        message[:n_text_words] = list(words[:, start:stop])
        if length % 4:  # the last text word also holds the padding's first byte
            tail = length % 4
            message[n_text_words - 1] = (message[n_text_words - 1] & ((1 << 8 * tail) - 1)) | (
                np.uint32(0x80 << 8 * tail)
            )
        state = [np.full(stop - start, value, dtype=np.uint32) for value in _INITIAL_STATE]
        scratch = np.empty((2, stop - start), dtype=np.uint32)
        for first in range(0, n_words, 16):
            _compress(state, message[first : first + 16], scratch)
        digests[start:stop] = np.stack(state, axis=1)
    return digests.view(np.uint8)


def md5_rows(rows: np.ndarray) -> np.ndarray:
    """Raw MD5 digests of the rows of a 2-d ``uint8`` array, each row one text.

    Parameters
    ----------
    rows : ndarray of shape (n_texts, length), uint8
        The texts, all of the same length.

    Returns
    -------
    ndarray of shape (n_texts, 16), uint8
        ``hashlib.md5(row.tobytes()).digest()`` of every row.

    Examples
    --------
    >>> import hashlib
    >>> import numpy as np
    >>> texts = np.frombuffer(b"abc" + b"xyz", dtype=np.uint8).reshape(2, 3)
    >>> md5_rows(texts)[1].tobytes() == hashlib.md5(b"xyz").digest()
    True
    """
    rows = np.asarray(rows, dtype=np.uint8)
    n_texts, length = rows.shape
    padded = np.zeros((n_texts, 4 * ((length + 3) // 4)), dtype=np.uint8)
    padded[:, :length] = rows
    as_words = padded.view("<u4")
    words = np.empty(as_words.shape[::-1], dtype=np.uint32)
    for start in range(0, n_texts, 256):  # in tiles that stay in the CPU cache
        words[:, start : start + 256] = as_words[start : start + 256].T
    return md5_words(words, length)
