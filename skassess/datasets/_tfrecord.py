"""TFRecord framing: reading and writing record files without TensorFlow.

A TFRecord file is a plain concatenation of records, each framed as::

    uint64  length           little-endian, number of data bytes
    uint32  masked_crc(length bytes)
    bytes   data[length]
    uint32  masked_crc(data)

where ``masked_crc(b) = ((c >> 15) | (c << 17)) + 0xa282ead8 (mod 2**32)`` with
``c`` the CRC-32C (Castagnoli) of ``b``; both CRCs are stored little-endian.
The mask keeps a CRC computed over data that itself contains CRCs well
distributed (TensorFlow's ``core/lib/io/record_writer`` and ``crc32c.h``).

Reading checks both CRCs of every record, so a flipped bit, a truncated file or
a file that is not a TFRecord at all is reported as :class:`CorruptedFileError`
with the byte offset of the record and its index, rather than read as garbage.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterable, Iterator
from pathlib import Path

import crc32c

__all__ = ["CorruptedFileError", "iter_tfrecords", "masked_crc32c", "write_tfrecords"]

_MASK_DELTA = 0xA282EAD8
_HEADER = struct.Struct("<QI")  # length, masked CRC of the 8 length bytes
_FOOTER = struct.Struct("<I")  # masked CRC of the data
_READ_BUFFER = 1 << 20


class CorruptedFileError(ValueError):
    """A data file is damaged: a checksum fails, it is truncated, or a record is malformed.

    Attributes
    ----------
    path : str
        The file.
    offset : int
        Byte offset of the start of the damaged record in the file.
    record : int
        Index (0-based) of the damaged record.
    """

    def __init__(self, path: str | os.PathLike, offset: int, record: int, reason: str) -> None:
        self.path = str(path)
        self.offset = offset
        self.record = record
        self.reason = reason
        super().__init__(f"{self.path}: record {record} at byte offset {offset}: {reason}")


def masked_crc32c(data: bytes) -> int:
    """The masked CRC-32C that TFRecord stores after the length and after the data.

    Parameters
    ----------
    data : bytes

    Returns
    -------
    int
        ``((crc >> 15) | (crc << 17)) + 0xa282ead8``, modulo 2**32.

    Examples
    --------
    >>> hex(masked_crc32c(b"123456789"))
    '0xc78ab0e5'
    """
    crc = crc32c.crc32c(data)
    return ((((crc >> 15) | (crc << 17)) & 0xFFFFFFFF) + _MASK_DELTA) & 0xFFFFFFFF


def iter_tfrecords(path: str | os.PathLike) -> Iterator[tuple[int, int, bytes]]:
    """Yield the records of a TFRecord file, checking both CRCs of each.

    Parameters
    ----------
    path : str or path-like
        The file.

    Yields
    ------
    index : int
        0-based record index.
    offset : int
        Byte offset where the record's frame starts.
    data : bytes
        The record's payload.

    Raises
    ------
    CorruptedFileError
        On a checksum mismatch or a truncated record, naming the offset and
        index of the record.
    """
    with open(path, "rb", buffering=_READ_BUFFER) as file:
        offset = 0
        index = 0
        while True:
            header = file.read(_HEADER.size)
            if not header:
                return
            if len(header) < _HEADER.size:
                raise CorruptedFileError(
                    path,
                    offset,
                    index,
                    f"truncated: the file ends {len(header)} byte(s) into the "
                    f"{_HEADER.size}-byte record header",
                )
            length, length_crc = _HEADER.unpack(header)
            if masked_crc32c(header[:8]) != length_crc:
                raise CorruptedFileError(
                    path,
                    offset,
                    index,
                    "length checksum mismatch (not a TFRecord file, or damaged)",
                )
            data = file.read(length)
            footer = file.read(_FOOTER.size)
            if len(data) < length or len(footer) < _FOOTER.size:
                raise CorruptedFileError(
                    path,
                    offset,
                    index,
                    f"truncated: the record announces {length} data bytes but the file "
                    f"ends {len(data) + len(footer)} byte(s) after its header",
                )
            if masked_crc32c(data) != _FOOTER.unpack(footer)[0]:
                raise CorruptedFileError(path, offset, index, "data checksum mismatch")
            yield index, offset, data
            offset += _HEADER.size + length + _FOOTER.size
            index += 1


def write_tfrecords(path: str | os.PathLike, payloads: Iterable[bytes]) -> int:
    """Write payloads as a TFRecord file, atomically.

    The file is written under a temporary name next to ``path`` and renamed
    into place once complete, so a reader never sees half a file.

    Parameters
    ----------
    path : str or path-like
        Destination; replaced if it exists.
    payloads : iterable of bytes
        One record's data each.

    Returns
    -------
    int
        The number of records written.

    Examples
    --------
    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "demo.tfrecord")
    >>> write_tfrecords(path, [b"first", b"second"])
    2
    >>> [data for _, _, data in iter_tfrecords(path)]
    [b'first', b'second']
    """
    path = Path(path)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    count = 0
    try:
        with open(temporary, "wb", buffering=_READ_BUFFER) as file:
            for data in payloads:
                data = bytes(data)
                length = struct.pack("<Q", len(data))
                file.write(length)
                file.write(_FOOTER.pack(masked_crc32c(length)))
                file.write(data)
                file.write(_FOOTER.pack(masked_crc32c(data)))
                count += 1
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    return count
