"""TFRecord framing, the protocol buffers wire format and NAS-Bench-101 records."""

import base64
import json
import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skassess.datasets import CorruptedFileError
from skassess.datasets._protobuf import (
    ProtobufDecodeError,
    decode_double,
    encode_double,
    encode_int,
    encode_key,
    encode_len,
    encode_varint,
    iter_fields,
    read_varint,
    to_signed64,
)
from skassess.datasets._tfrecord import iter_tfrecords, masked_crc32c, write_tfrecords
from skassess.datasets.nasbench101_tfrecord import (
    NASBench101Record,
    decode_model_metrics,
    decode_record,
    encode_model_metrics,
    encode_record,
    read_records,
    write_records,
)

# -- framing -------------------------------------------------------------------


def test_crc32c_masking_follows_the_tfrecord_definition():
    # CRC-32C check value of "123456789" is 0xe3069283 (RFC 3720, appendix B.4).
    crc = 0xE3069283
    expected = ((((crc >> 15) | (crc << 17)) & 0xFFFFFFFF) + 0xA282EAD8) & 0xFFFFFFFF
    assert masked_crc32c(b"123456789") == expected


def test_framing_layout_by_hand(tmp_path):
    path = tmp_path / "one.tfrecord"
    write_tfrecords(path, [b"abc"])
    raw = path.read_bytes()
    assert len(raw) == 8 + 4 + 3 + 4
    assert struct.unpack("<Q", raw[:8])[0] == 3
    assert struct.unpack("<I", raw[8:12])[0] == masked_crc32c(raw[:8])
    assert raw[12:15] == b"abc"
    assert struct.unpack("<I", raw[15:])[0] == masked_crc32c(b"abc")


def test_round_trip_offsets_and_empty_records(tmp_path):
    payloads = [b"x" * 5, b"", b"hello world"]
    path = tmp_path / "three.tfrecord"
    assert write_tfrecords(path, payloads) == 3
    read = list(iter_tfrecords(path))
    assert [data for _, _, data in read] == payloads
    assert [index for index, _, _ in read] == [0, 1, 2]
    assert [offset for _, offset, _ in read] == [0, 21, 37]


def test_empty_file_has_no_records(tmp_path):
    path = tmp_path / "empty.tfrecord"
    path.write_bytes(b"")
    assert list(iter_tfrecords(path)) == []


def _corrupt(path, position, value=None):
    raw = bytearray(path.read_bytes())
    raw[position] = raw[position] ^ 0x01 if value is None else value
    path.write_bytes(bytes(raw))


def test_flipped_data_byte_names_offset_and_record(tmp_path):
    path = tmp_path / "f.tfrecord"
    write_tfrecords(path, [b"first", b"second", b"third"])
    _corrupt(path, 21 + 12 + 2)  # a byte inside record 1's data
    with pytest.raises(
        CorruptedFileError, match=r"record 1 at byte offset 21: data checksum"
    ) as err:
        list(iter_tfrecords(path))
    assert (err.value.record, err.value.offset) == (1, 21)
    assert isinstance(err.value, ValueError)


def test_bad_length_crc(tmp_path):
    path = tmp_path / "f.tfrecord"
    write_tfrecords(path, [b"first", b"second"])
    _corrupt(path, 21 + 9)  # record 1's length CRC
    with pytest.raises(CorruptedFileError, match="record 1 at byte offset 21: length checksum"):
        list(iter_tfrecords(path))


def test_flipped_length_is_caught_by_its_crc(tmp_path):
    path = tmp_path / "f.tfrecord"
    write_tfrecords(path, [b"first"])
    _corrupt(path, 0)
    with pytest.raises(CorruptedFileError, match="record 0 at byte offset 0: length checksum"):
        list(iter_tfrecords(path))


@pytest.mark.parametrize("cut", [1, 4, 10])
def test_truncated_file(tmp_path, cut):
    path = tmp_path / "t.tfrecord"
    write_tfrecords(path, [b"first", b"second"])
    raw = path.read_bytes()
    path.write_bytes(raw[:-cut])
    with pytest.raises(CorruptedFileError, match="record 1 at byte offset 21: truncated"):
        list(iter_tfrecords(path))


def test_truncated_inside_header(tmp_path):
    path = tmp_path / "t.tfrecord"
    write_tfrecords(path, [b"first"])
    path.write_bytes(path.read_bytes() + b"\x05\x00")
    with pytest.raises(CorruptedFileError, match="record 1 at byte offset 21: truncated"):
        list(iter_tfrecords(path))


def test_write_is_atomic_on_error(tmp_path):
    path = tmp_path / "a.tfrecord"

    def payloads():
        yield b"ok"
        raise RuntimeError("producer failed")

    with pytest.raises(RuntimeError):
        write_tfrecords(path, payloads())
    assert list(tmp_path.iterdir()) == []


# -- protocol buffers wire format ----------------------------------------------


@pytest.mark.parametrize("value", [0, 1, 127, 128, 300, 2**31 - 1, 2**63, 2**64 - 1])
def test_varint_round_trip(value):
    encoded = encode_varint(value)
    assert read_varint(encoded, 0) == (value, len(encoded))


def test_varint_known_bytes_and_negative_int32():
    assert encode_varint(300) == bytes([0xAC, 0x02])
    # A negative int32 is written as the 10-byte varint of its 64-bit two's complement.
    field = encode_int(2, -5)
    assert len(field) == 1 + 10
    ((number, wire_type, value),) = iter_fields(field)
    assert (number, wire_type, to_signed64(value)) == (2, 0, -5)


def test_fields_and_unknown_wire_types():
    message = encode_int(1, 7) + encode_double(2, 1.5) + encode_len(3, b"xyz")
    message += encode_key(4, 5) + b"\x01\x02\x03\x04"
    fields = list(iter_fields(message))
    assert [(n, w) for n, w, _ in fields] == [(1, 0), (2, 1), (3, 2), (4, 5)]
    assert fields[0][2] == 7 and decode_double(fields[1][2]) == 1.5 and fields[2][2] == b"xyz"


@pytest.mark.parametrize(
    "message, reason",
    [
        (b"\x08", "inside a varint"),
        (encode_key(1, 1) + b"\x00\x00", "needs 8 bytes"),
        (encode_key(1, 2) + encode_varint(10) + b"abc", "needs 10 bytes"),
        (encode_key(1, 3), "unsupported wire type 3"),
        (b"\x00", "field number 0"),
        (b"\xff" * 11, "longer than 10 bytes"),
    ],
)
def test_malformed_messages(message, reason):
    with pytest.raises(ProtobufDecodeError, match=reason):
        list(iter_fields(message))


def test_model_metrics_field_numbers_by_hand():
    # Built field by field from model_metrics.proto, independently of the encoder.
    evaluation = encode_double(1, 108.0) + encode_double(2, 1000.5) + encode_double(3, 1.0)
    evaluation += encode_double(4, 0.93) + encode_double(5, 0.92)
    evaluation += encode_len(6, b"/ckpt/model.ckpt-1")  # checkpoint_path, skipped
    message = encode_len(1, evaluation) + encode_int(2, 123456) + encode_double(3, 2000.0)
    message += encode_int(99, 1)  # an unknown field, skipped
    evaluations, parameters, total_time = decode_model_metrics(message)
    np.testing.assert_array_equal(evaluations, [[108.0, 1000.5, 1.0, 0.93, 0.92]])
    assert (parameters, total_time) == (123456, 2000.0)


def test_model_metrics_round_trip_with_unset_fields():
    evaluations = np.array([[0, 0, 0.1, np.nan, 0.1], [54, 10, 0.5, 0.5, 0.5]])
    decoded, parameters, total_time = decode_model_metrics(encode_model_metrics(evaluations, 42))
    np.testing.assert_array_equal(decoded, evaluations)
    assert parameters == 42 and np.isnan(total_time)


def test_model_metrics_rejects_wrong_wire_type():
    with pytest.raises(ProtobufDecodeError, match="trainable_parameters has wire type 1"):
        decode_model_metrics(encode_double(2, 1.0))


# -- NAS-Bench-101 records -----------------------------------------------------

MATRIX = [[0, 1, 1], [0, 0, 1], [0, 0, 0]]
OPS = ("input", "conv3x3-bn-relu", "output")


def _record(**changes):
    fields = dict(
        module_hash="ab" * 16,
        epochs=108,
        matrix=MATRIX,
        ops=OPS,
        evaluations=[
            [0, 0, 0.1, 0.1, 0.1],
            [54, 500.0, 0.8, 0.7, 0.7],
            [108, 1000.0, 1.0, 0.9, 0.89],
        ],
        trainable_parameters=1000,
        total_time=1100.0,
    )
    fields.update(changes)
    return NASBench101Record(**fields)


def test_record_json_layout_matches_the_official_one():
    fields = json.loads(encode_record(_record()))
    assert fields[:4] == ["ab" * 16, 108, "011001000", "input,conv3x3-bn-relu,output"]
    evaluations, parameters, _ = decode_model_metrics(base64.b64decode(fields[4]))
    assert parameters == 1000 and evaluations.shape == (3, 5)


def test_records_round_trip(tmp_path):
    records = [_record(), _record(epochs=4, trainable_parameters=7)]
    path = tmp_path / "r.tfrecord"
    assert write_records(path, records) == 2
    back = list(read_records(path))
    for original, read in zip(records, back, strict=True):
        assert read.module_hash == original.module_hash and read.epochs == original.epochs
        np.testing.assert_array_equal(read.matrix, original.matrix)
        assert read.ops == original.ops
        np.testing.assert_array_equal(read.evaluations, original.evaluations)
        assert read.trainable_parameters == original.trainable_parameters
    assert back[0].final("test_accuracy") == 0.89 and back[0].halfway("training_time") == 500.0


@pytest.mark.parametrize(
    "data, reason",
    [
        (b"{not json", "not JSON"),
        (b'{"a": 1}', "must be the JSON list"),
        (b'["h", "108", "0", "input", ""]', "epochs must be an integer"),
        (b'["h", 108, "0", "input", "***"]', "not base64"),
        (json.dumps(["h", 108, "0120", "input,output", ""]).encode(), "only 0/1 digits"),
        (json.dumps(["h", 108, "0100", "input", ""]).encode(), "1 operations for a 2x2"),
        (json.dumps(["h", 108, "012", "a", ""]).encode(), "not a square"),
        (
            json.dumps(
                ["h", 108, "0100", "input,output", base64.b64encode(b"\x0b").decode()]
            ).encode(),
            "not a ModelMetrics",
        ),
    ],
)
def test_decode_record_errors(data, reason):
    with pytest.raises(ValueError, match=reason):
        decode_record(data)


def test_read_records_names_the_bad_record(tmp_path):
    path = tmp_path / "r.tfrecord"
    write_tfrecords(path, [encode_record(_record()), b"[1, 2]"])
    with pytest.raises(CorruptedFileError, match=r"record 1 at byte offset \d+: record data"):
        list(read_records(path))


def test_evaluation_fields_in_any_order_and_repeated():
    ordered = b"".join(encode_double(n, float(n)) for n in range(1, 6))
    shuffled = b"".join(encode_double(n, float(n)) for n in (5, 3, 1, 4, 2))
    repeated = ordered + encode_len(6, b"ckpt") + encode_double(3, 0.25)  # last one wins
    partial = encode_double(4, 0.5)
    message = b"".join(encode_len(1, e) for e in (ordered, shuffled, repeated, partial))
    evaluations, parameters, _ = decode_model_metrics(message)
    np.testing.assert_array_equal(
        evaluations,
        [
            [1, 2, 3, 4, 5],
            [1, 2, 3, 4, 5],
            [1, 2, 0.25, 4, 5],
            [np.nan, np.nan, np.nan, 0.5, np.nan],
        ],
    )
    assert parameters == -1


# -- properties ------------------------------------------------------------------

doubles = st.floats(allow_nan=True, allow_infinity=True, width=64)


@settings(max_examples=60, deadline=None)
@given(
    rows=st.lists(st.lists(doubles, min_size=5, max_size=5), max_size=4),
    parameters=st.integers(-(2**31), 2**31 - 1),
    total_time=doubles,
)
def test_model_metrics_round_trip_property(rows, parameters, total_time):
    evaluations = np.array(rows, dtype=np.float64).reshape(len(rows), 5)
    decoded, decoded_parameters, decoded_time = decode_model_metrics(
        encode_model_metrics(evaluations, parameters, total_time)
    )
    np.testing.assert_array_equal(decoded, evaluations)  # NaN == NaN here
    # A negative count means "unset" to the encoder; every other value survives.
    assert decoded_parameters == (parameters if parameters >= 0 else -1)
    assert decoded_time == total_time or (np.isnan(decoded_time) and np.isnan(total_time))


@settings(max_examples=30, deadline=None)
@given(payloads=st.lists(st.binary(max_size=300), max_size=8))
def test_tfrecord_round_trip_property(tmp_path_factory, payloads):
    path = tmp_path_factory.mktemp("prop") / "p.tfrecord"
    assert write_tfrecords(path, payloads) == len(payloads)
    assert [data for _, _, data in iter_tfrecords(path)] == payloads
