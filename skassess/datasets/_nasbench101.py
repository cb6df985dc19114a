"""NAS-Bench-101 (Ying et al., ICML 2019): every cell of its space, trained on CIFAR-10.

:func:`load_nasbench101` reads three formats, told apart by their content:

* the official ``nasbench_full.tfrecord`` / ``nasbench_only108.tfrecord``,
  parsed without TensorFlow (:mod:`skassess.datasets.nasbench101_tfrecord`),
  then cached as a compact ``.npz`` so that later loads take seconds;
* that cache format itself, which :func:`convert_nasbench101` also writes;
* a single-run table (a ``.npz`` with the arrays ``hashes, adjacency, ops,
  op_names, num_vertices, test_acc, val_acc, ...``: one training run per cell).
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import os
import sys
import warnings
from array import array
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from skassess._cell import Cell, InvalidCellError
from skassess.datasets._benchmark import Benchmark
from skassess.datasets._home import find_data_file, get_data_home
from skassess.datasets._npz import is_zip_file, read_npz
from skassess.datasets._protobuf import ProtobufDecodeError
from skassess.datasets._runs import RunTable
from skassess.datasets._tfrecord import CorruptedFileError, iter_tfrecords
from skassess.datasets.nasbench101_tfrecord import (
    _decode_model_metrics,
    _parse_cell,
    _split_record,
)

__all__ = ["convert_nasbench101", "load_nasbench101"]

NAME = "NAS-Bench-101"
FILE_NAMES = ("nasbench_full.tfrecord", "nasbench_only108.tfrecord", "nasbench101.npz")
WHERE_TO_GET = (
    "The official files are linked from https://github.com/google-research/nasbench "
    "(nasbench_only108.tfrecord, 499 MB; nasbench_full.tfrecord, 2 GB)."
)

#: Metrics kept for every run, in the order of the last axis of ``RunTable.values``.
RUN_METRICS = (
    "training_time",
    "train_accuracy",
    "validation_accuracy",
    "test_accuracy",
    "halfway_training_time",
    "halfway_train_accuracy",
    "halfway_validation_accuracy",
    "halfway_test_accuracy",
)
CACHE_FORMAT = "skassess-nasbench101-runs"
CACHE_VERSION = 1
CACHE_SUFFIX = ".skassess.npz"

# Names of a single-run table's arrays -> metric names of the official API.
_TABLE_METRICS = {
    "test_acc": "test_accuracy",
    "val_acc": "validation_accuracy",
    "val_acc_e4": "validation_accuracy_4ep",
    "val_acc_e12": "validation_accuracy_12ep",
    "val_acc_e36": "validation_accuracy_36ep",
    "training_time": "training_time",
    "params": "trainable_parameters",
    "flops_thop": "flops",
}


def load_nasbench101(
    path: str | os.PathLike | None = None,
    *,
    epochs: int = 108,
    cache: bool = True,
    progress: bool = False,
) -> Benchmark:
    """Load NAS-Bench-101 as a :class:`Benchmark`.

    Parameters
    ----------
    path : str or path-like, optional
        An official TFRecord file, a cache written by
        :func:`convert_nasbench101`, a single-run table (``.npz``), or a
        folder holding one of them. By default the first of
        ``nasbench_full.tfrecord``, ``nasbench_only108.tfrecord`` and
        ``nasbench101.npz`` found in :func:`data_folders`.
    epochs : int, default=108
        Epoch budget whose run means fill :attr:`Benchmark.metrics`, for the
        files that have several (4, 12, 36 or 108 in ``nasbench_full``).
    cache : bool, default=True
        For a TFRecord file: reuse, or else write, the parsed table as
        ``<file>.skassess.npz`` next to it (or, where that folder is read-only,
        in ``get_data_home() / "cache"``). The cache is rebuilt when the
        file's size or modification time changes.
    progress : bool, default=False
        Show a progress bar on stderr while a TFRecord file is parsed (minutes
        for the official files).

    Returns
    -------
    Benchmark
        Target ``"test_accuracy"``. Metrics, named as the official API names
        them, are means over the runs at ``epochs``: ``test_accuracy``,
        ``validation_accuracy``, ``train_accuracy``, ``training_time`` (the
        final evaluation's training seconds, the official
        ``final_training_time``), ``trainable_parameters``, and
        ``validation_accuracy_{e}ep`` for the other budgets ``e`` of the file.
        :attr:`Benchmark.runs` keeps every run: a :class:`RunTable` of
        :data:`RUN_METRICS` (the final and half-way evaluations).

        A single-run table gives what it has: ``test_accuracy`` (``test_acc``),
        ``validation_accuracy`` (``val_acc``, NaN where missing),
        ``validation_accuracy_4ep/12ep/36ep`` (``val_acc_e4/e12/e36``),
        ``training_time``, ``trainable_parameters`` (``params``) and ``flops``
        (``flops_thop``), and no runs. In such a table ``test_accuracy`` is
        typically ONE run rather than a mean of three (two runs of the same
        cells agree at Kendall tau about 0.86), and the validation metrics may
        exist for some cells only (20,001 in the table the benchmarks use).

    Raises
    ------
    FileNotFoundError
        If the file does not exist, saying where it looked.
    CorruptedFileError
        A :class:`ValueError`, if a TFRecord file is damaged or a record
        malformed, naming its byte offset and index; nothing is cached then.
    ValueError
        If ``epochs`` is not a budget of the file, or a table is truncated,
        damaged or malformed (naming the file).

    Notes
    -----
    Cells keep the vertex order of the file. Each record's cell is validated
    against :class:`skassess.spaces.NASBench101` and hashed with it; a hash
    different from the record's ``module_hash`` is an error. The hashes of a
    table are trusted as stored.

    Runs are kept as float32, which holds every accuracy of the official files
    (multiples of 1/10,000) to better than 1e-7; means are float64.

    Examples
    --------
    >>> from skassess.datasets import load_nasbench101
    >>> bench = load_nasbench101("nasbench_full.tfrecord")  # doctest: +SKIP
    >>> bench.runs.get("validation_accuracy", epochs=12).shape  # doctest: +SKIP
    (423624, 3)
    >>> bench.query([cell], metric="training_time")  # doctest: +SKIP
    """
    path = find_data_file(path, FILE_NAMES, NAME, WHERE_TO_GET)
    if path.suffix == ".npz" or is_zip_file(path):
        data = read_npz(path, "a NAS-Bench-101 table")
        if CACHE_FORMAT in _string(data, "format"):
            return _from_run_arrays(_read_cache_arrays(data, path), epochs)
        return _from_table(data, path)
    arrays = _read_cache(path) if cache else None
    if arrays is None:
        arrays = parse_nasbench101_tfrecord(path, progress=progress)
        if cache:
            _write_cache(path, arrays)
    return _from_run_arrays(arrays, epochs)


def convert_nasbench101(
    tfrecord_path: str | os.PathLike, npz_path: str | os.PathLike, *, progress: bool = False
) -> Path:
    """Parse an official NAS-Bench-101 TFRecord file into a fast ``.npz``.

    The result loads with :func:`load_nasbench101` in seconds and holds every
    run (it is the same format as the automatic cache).

    Parameters
    ----------
    tfrecord_path : str or path-like
        ``nasbench_full.tfrecord``, ``nasbench_only108.tfrecord`` or a file in
        their format.
    npz_path : str or path-like
        Destination, written atomically (nothing is written on error).
    progress : bool, default=False
        Show a progress bar on stderr while parsing.

    Returns
    -------
    pathlib.Path
        ``npz_path``.

    Raises
    ------
    CorruptedFileError
        If the TFRecord file is damaged, naming the byte offset and record.
    """
    tfrecord_path = find_data_file(tfrecord_path, FILE_NAMES, NAME, WHERE_TO_GET)
    arrays = parse_nasbench101_tfrecord(tfrecord_path, progress=progress)
    npz_path = Path(npz_path)
    _save_atomically(npz_path, arrays)
    return npz_path


# -- parsing the official file ---------------------------------------------------


def parse_nasbench101_tfrecord(
    path: str | os.PathLike, *, progress: bool = False
) -> dict[str, np.ndarray]:
    """Read an official NAS-Bench-101 file into the arrays of the cache format.

    Every record is checked: framing and CRCs, JSON, base64, protocol buffer,
    the cell (against :class:`~skassess.spaces.NASBench101`) and its hash.

    Raises
    ------
    CorruptedFileError
        Naming the byte offset and index of the first bad record.
    """
    from skassess.spaces import NASBench101

    space = NASBench101()
    stat = os.stat(path)  # before reading: a file changed meanwhile is parsed again next time
    cell_of_hash: dict[str, int] = {}
    first_seen: list[tuple[str, str, int, int]] = []  # raw cell, first record, offset
    parameters = array("q")
    record_cells = array("q")
    record_epochs = array("q")
    values = array("d")
    with _progress_bar(progress, stat.st_size, path) as bar:
        for index, offset, data in iter_tfrecords(path):
            if index % _PROGRESS_EVERY == 0:
                bar.update(offset - bar.n)
            try:
                module_hash, epochs, raw_adjacency, raw_operations, metrics = _split_record(data)
                cell = cell_of_hash.get(module_hash)
                if cell is None:
                    cell = cell_of_hash[module_hash] = len(first_seen)
                    first_seen.append((raw_adjacency, raw_operations, index, offset))
                    parameters.append(-1)
                elif first_seen[cell][:2] != (raw_adjacency, raw_operations):
                    raise ValueError(
                        f"module hash {module_hash} names a different cell than in record "
                        f"{first_seen[cell][2]}"
                    )
                final, halfway, trainable_parameters = _final_and_halfway(metrics)
            except ValueError as exc:
                raise CorruptedFileError(path, offset, index, str(exc)) from None
            if parameters[cell] < 0:
                parameters[cell] = trainable_parameters
            record_cells.append(cell)
            record_epochs.append(epochs)
            values.extend(final)
            values.extend(halfway)
        bar.update(stat.st_size - bar.n)
    if not first_seen:
        raise CorruptedFileError(path, 0, 0, "the file holds no records")
    hashes = list(cell_of_hash)
    adjacency, ops, num_vertices = _check_cells(path, space, first_seen, hashes)
    epochs_list, runs = _runs_array(
        np.frombuffer(record_cells, dtype=np.int64),
        np.frombuffer(record_epochs, dtype=np.int64),
        np.frombuffer(values, dtype=np.float64).reshape(-1, len(RUN_METRICS)),
        len(first_seen),
    )
    return {
        "format": np.array(CACHE_FORMAT),
        "format_version": np.array(CACHE_VERSION),
        "source_size": np.array(stat.st_size),
        "source_mtime_ns": np.array(stat.st_mtime_ns),
        "hashes": np.array(hashes, dtype="S32"),
        "adjacency": adjacency,
        "ops": ops,
        "num_vertices": num_vertices,
        "op_names": np.array(space.op_names),
        "trainable_parameters": np.frombuffer(parameters, dtype=np.int64).copy(),
        "epochs": epochs_list,
        "run_metrics": np.array(RUN_METRICS),
        "runs": runs,
    }


_NAN4 = (float("nan"),) * 4
_PROGRESS_EVERY = 10_000  # records between progress bar updates


def _final_and_halfway(metrics: bytes) -> tuple[Sequence[float], Sequence[float], int]:
    """The final and half-way (training_time, train, validation, test accuracy) of a run.

    As the official API reads them: the last evaluation and, of the usual three
    (start, half-way, end), the second.
    """
    try:
        evaluations, trainable_parameters, _ = _decode_model_metrics(metrics)
    except ProtobufDecodeError as exc:
        raise ValueError(f"raw_metrics is not a ModelMetrics message: {exc}") from None
    if not evaluations:
        raise ValueError("ModelMetrics has no evaluation_data")
    halfway = evaluations[1][1:] if len(evaluations) == 3 else _NAN4
    return evaluations[-1][1:], halfway, trainable_parameters


@contextlib.contextmanager
def _progress_bar(enabled: bool, total: int, path: Any) -> Iterator[Any]:
    from tqdm.auto import tqdm

    bar = tqdm(
        total=total,
        unit="B",
        unit_scale=True,
        desc=f"reading {Path(path).name}",
        disable=not enabled,
        file=sys.stderr,
        leave=False,
    )
    try:
        yield bar
    finally:
        bar.close()


def _check_cells(
    path: Any, space: Any, first_seen: list[tuple[str, str, int, int]], hashes: list[str]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pack every distinct cell into arrays, validate and hash them with the space."""
    op_index = {name: i for i, name in enumerate(space.op_names)}
    parsed = []
    for raw_adjacency, raw_operations, index, offset in first_seen:
        try:
            matrix, ops = _parse_cell(raw_adjacency, raw_operations)
            unknown = [op for op in ops if op not in op_index]
            if unknown:
                raise ValueError(f"unknown op {unknown[0]!r}; the space has {space.op_names}")
        except ValueError as exc:
            raise CorruptedFileError(path, offset, index, f"invalid cell: {exc}") from None
        parsed.append((matrix, [op_index[op] for op in ops]))
    n_cells, width = len(parsed), max(len(ops) for _, ops in parsed)
    adjacency = np.zeros((n_cells, width, width), dtype=np.uint8)
    ops = np.full((n_cells, width), -1, dtype=np.int8)
    num_vertices = np.empty(n_cells, dtype=np.int8)
    for row, (matrix, ids) in enumerate(parsed):
        n = len(ids)
        adjacency[row, :n, :n] = matrix
        ops[row, :n] = ids
        num_vertices[row] = n
    try:
        computed = space.hash_arrays(adjacency, ops)
    except InvalidCellError:
        _raise_for_first_invalid(path, space, parsed, first_seen)
        raise  # pragma: no cover - the vectorised and per-cell checks disagree
    mismatch = np.flatnonzero(computed != np.asarray(hashes))
    if len(mismatch):
        _, _, index, offset = first_seen[mismatch[0]]
        raise CorruptedFileError(
            path,
            offset,
            index,
            f"module hash {hashes[mismatch[0]]} does not match its cell, whose "
            f"NAS-Bench-101 hash is {computed[mismatch[0]]}",
        )
    return adjacency, ops, num_vertices


def _raise_for_first_invalid(path: Any, space: Any, parsed: list, first_seen: list) -> None:
    for (matrix, ids), (_, _, index, offset) in zip(parsed, first_seen, strict=True):
        try:
            space.validate((matrix, ids))
        except InvalidCellError as exc:
            raise CorruptedFileError(path, offset, index, f"invalid cell: {exc}") from None


def _runs_array(
    cells: np.ndarray, epochs: np.ndarray, values: np.ndarray, n_cells: int
) -> tuple[np.ndarray, np.ndarray]:
    """Scatter per-record values into (n_cells, n_epochs, n_runs, n_metrics).

    A cell's runs at one budget are numbered in file order.
    """
    budgets, budget = np.unique(epochs, return_inverse=True)
    group = cells.astype(np.int64) * len(budgets) + budget
    order = np.argsort(group, kind="stable")
    sorted_group = group[order]
    starts = np.flatnonzero(np.r_[True, sorted_group[1:] != sorted_group[:-1]])
    sizes = np.diff(np.r_[starts, len(group)])
    run = np.empty(len(group), dtype=np.int64)
    run[order] = np.arange(len(group)) - np.repeat(starts, sizes)
    runs = np.full((n_cells, len(budgets), int(sizes.max()), values.shape[1]), np.nan, np.float32)
    runs[cells, budget, run] = values
    return budgets.astype(np.int64), runs


# -- the cache ---------------------------------------------------------------------


def _cache_candidates(source: Path) -> list[Path]:
    beside = source.with_name(source.name + CACHE_SUFFIX)
    key = hashlib.sha1(str(source.resolve()).encode()).hexdigest()[:12]
    elsewhere = get_data_home() / "cache" / f"{source.name}.{key}{CACHE_SUFFIX}"
    return [beside, elsewhere]


def _read_cache(source: Path) -> dict[str, np.ndarray] | None:
    stat = os.stat(source)
    for candidate in _cache_candidates(source):
        if not candidate.is_file():
            continue
        try:
            data = read_npz(candidate, "a NAS-Bench-101 cache")
            if (
                CACHE_FORMAT in _string(data, "format")
                and int(data["format_version"]) == CACHE_VERSION
                and int(data["source_size"]) == stat.st_size
                and int(data["source_mtime_ns"]) == stat.st_mtime_ns
            ):
                return _read_cache_arrays(data, candidate)
        except (OSError, ValueError, KeyError):
            continue  # unreadable or stale: parse the source again
    return None


def _write_cache(source: Path, arrays: dict[str, np.ndarray]) -> None:
    for candidate in _cache_candidates(source):
        try:
            candidate.parent.mkdir(parents=True, exist_ok=True)
            _save_atomically(candidate, arrays)
            return
        except OSError:
            continue
    warnings.warn(
        f"could not write a cache for {source}; the next load parses it again",
        RuntimeWarning,
        stacklevel=3,
    )


def _save_atomically(path: Path, arrays: dict[str, np.ndarray]) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(temporary, "wb") as file:
            np.savez(file, **arrays)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def _read_cache_arrays(data: Any, path: Path) -> dict[str, np.ndarray]:
    if int(data["format_version"]) != CACHE_VERSION:
        raise ValueError(
            f"{path} is a skassess NAS-Bench-101 file of format version "
            f"{int(data['format_version'])}; this version reads {CACHE_VERSION}. "
            "Convert the TFRecord file again."
        )
    return dict(data)


# -- building the Benchmark ----------------------------------------------------------


def _from_run_arrays(arrays: dict[str, np.ndarray], epochs: int) -> Benchmark:
    from skassess.spaces import NASBench101

    space = NASBench101()
    runs = RunTable(arrays["runs"], arrays["epochs"].tolist(), arrays["run_metrics"].tolist())
    if int(epochs) not in runs.epochs:
        raise ValueError(
            f"epochs must be one of the file's budgets {list(runs.epochs)}, got {epochs}"
        )
    metrics = {
        name: runs.mean(name, epochs)
        for name in ("test_accuracy", "validation_accuracy", "train_accuracy", "training_time")
    }
    metrics["trainable_parameters"] = arrays["trainable_parameters"]
    for other in runs.epochs:
        if other != int(epochs):
            metrics[f"validation_accuracy_{other}ep"] = runs.mean("validation_accuracy", other)
    cells = cells_from_arrays(
        arrays["adjacency"], arrays["ops"], arrays["num_vertices"], arrays["op_names"]
    )
    return Benchmark(
        NAME, space, cells, metrics, "test_accuracy", hashes=arrays["hashes"].astype(str), runs=runs
    )


def _from_table(data: Any, path: Path) -> Benchmark:
    from skassess.spaces import NASBench101

    required = ("hashes", "adjacency", "ops", "op_names", "num_vertices", "test_acc")
    missing = [key for key in required if key not in data]
    if missing:
        raise ValueError(
            f"{path} is neither an official NAS-Bench-101 file nor a table of it: "
            f"missing arrays {missing}"
        )
    space = NASBench101()
    op_names = data["op_names"]
    if tuple(op_names.tolist()) != tuple(space.op_names):
        raise ValueError(f"{path}: op_names {op_names.tolist()} differ from {space.op_names}")
    cells = cells_from_arrays(data["adjacency"], data["ops"], data["num_vertices"], op_names)
    metrics = {name: data[key] for key, name in _TABLE_METRICS.items() if key in data}
    return Benchmark(
        NAME, space, cells, metrics, "test_accuracy", hashes=data["hashes"].astype(str)
    )


def cells_from_arrays(
    adjacency: np.ndarray, ops: np.ndarray, num_vertices: np.ndarray, op_names: Any
) -> list[Cell]:
    """Cells from padded arrays, checked as a whole, then built without per-cell checks.

    Checks: 0/1 upper-triangular matrices with zero padding, op ids in range
    with -1 padding, ``input`` first and ``output`` last.
    """
    adjacency = np.asarray(adjacency)
    ops = np.asarray(ops)
    num_vertices = np.asarray(num_vertices).astype(np.int64)
    op_names = [str(name) for name in np.asarray(op_names).tolist()]
    n_cells, width = ops.shape
    if adjacency.shape != (n_cells, width, width) or num_vertices.shape != (n_cells,):
        raise ValueError(
            f"inconsistent shapes: adjacency {adjacency.shape}, ops {ops.shape}, "
            f"num_vertices {num_vertices.shape}"
        )
    position = np.arange(width)
    inside = position[None, :] < num_vertices[:, None]
    inside_pair = inside[:, :, None] & inside[:, None, :]
    upper = np.triu(np.ones((width, width), dtype=bool), k=1)
    bad_matrix = ((adjacency != 0) & ~(inside_pair & upper)) | (adjacency > 1)
    bad_ops = np.where(inside, (ops < 0) | (ops >= len(op_names)), ops != -1)
    rows = np.arange(n_cells)
    last = num_vertices - 1
    ends_ok = (num_vertices >= 2) & (num_vertices <= width)
    ends_ok &= ops[:, 0] == op_names.index("input")
    ends_ok &= ops[rows, np.clip(last, 0, width - 1)] == op_names.index("output")
    bad = bad_matrix.any(axis=(1, 2)) | bad_ops.any(axis=1) | ~ends_ok
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"row {row} is not a valid cell: adjacency {adjacency[row].tolist()}, "
            f"ops {ops[row].tolist()}, num_vertices {num_vertices[row]}"
        )
    # Cells are immutable, so cells with equal matrices (or op lists) share one
    # read-only array (tuple): NAS-Bench-101's 423,624 cells have only a few
    # thousand distinct matrices, and building them is then mostly a loop of
    # Cell._trusted calls.
    cells: list[Cell | None] = [None] * n_cells
    with _gc_paused():  # a collection per few hundred new cells would double the time
        _fill_cells(cells, adjacency, ops, num_vertices, op_names)
    return cells


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _fill_cells(
    cells: list, adjacency: np.ndarray, ops: np.ndarray, num_vertices: np.ndarray, op_names: list
) -> None:
    for n in np.unique(num_vertices).tolist():
        members = np.flatnonzero(num_vertices == n)
        flat = adjacency[members, :n, :n].reshape(len(members), n * n)
        first, which_matrix = _distinct_rows(np.packbits(flat.astype(np.uint8), axis=1))
        matrices = [_read_only(flat[i].reshape(n, n)) for i in first.tolist()]
        op_rows = ops[members, :n]
        first, which_ops = _distinct_rows(op_rows)
        names = [tuple(op_names[i] for i in op_rows[k].tolist()) for k in first.tolist()]
        for row, m, o in zip(
            members.tolist(), which_matrix.tolist(), which_ops.tolist(), strict=True
        ):
            cells[row] = Cell._trusted(matrices[m], names[o])


def _distinct_rows(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index of the first occurrence of each distinct row, and each row's distinct id."""
    rows = np.ascontiguousarray(rows)
    width = rows.dtype.itemsize * rows.shape[1]
    if width <= 8:  # one integer key per row: far faster to sort than rows
        padded = np.zeros((len(rows), 8), dtype=np.uint8)
        padded[:, :width] = rows.view(np.uint8).reshape(len(rows), width)
        keys = padded.view(np.uint64).ravel()
    else:
        keys = rows.view(np.dtype((np.void, width))).ravel()
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    return first, inverse.ravel()


def _read_only(matrix: np.ndarray) -> np.ndarray:
    matrix = np.array(matrix, dtype=np.uint8, order="C")
    matrix.flags.writeable = False
    return matrix


def _string(data: Any, key: str) -> str:
    return str(data[key]) if key in data else ""
