"""load_nasbench101, convert_nasbench101: official TFRecord files, cache, shared table."""

import json
import os
import random

import numpy as np
import pytest

from skassess import Cell
from skassess.datasets import (
    RUN_METRICS,
    CorruptedFileError,
    NASBench101Record,
    convert_nasbench101,
    load_nasbench101,
    make_record,
    write_records,
)
from skassess.datasets import _nasbench101 as nb101_module
from skassess.datasets._tfrecord import iter_tfrecords, write_tfrecords
from skassess.datasets.nasbench101_tfrecord import encode_record
from skassess.spaces import NASBench101

CONV3, CONV1, POOL = "conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3"
# Three cells of the space; the last is stored with its inner vertices in a
# non-sorted order, as the official file may store any order.
CELLS = [
    Cell([[0, 1], [0, 0]], ["input", "output"]),
    Cell([[0, 1, 1], [0, 0, 1], [0, 0, 0]], ["input", CONV3, "output"]),
    Cell(
        [
            [0, 1, 1, 0, 0],
            [0, 0, 0, 1, 0],
            [0, 0, 0, 0, 1],
            [0, 0, 0, 0, 1],
            [0, 0, 0, 0, 0],
        ],
        ["input", POOL, CONV1, CONV3, "output"],
    ),
]
BUDGETS = (4, 12, 36, 108)


def expected(cell, epochs, run):
    """(training_time, train_accuracy, validation_accuracy, test_accuracy) of a run."""
    return (
        10.0 * epochs + run,
        0.5 + 0.01 * run,
        0.6 + 0.1 * cell + 0.001 * epochs + 0.01 * run,
        0.55 + 0.1 * cell + 0.001 * epochs + 0.02 * run,
    )


def make_records(budgets=BUDGETS, shuffle=True):
    """Three runs of every cell at every budget; run r of (cell, budget) is its r-th record."""
    keys = [(c, e) for e in budgets for c in range(len(CELLS)) for _ in range(3)]
    if shuffle:  # the official file is not grouped by cell
        random.Random(0).shuffle(keys)
    seen = {}
    records = []
    for c, e in keys:
        r = seen[c, e] = seen.get((c, e), -1) + 1
        records.append(make_record(CELLS[c], e, expected(c, e, r), trainable_parameters=1000 + c))
    return records


@pytest.fixture
def full_file(tmp_path):
    path = tmp_path / "nasbench_full.tfrecord"
    write_records(path, make_records())
    return path


def test_tfrecord_loads_means_runs_and_cells(full_file):
    bench = load_nasbench101(full_file)
    assert len(bench) == 3 and bench.target == "test_accuracy"
    assert bench.cells == CELLS  # vertex order of the file is kept
    assert bench.runs.epochs == BUDGETS and bench.runs.metrics == RUN_METRICS
    assert bench.runs.values.shape == (3, 4, 3, len(RUN_METRICS))
    for c in range(3):
        for e in BUDGETS:
            runs = np.array([expected(c, e, r) for r in range(3)])
            np.testing.assert_allclose(bench.runs.get("test_accuracy", e)[c], runs[:, 3], rtol=1e-6)
            np.testing.assert_allclose(bench.runs.get("training_time", e)[c], runs[:, 0], rtol=1e-6)
            np.testing.assert_allclose(
                bench.runs.get("halfway_test_accuracy", e)[c], runs[:, 3] / 2, rtol=1e-6
            )
        at_108 = np.array([expected(c, 108, r) for r in range(3)]).mean(axis=0)
        np.testing.assert_allclose(
            [bench.metrics[name][c] for name in RUN_METRICS[:4]], at_108, rtol=1e-6
        )
        assert bench.metrics["trainable_parameters"][c] == 1000 + c
        at_4 = np.mean([expected(c, 4, r)[2] for r in range(3)])
        np.testing.assert_allclose(bench.metrics["validation_accuracy_4ep"][c], at_4, rtol=1e-6)
    assert "validation_accuracy_108ep" not in bench.metrics


def test_epochs_parameter(full_file):
    bench = load_nasbench101(full_file, epochs=12)
    mean = np.mean([expected(2, 12, r)[3] for r in range(3)])
    np.testing.assert_allclose(bench.y[2], mean, rtol=1e-6)
    assert "validation_accuracy_108ep" in bench.metrics
    with pytest.raises(ValueError, match=r"one of the file's budgets \[4, 12, 36, 108\]"):
        load_nasbench101(full_file, epochs=5)


def test_only108_file(tmp_path):
    path = tmp_path / "nasbench_only108.tfrecord"
    write_records(path, make_records(budgets=(108,)))
    bench = load_nasbench101(path)
    assert bench.runs.epochs == (108,)
    assert not any(name.endswith("ep") for name in bench.metrics)


def test_query_by_isomorphic_permutation(full_file):
    bench = load_nasbench101(full_file)
    relabelled = Cell(  # CELLS[2] with its inner vertices in another order
        [
            [0, 1, 1, 0, 0],
            [0, 0, 0, 0, 1],
            [0, 0, 0, 1, 0],
            [0, 0, 0, 0, 1],
            [0, 0, 0, 0, 0],
        ],
        ["input", CONV1, POOL, CONV3, "output"],
    )
    assert relabelled != CELLS[2]
    assert bench.query([relabelled])[0] == bench.y[2]
    assert bench.query([CELLS[1], relabelled, CELLS[0]]).tolist() == bench.y[[1, 2, 0]].tolist()


def test_cache_is_written_reused_and_invalidated(full_file, monkeypatch):
    first = load_nasbench101(full_file)
    cache = full_file.with_name(full_file.name + ".skassess.npz")
    assert cache.is_file()

    def fail(path):
        raise AssertionError("parsed the TFRecord file again")

    monkeypatch.setattr(nb101_module, "parse_nasbench101_tfrecord", fail)
    second = load_nasbench101(full_file)
    np.testing.assert_array_equal(second.runs.values, first.runs.values)
    assert second.cells == first.cells
    np.testing.assert_array_equal(second.hashes, first.hashes)
    monkeypatch.undo()

    # Another file under the same name: size and mtime change, the cache is rebuilt.
    write_records(full_file, make_records(budgets=(108,)))
    stat = os.stat(full_file)
    os.utime(full_file, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    third = load_nasbench101(full_file)
    assert third.runs.epochs == (108,)
    assert load_nasbench101(full_file).runs.epochs == (108,)


def test_cache_false_neither_reads_nor_writes(full_file):
    load_nasbench101(full_file, cache=False)
    assert not full_file.with_name(full_file.name + ".skassess.npz").exists()


def test_damaged_cache_is_ignored(full_file):
    load_nasbench101(full_file)
    cache = full_file.with_name(full_file.name + ".skassess.npz")
    cache.write_bytes(b"PK\x03\x04 garbage")
    bench = load_nasbench101(full_file)
    assert len(bench) == 3
    assert load_nasbench101(cache).runs.epochs == BUDGETS  # rewritten and loadable


def test_cache_falls_back_to_data_home(full_file, tmp_path, monkeypatch):
    home = tmp_path / "home"
    monkeypatch.setenv("SKASSESS_DATA", str(home))
    real_save = nb101_module._save_atomically

    def read_only_beside(path, arrays):
        if path.parent == full_file.parent:
            raise PermissionError(f"read-only folder: {path.parent}")
        real_save(path, arrays)

    monkeypatch.setattr(nb101_module, "_save_atomically", read_only_beside)
    load_nasbench101(full_file)
    written = list((home / "cache").iterdir())
    assert len(written) == 1 and written[0].name.startswith(full_file.name)
    monkeypatch.setattr(nb101_module, "parse_nasbench101_tfrecord", None)  # must not be called
    assert len(load_nasbench101(full_file)) == 3


def test_convert_then_load(full_file, tmp_path):
    npz = convert_nasbench101(full_file, tmp_path / "nb101.npz")
    from_npz = load_nasbench101(npz, epochs=36)
    from_tfrecord = load_nasbench101(full_file, epochs=36)
    assert from_npz.cells == from_tfrecord.cells
    for name, values in from_tfrecord.metrics.items():
        np.testing.assert_array_equal(from_npz.metrics[name], values)


# -- damaged files: a clear error, and nothing cached --------------------------


def _no_cache_left(path):
    return not path.with_name(path.name + ".skassess.npz").exists() and not any(
        p.name.endswith(".tmp") for p in path.parent.iterdir()
    )


def _write_payloads(path, payloads):
    write_tfrecords(path, payloads)
    return [offset for _, offset, _ in iter_tfrecords(path)]


def test_flipped_byte_names_offset_and_record(full_file, tmp_path):
    offsets = [offset for _, offset, _ in iter_tfrecords(full_file)]
    raw = bytearray(full_file.read_bytes())
    raw[offsets[5] + 12 + 3] ^= 0x20
    full_file.write_bytes(bytes(raw))
    with pytest.raises(CorruptedFileError, match=f"record 5 at byte offset {offsets[5]}") as err:
        load_nasbench101(full_file)
    assert "checksum" in str(err.value) and isinstance(err.value, ValueError)
    assert _no_cache_left(full_file)


def test_truncated_file(full_file):
    offsets = [offset for _, offset, _ in iter_tfrecords(full_file)]
    full_file.write_bytes(full_file.read_bytes()[:-7])
    with pytest.raises(CorruptedFileError, match=f"record {len(offsets) - 1} at byte offset "):
        load_nasbench101(full_file)
    assert _no_cache_left(full_file)


def test_bad_length_crc(full_file):
    offsets = [offset for _, offset, _ in iter_tfrecords(full_file)]
    raw = bytearray(full_file.read_bytes())
    raw[offsets[2] + 8] ^= 0xFF
    full_file.write_bytes(bytes(raw))
    with pytest.raises(CorruptedFileError, match=f"record 2 at byte offset {offsets[2]}: length"):
        load_nasbench101(full_file)
    assert _no_cache_left(full_file)


def _good():
    return encode_record(make_records(budgets=(108,), shuffle=False)[0])


@pytest.mark.parametrize(
    "payload, reason",
    [
        (b"[not json", "not JSON"),
        (json.dumps(["h", 108, "0100", "input,output", "%%%"]).encode(), "not base64"),
        (json.dumps(["h", 108, "0100", "input,output", "CwwL"]).encode(), "ModelMetrics"),
        (json.dumps(["h", 108, "0100", "input,output", ""]).encode(), "no evaluation_data"),
    ],
)
def test_malformed_record_names_it(tmp_path, payload, reason):
    path = tmp_path / "bad.tfrecord"
    offsets = _write_payloads(path, [_good(), payload])
    with pytest.raises(
        CorruptedFileError, match=f"record 1 at byte offset {offsets[1]}: .*{reason}"
    ):
        load_nasbench101(path)
    assert _no_cache_left(path)


def test_hash_mismatch_names_the_record(tmp_path):
    records = make_records(budgets=(108,), shuffle=False)
    wrong = make_record(CELLS[1], 108, expected(1, 108, 0), module_hash="f" * 32)
    path = tmp_path / "bad.tfrecord"
    write_records(path, [*records, wrong])
    with pytest.raises(
        CorruptedFileError, match=rf"record {len(records)} .*does not match its cell"
    ):
        load_nasbench101(path)
    assert _no_cache_left(path)


def test_one_hash_two_cells_is_an_error(tmp_path):
    records = make_records(budgets=(108,), shuffle=False)
    clash = make_record(CELLS[2], 108, expected(2, 108, 0), module_hash=records[0].module_hash)
    path = tmp_path / "bad.tfrecord"
    write_records(path, [*records, clash])
    with pytest.raises(CorruptedFileError, match="names a different cell than in record 0"):
        load_nasbench101(path)


def test_cell_outside_the_space_is_an_error(tmp_path):
    too_many_edges = np.triu(np.ones((6, 6), dtype=np.uint8), k=1)  # 15 edges
    record = NASBench101Record(
        "0" * 32, 108, too_many_edges, ["input", *[CONV3] * 4, "output"], [[108, 1, 1, 1, 1]], 1
    )
    path = tmp_path / "bad.tfrecord"
    write_records(path, [record])
    with pytest.raises(CorruptedFileError, match="record 0 at byte offset 0: invalid cell"):
        load_nasbench101(path)


def test_empty_file(tmp_path):
    path = tmp_path / "empty.tfrecord"
    path.write_bytes(b"")
    with pytest.raises(CorruptedFileError, match="no records"):
        load_nasbench101(path)


def test_convert_writes_nothing_on_error(full_file, tmp_path):
    full_file.write_bytes(full_file.read_bytes()[:-1])
    target = tmp_path / "out.npz"
    with pytest.raises(CorruptedFileError):
        convert_nasbench101(full_file, target)
    assert not target.exists()


# -- where the file is looked for ------------------------------------------------


def test_missing_file_says_where_it_looked(tmp_path, monkeypatch):
    monkeypatch.setenv("SKASSESS_DATA", str(tmp_path))
    with pytest.raises(FileNotFoundError, match=r"nasbench_full\.tfrecord") as err:
        load_nasbench101()
    assert str(tmp_path) in str(err.value) and "github.com/google-research/nasbench" in str(
        err.value
    )
    with pytest.raises(FileNotFoundError, match="no file at"):
        load_nasbench101(tmp_path / "nowhere.tfrecord")


def test_default_location(full_file, monkeypatch):
    monkeypatch.setenv("SKASSESS_DATA", str(full_file.parent))
    assert len(load_nasbench101()) == 3


# -- the shared single-run table -------------------------------------------------


@pytest.fixture(scope="module")
def table(nb101_path):
    return load_nasbench101(nb101_path)


README_CELL = Cell(
    [
        [0, 1, 1, 1, 0, 1, 0],
        [0, 0, 0, 0, 0, 0, 1],
        [0, 0, 0, 0, 0, 0, 1],
        [0, 0, 0, 0, 1, 0, 0],
        [0, 0, 0, 0, 0, 0, 1],
        [0, 0, 0, 0, 0, 0, 1],
        [0, 0, 0, 0, 0, 0, 0],
    ],
    ["input", CONV1, CONV3, CONV3, CONV3, POOL, "output"],
)


def test_table_known_facts(table):
    assert len(table) == 423_624 and table.target == "test_accuracy"
    assert round(float(table.y.max()), 4) == 0.9466
    assert round(float(table.y.mean()), 4) == 0.8968
    assert sum(cell.n_vertices == 7 for cell in table.cells) == 359_082
    assert table.hashes[67206] == "28cfc7874f6d200472e1a9dcd8650aa0"
    assert table.metrics["trainable_parameters"][67206] == 2_694_282
    assert table.y[67206] == np.float32(0.9311898946762085)
    assert np.sum(~np.isnan(table.metrics["validation_accuracy"])) == 20_001
    assert table.runs is None


def test_table_query_by_another_vertex_order(table):
    assert README_CELL != table.cells[67206]
    assert table.query([README_CELL])[0] == table.y[67206]
    assert table.query([README_CELL], metric="trainable_parameters")[0] == 2_694_282


def test_table_stored_hashes_are_the_space_hashes(table):
    rows = np.random.default_rng(0).choice(len(table), size=300, replace=False)
    computed = NASBench101().hash_many([table.cells[row] for row in rows])
    np.testing.assert_array_equal(np.asarray(computed).astype(str), table.hashes[rows])


def test_table_cells_are_valid(table):
    space = NASBench101()
    rows = np.random.default_rng(1).choice(len(table), size=300, replace=False)
    assert all(space.is_valid(table.cells[row]) for row in rows)


# -- malformed tables --------------------------------------------------------------


def _table(tmp_path, **changes):
    space = NASBench101()
    adjacency = np.zeros((2, 3, 3), dtype=np.uint8)
    adjacency[0, :2, :2] = CELLS[0].matrix
    adjacency[1] = CELLS[1].matrix
    arrays = dict(
        hashes=np.array(space.hash_many(CELLS[:2]), dtype="S32"),
        adjacency=adjacency,
        ops=np.array([[0, 4, -1], [0, 2, 4]], dtype=np.int8),
        op_names=np.array(space.op_names),
        num_vertices=np.array([2, 3], dtype=np.int8),
        test_acc=np.array([0.5, 0.6], dtype=np.float32),
    )
    arrays.update(changes)
    path = tmp_path / "table.npz"
    np.savez(path, **{k: v for k, v in arrays.items() if v is not None})
    return path


def test_small_table_loads(tmp_path):
    bench = load_nasbench101(_table(tmp_path))
    assert bench.cells == CELLS[:2] and bench.y.tolist() == [0.5, np.float32(0.6)]
    assert list(bench.metrics) == ["test_accuracy"]


@pytest.mark.parametrize(
    "changes, reason",
    [
        ({"test_acc": None}, r"missing arrays \['test_acc'\]"),
        ({"adjacency": np.array([[[0, 1, 0], [0, 0, 0], [1, 0, 0]]] * 2, np.uint8)}, "row 0"),
        ({"ops": np.array([[0, 4, -1], [0, 7, 4]], dtype=np.int8)}, "row 1"),
        ({"ops": np.array([[4, 0, -1], [0, 2, 4]], dtype=np.int8)}, "row 0"),
        ({"num_vertices": np.array([2, 2], dtype=np.int8)}, "row 1"),
    ],
)
def test_malformed_table(tmp_path, changes, reason):
    with pytest.raises(ValueError, match=reason):
        load_nasbench101(_table(tmp_path, **changes))


def test_unreadable_npz(tmp_path):
    path = tmp_path / "broken.npz"
    path.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(ValueError, match=r"not a readable \.npz"):
        load_nasbench101(path)


def test_cache_of_another_format_version(full_file, tmp_path):
    npz = convert_nasbench101(full_file, tmp_path / "nb101.npz")
    with np.load(npz) as data:
        arrays = {key: data[key] for key in data.files}
    arrays["format_version"] = np.array(99)
    np.savez(npz, **arrays)
    with pytest.raises(ValueError, match="format version 99; this version reads 1"):
        load_nasbench101(npz)


def test_missing_runs_are_nan_and_left_out_of_means(tmp_path):
    records = make_records(budgets=(108,), shuffle=False)
    hashes = [NASBench101().hash(cell) for cell in CELLS]
    dropped = next(i for i, r in enumerate(records) if r.module_hash == hashes[1])
    path = tmp_path / "uneven.tfrecord"
    write_records(path, records[:dropped] + records[dropped + 1 :])  # cell 1 has 2 runs
    bench = load_nasbench101(path)
    runs = bench.runs.get("test_accuracy", 108)
    assert runs.shape == (3, 3) and np.isnan(runs[1]).sum() == 1
    kept = [expected(1, 108, r)[3] for r in (1, 2)]  # run 0 was dropped; the rest renumber
    np.testing.assert_allclose(np.sort(runs[1][~np.isnan(runs[1])]), np.sort(kept), rtol=1e-6)
    np.testing.assert_allclose(bench.y[1], np.mean(kept), rtol=1e-6)


def test_progress_bar_goes_to_stderr_only_when_asked(full_file, capsys):
    load_nasbench101(full_file, cache=False)
    assert capsys.readouterr() == ("", "")
    load_nasbench101(full_file, cache=False, progress=True)
    out, err = capsys.readouterr()
    assert out == "" and "reading nasbench_full.tfrecord" in err
