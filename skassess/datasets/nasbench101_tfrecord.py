"""The official NAS-Bench-101 record files, read and written without TensorFlow.

NAS-Bench-101 (Ying et al., ICML 2019) is published as ``nasbench_full.tfrecord``
(every cell at 4, 12, 36 and 108 epochs) and ``nasbench_only108.tfrecord``
(108 epochs only). Each is a TFRecord file (framing: see
:mod:`skassess.datasets._tfrecord`) with one record per training run: three
runs of each of the 423,624 cells at each epoch budget.

A record's data is the UTF-8 JSON list::

    [module_hash, epochs, raw_adjacency, raw_operations, raw_metrics]

``module_hash``
    the cell's official 32-hex-digit hash (of the pruned cell);
``epochs``
    the epoch budget of this run, an integer;
``raw_adjacency``
    the upper-triangular adjacency matrix of the cell as the row-major string
    of its ``V * V`` 0/1 digits;
``raw_operations``
    its ``V`` operation names, comma separated, from ``input`` to ``output``;
``raw_metrics``
    base64 of a serialized ``nasbench.ModelMetrics`` protocol buffer
    (``nasbench/lib/model_metrics.proto``)::

        message ModelMetrics {
          repeated EvaluationData evaluation_data = 1;
          optional int32 trainable_parameters = 2;
          optional double total_time = 3;
        }
        message EvaluationData {
          optional double current_epoch = 1;
          optional double training_time = 2;   // seconds of training so far
          optional double train_accuracy = 3;
          optional double validation_accuracy = 4;
          optional double test_accuracy = 5;
          optional string checkpoint_path = 6;
        }

Each run has three evaluations: at the start of training, half-way and at the
end. The official API reports the last one (``final_*``) and the half-way one
(``halfway_*``); ``training_time`` there is the final evaluation's
``training_time``, i.e. training seconds without evaluation time.

This module decodes that format itself (protocol buffers wire format:
:mod:`skassess.datasets._protobuf`), and writes it, so that tests and tools can
make small files that the official ``nasbench.api.NASBench`` would read too.

Examples
--------
>>> import os, tempfile
>>> import numpy as np
>>> from skassess.datasets.nasbench101_tfrecord import (
...     NASBench101Record, read_records, write_records)
>>> record = NASBench101Record(
...     module_hash="0" * 32, epochs=108,
...     matrix=[[0, 1], [0, 0]], ops=["input", "output"],
...     evaluations=[[0, 0.0, 0.1, 0.1, 0.1], [54, 50.0, 0.5, 0.5, 0.5],
...                  [108, 100.0, 0.9, 0.8, 0.7]],
...     trainable_parameters=1234, total_time=120.0)
>>> path = os.path.join(tempfile.mkdtemp(), "tiny.tfrecord")
>>> write_records(path, [record])
1
>>> [(r.epochs, r.final("test_accuracy")) for r in read_records(path)]
[(108, 0.7)]
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import struct
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from skassess.datasets._protobuf import (
    I64,
    LEN,
    VARINT,
    ProtobufDecodeError,
    decode_double,
    encode_double,
    encode_int,
    encode_len,
    iter_fields,
    to_signed64,
)
from skassess.datasets._tfrecord import CorruptedFileError, iter_tfrecords, write_tfrecords

__all__ = [
    "EVALUATION_FIELDS",
    "NASBench101Record",
    "decode_model_metrics",
    "decode_record",
    "encode_model_metrics",
    "encode_record",
    "make_record",
    "read_records",
    "write_records",
]

#: Columns of :attr:`NASBench101Record.evaluations`, the numeric fields of
#: ``EvaluationData`` in field-number order (1 to 5).
EVALUATION_FIELDS = (
    "current_epoch",
    "training_time",
    "train_accuracy",
    "validation_accuracy",
    "test_accuracy",
)


@dataclass(frozen=True, eq=False)
class NASBench101Record:
    """One training run of one cell at one epoch budget.

    Parameters
    ----------
    module_hash : str
        Official hash of the cell.
    epochs : int
        Epoch budget of the run.
    matrix : array-like of shape (V, V)
        0/1 adjacency matrix, as stored in the file.
    ops : sequence of str
        ``V`` operation names.
    evaluations : array-like of shape (n_evaluations, 5)
        One row per ``EvaluationData``, columns :data:`EVALUATION_FIELDS`;
        NaN for a field the message leaves unset.
    trainable_parameters : int
        ``ModelMetrics.trainable_parameters``.
    total_time : float, default=nan
        ``ModelMetrics.total_time`` (training plus evaluation seconds).
    """

    module_hash: str
    epochs: int
    matrix: np.ndarray
    ops: tuple[str, ...]
    evaluations: np.ndarray
    trainable_parameters: int
    total_time: float = field(default=float("nan"))

    def __post_init__(self) -> None:
        matrix = np.asarray(self.matrix, dtype=np.uint8)
        evaluations = np.asarray(self.evaluations, dtype=np.float64).reshape(-1, 5)
        object.__setattr__(self, "matrix", matrix)
        object.__setattr__(self, "ops", tuple(self.ops))
        object.__setattr__(self, "evaluations", evaluations)

    def final(self, name: str) -> float:
        """A field of the last evaluation, e.g. ``final("test_accuracy")``."""
        return float(self.evaluations[-1, EVALUATION_FIELDS.index(name)])

    def halfway(self, name: str) -> float:
        """A field of the half-way evaluation (NaN unless the record has the official three)."""
        if len(self.evaluations) != 3:
            return float("nan")
        return float(self.evaluations[1, EVALUATION_FIELDS.index(name)])


# -- ModelMetrics -------------------------------------------------------------


def decode_model_metrics(data: bytes) -> tuple[np.ndarray, int, float]:
    """Decode a serialized ``ModelMetrics`` message.

    Unknown fields are skipped, as protocol buffers readers do.

    Parameters
    ----------
    data : bytes

    Returns
    -------
    evaluations : ndarray of shape (n_evaluations, 5)
        Columns :data:`EVALUATION_FIELDS`, NaN where unset.
    trainable_parameters : int
        -1 when unset.
    total_time : float
        NaN when unset.

    Raises
    ------
    ProtobufDecodeError
        If the bytes are not a well-formed message or a known field has the
        wrong wire type.
    """
    rows, trainable_parameters, total_time = _decode_model_metrics(data)
    evaluations = np.array(rows, dtype=np.float64).reshape(len(rows), 5)
    return evaluations, trainable_parameters, total_time


def _decode_model_metrics(data: bytes) -> tuple[list[list[float]], int, float]:
    """:func:`decode_model_metrics` with the evaluations as lists (faster in loops)."""
    rows = []
    trainable_parameters = -1
    total_time = float("nan")
    for number, wire_type, value in iter_fields(data):
        if number == 1:
            _expect(wire_type, LEN, "ModelMetrics.evaluation_data")
            rows.append(_decode_evaluation(value))
        elif number == 2:
            _expect(wire_type, VARINT, "ModelMetrics.trainable_parameters")
            trainable_parameters = to_signed64(value)
        elif number == 3:
            _expect(wire_type, I64, "ModelMetrics.total_time")
            total_time = decode_double(value)
    return rows, trainable_parameters, total_time


# The layout protobuf serializers write for a full EvaluationData: fields 1 to 5
# in order, each a one-byte key ((number << 3) | I64) and 8 bytes of double.
_EVALUATION_PREFIX = struct.Struct("<BdBdBdBdBd")
_EVALUATION_KEYS = tuple((number << 3) | I64 for number in range(1, 6))


def _decode_evaluation(data: bytes) -> list[float]:
    """The five numeric fields of an ``EvaluationData``, NaN where unset.

    Takes a shortcut for the common layout (fields 1-5 in order first), then
    reads whatever follows field by field; a later occurrence of a field
    overrides an earlier one, as in any protocol buffers reader.
    """
    row = [float("nan")] * 5
    start = 0
    if len(data) >= _EVALUATION_PREFIX.size:
        unpacked = _EVALUATION_PREFIX.unpack_from(data)
        if unpacked[0::2] == _EVALUATION_KEYS:
            row = list(unpacked[1::2])
            start = _EVALUATION_PREFIX.size
            if start == len(data):
                return row
    for number, wire_type, value in iter_fields(data[start:]):
        if 1 <= number <= 5:
            _expect(wire_type, I64, f"EvaluationData.{EVALUATION_FIELDS[number - 1]}")
            row[number - 1] = decode_double(value)
    return row


def _expect(wire_type: int, expected: int, name: str) -> None:
    if wire_type != expected:
        raise ProtobufDecodeError(f"{name} has wire type {wire_type}, expected {expected}")


def encode_model_metrics(
    evaluations: Any, trainable_parameters: int, total_time: float = float("nan")
) -> bytes:
    """Serialize a ``ModelMetrics`` message; NaN fields are left unset."""
    message = bytearray()
    for row in np.asarray(evaluations, dtype=np.float64).reshape(-1, 5):
        evaluation = b"".join(
            encode_double(number, value)
            for number, value in enumerate(row.tolist(), start=1)
            if value == value  # skip NaN: unset
        )
        message += encode_len(1, evaluation)
    if trainable_parameters >= 0:
        message += encode_int(2, int(trainable_parameters))
    if total_time == total_time:
        message += encode_double(3, float(total_time))
    return bytes(message)


# -- records ------------------------------------------------------------------


def _split_record(data: bytes) -> tuple[str, int, str, str, bytes]:
    """Parse a record's JSON and base64 layers, checking every type.

    Returns ``(module_hash, epochs, raw_adjacency, raw_operations, metrics)``
    with ``metrics`` the serialized ``ModelMetrics``.

    Raises
    ------
    ValueError
        Saying what is malformed.
    """
    try:
        fields = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"record data is not JSON: {exc}") from None
    if not isinstance(fields, list) or len(fields) != 5:
        raise ValueError(
            "record data must be the JSON list [module_hash, epochs, raw_adjacency, "
            f"raw_operations, raw_metrics], got {_short(fields)}"
        )
    module_hash, epochs, raw_adjacency, raw_operations, raw_metrics = fields
    for name, value, kind, described in (
        ("module_hash", module_hash, str, "a string"),
        ("epochs", epochs, int, "an integer"),
        ("raw_adjacency", raw_adjacency, str, "a string"),
        ("raw_operations", raw_operations, str, "a string"),
        ("raw_metrics", raw_metrics, str, "a string"),
    ):
        if not isinstance(value, kind) or isinstance(value, bool):
            raise ValueError(f"{name} must be {described}, got {_short(value)}")
    try:
        metrics = binascii.a2b_base64(raw_metrics, strict_mode=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"raw_metrics is not base64: {exc}") from None
    return module_hash, epochs, raw_adjacency, raw_operations, metrics


def _parse_cell(raw_adjacency: str, raw_operations: str) -> tuple[np.ndarray, tuple[str, ...]]:
    """The adjacency matrix and op names of a record's cell, checked for shape only."""
    size = len(raw_adjacency)
    dim = round(size**0.5)
    if dim * dim != size or dim == 0:
        raise ValueError(f"raw_adjacency has {size} digits, not a square matrix")
    digits = np.frombuffer(raw_adjacency.encode("ascii", "replace"), dtype=np.uint8) - ord("0")
    if (digits > 1).any():
        raise ValueError(f"raw_adjacency must hold only 0/1 digits, got {raw_adjacency!r}")
    ops = tuple(raw_operations.split(","))
    if len(ops) != dim:
        raise ValueError(f"{len(ops)} operations for a {dim}x{dim} adjacency matrix")
    return digits.reshape(dim, dim), ops


def decode_record(data: bytes) -> NASBench101Record:
    """Decode one record's data (JSON, base64, protocol buffer) into a record.

    Raises
    ------
    ValueError
        If any layer is malformed; the message says which and how.
    """
    module_hash, epochs, raw_adjacency, raw_operations, metrics = _split_record(data)
    matrix, ops = _parse_cell(raw_adjacency, raw_operations)
    try:
        evaluations, trainable_parameters, total_time = decode_model_metrics(metrics)
    except ProtobufDecodeError as exc:
        raise ValueError(f"raw_metrics is not a ModelMetrics message: {exc}") from None
    return NASBench101Record(
        module_hash, epochs, matrix, ops, evaluations, trainable_parameters, total_time
    )


def encode_record(record: NASBench101Record) -> bytes:
    """One record's data in the official layout (the inverse of :func:`decode_record`)."""
    raw_adjacency = "".join(str(int(v)) for v in np.asarray(record.matrix).ravel())
    metrics = encode_model_metrics(
        record.evaluations, record.trainable_parameters, record.total_time
    )
    fields = [
        record.module_hash,
        int(record.epochs),
        raw_adjacency,
        ",".join(record.ops),
        base64.b64encode(metrics).decode("ascii"),
    ]
    return json.dumps(fields).encode("utf-8")


def read_records(path: str | os.PathLike) -> Iterator[NASBench101Record]:
    """Yield every record of an official NAS-Bench-101 file, fully decoded.

    For analysis of a few records; :func:`skassess.datasets.load_nasbench101`
    reads a whole file into a :class:`~skassess.datasets.Benchmark` far faster.

    Raises
    ------
    CorruptedFileError
        On a damaged frame or a malformed record, naming its byte offset and index.
    """
    for index, offset, data in iter_tfrecords(path):
        try:
            yield decode_record(data)
        except ValueError as exc:
            raise CorruptedFileError(path, offset, index, str(exc)) from None


def write_records(path: str | os.PathLike, records: Iterable[NASBench101Record]) -> int:
    """Write records as an official NAS-Bench-101 TFRecord file (atomically).

    Returns
    -------
    int
        The number of records written.
    """
    return write_tfrecords(path, (encode_record(record) for record in records))


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def make_record(
    cell: Any,
    epochs: int,
    final: Sequence[float],
    *,
    module_hash: str | None = None,
    trainable_parameters: int = 0,
    halfway: Sequence[float] | None = None,
    total_time: float = float("nan"),
) -> NASBench101Record:
    """Build a record in the official layout from a cell and its final metrics.

    A convenience for writing test and example files: the three evaluations
    (start, half-way, end) are filled from ``final`` (and ``halfway``, which
    defaults to half of ``final``), the start one with zeros.

    Parameters
    ----------
    cell : Cell or any cell spelling
    epochs : int
    final : sequence of 4 floats
        ``(training_time, train_accuracy, validation_accuracy, test_accuracy)``
        of the last evaluation.
    module_hash : str, optional
        Defaults to the official hash, ``NASBench101().hash(cell)``.
    trainable_parameters : int, default=0
    halfway : sequence of 4 floats, optional
    total_time : float, default=nan

    Returns
    -------
    NASBench101Record
    """
    from skassess._cell import as_cell

    cell = as_cell(cell)
    if module_hash is None:
        from skassess.spaces import NASBench101

        module_hash = NASBench101().hash(cell)
    final = [float(v) for v in final]
    halfway = [v / 2 for v in final] if halfway is None else [float(v) for v in halfway]
    evaluations = [
        [0.0, 0.0, 0.0, 0.0, 0.0],
        [epochs / 2, *halfway],
        [float(epochs), *final],
    ]
    return NASBench101Record(
        module_hash,
        int(epochs),
        cell.matrix,
        cell.ops,
        evaluations,
        int(trainable_parameters),
        total_time,
    )
