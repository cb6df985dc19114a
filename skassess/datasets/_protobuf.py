"""A minimal reader and writer of the protocol buffers wire format.

Enough of https://protobuf.dev/programming-guides/encoding/ to read and write
small messages such as NAS-Bench-101's ``ModelMetrics`` without the protobuf
runtime or generated code.

A message is a sequence of fields. Each field starts with a *key*, the varint
``(field_number << 3) | wire_type``, followed by a value whose layout the wire
type gives:

=========  =======  ==========================================================
wire type  name     value
=========  =======  ==========================================================
0          VARINT   a varint: int32, int64, uint32, uint64, bool, enum
1          I64      8 bytes, little-endian: double, fixed64, sfixed64
2          LEN      a varint length, then that many bytes: string, bytes,
                    embedded message, packed repeated field
5          I32      4 bytes, little-endian: float, fixed32, sfixed32
=========  =======  ==========================================================

A varint stores an unsigned integer in groups of 7 bits, least significant
group first; every byte but the last has its high bit set. A negative
``int32``/``int64`` is written as the 10-byte varint of its 64-bit two's
complement. Wire types 3 and 4 (the deprecated groups) are not supported.
Fields may come in any order and repeat; a reader skips the ones it does not
know, which is what makes the format extensible.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

__all__ = [
    "I32",
    "I64",
    "LEN",
    "VARINT",
    "ProtobufDecodeError",
    "decode_double",
    "encode_double",
    "encode_int",
    "encode_key",
    "encode_len",
    "encode_varint",
    "iter_fields",
    "read_varint",
    "to_signed64",
]

VARINT, I64, LEN, I32 = 0, 1, 2, 5
_FIXED_SIZE = {I64: 8, I32: 4}
_DOUBLE = struct.Struct("<d")


class ProtobufDecodeError(ValueError):
    """The bytes are not a well-formed protocol buffers message."""


def read_varint(buffer: bytes, position: int) -> tuple[int, int]:
    """Read one varint starting at ``position``.

    Returns
    -------
    value : int
        The unsigned value.
    position : int
        The position just after it.

    Examples
    --------
    >>> read_varint(bytes([0xAC, 0x02]), 0)
    (300, 2)
    """
    value = 0
    shift = 0
    end = len(buffer)
    while True:
        if position >= end:
            raise ProtobufDecodeError("message ends inside a varint")
        byte = buffer[position]
        position += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, position
        shift += 7
        if shift >= 70:
            raise ProtobufDecodeError("varint longer than 10 bytes")


def to_signed64(value: int) -> int:
    """Interpret an unsigned varint value as a two's complement int64 (and int32)."""
    return value - (1 << 64) if value >= 1 << 63 else value


def iter_fields(buffer: bytes) -> Iterator[tuple[int, int, int | bytes]]:
    """Yield ``(field_number, wire_type, value)`` for each field of a message.

    ``value`` is an int for VARINT fields and the raw bytes for I64, LEN and
    I32 fields (decode a double with ``struct.unpack("<d", value)``).

    Raises
    ------
    ProtobufDecodeError
        If a field is truncated, has field number 0 or an unsupported wire type.

    Examples
    --------
    >>> message = encode_int(2, 150) + encode_double(3, 0.5)
    >>> [(number, wire_type) for number, wire_type, _ in iter_fields(message)]
    [(2, 0), (3, 1)]
    """
    position = 0
    end = len(buffer)
    while position < end:
        key, position = read_varint(buffer, position)
        number, wire_type = key >> 3, key & 7
        if number == 0:
            raise ProtobufDecodeError("field number 0 is invalid")
        if wire_type == VARINT:
            value, position = read_varint(buffer, position)
            yield number, wire_type, value
            continue
        if wire_type == LEN:
            size, position = read_varint(buffer, position)
        elif wire_type in _FIXED_SIZE:
            size = _FIXED_SIZE[wire_type]
        else:
            raise ProtobufDecodeError(f"field {number} has unsupported wire type {wire_type}")
        if position + size > end:
            raise ProtobufDecodeError(
                f"field {number} needs {size} bytes, only {end - position} left in the message"
            )
        yield number, wire_type, buffer[position : position + size]
        position += size


def decode_double(value: bytes) -> float:
    """The double stored in the 8 bytes of an I64 field."""
    return _DOUBLE.unpack(value)[0]


def encode_varint(value: int) -> bytes:
    """Encode a non-negative integer (< 2**64) as a varint.

    Examples
    --------
    >>> encode_varint(300).hex()
    'ac02'
    """
    if value < 0:
        raise ValueError(f"varints are unsigned, got {value}; encode negatives with encode_int")
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def encode_key(number: int, wire_type: int) -> bytes:
    """The key that starts field ``number`` of ``wire_type``."""
    return encode_varint((number << 3) | wire_type)


def encode_int(number: int, value: int) -> bytes:
    """An int32/int64 field (negative values as 64-bit two's complement)."""
    return encode_key(number, VARINT) + encode_varint(value & ((1 << 64) - 1))


def encode_double(number: int, value: float) -> bytes:
    """A double field."""
    return encode_key(number, I64) + _DOUBLE.pack(value)


def encode_len(number: int, value: bytes) -> bytes:
    """A length-delimited field: string, bytes or an embedded message."""
    return encode_key(number, LEN) + encode_varint(len(value)) + bytes(value)
