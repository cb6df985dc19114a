"""Speed of the canonical cell hashes of :mod:`skassess.spaces`, cold and warm.

- ``nb101_arrays``: ``NASBench101().hash_arrays`` on the packed arrays of the
  shared table (all 423,624 cells, or ``--n-cells``), validation and pruning
  included; every hash is checked against the official one stored there.
- ``nb101_cells``: ``NASBench101().hash_many`` on the same cells as
  :class:`skassess.Cell` objects, each given in a random other order of its
  inner vertices (so the hash must be isomorphism-invariant to match).
- ``nb101_single``: ``NASBench101().hash`` one cell at a time, on 2,000 cells.
- ``nb201_all``: ``NASBench201().hash_many`` on the 15,625 architectures.
- ``nbgraph_all``: ``NASBenchGraph().hash_many`` on its 26,206 architectures.

"Cold" runs use a new space each time, so nothing is cached; "warm" runs ask
the same space again about the same cells, which it answers from its bounded
cache of hashes (``hash_arrays`` has no cache: arrays are hashed every time).
``--baseline`` also times the hashing of the commit before this work
(``git show d16615d:skassess/spaces/_hashing.py``, its ``module_hashes`` per
cell size on the pruned table) in the same run, for a like-for-like ratio on a
machine shared with other work.

Each measurement is repeated ``--repeats`` times; the tables give the median
wall-clock and CPU seconds and the throughput in cells per second. The CPU time
is the honest figure on a shared machine; the wall-clock time is what a user
waits on an idle one.

Usage::

    python benchmarks/bench_hashing.py               # all cells, 3 repeats
    python benchmarks/bench_hashing.py --baseline    # and the old code, same run
    python benchmarks/bench_hashing.py --quick       # 50,000 cells, 1 repeat

Writes ``benchmarks/results/hashing.json`` and ``hashing.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SHARED = Path(os.environ.get("SKASSESS_SHARED_DATA", ROOT.parent / "shared" / "data"))
RESULTS = ROOT / "benchmarks" / "results"

from skassess import Cell  # noqa: E402
from skassess.spaces import NASBench101, NASBench201, NASBenchGraph  # noqa: E402
from skassess.spaces._hashing import module_hashes  # noqa: E402

BASELINE_COMMIT = "d16615d"


def baseline_module():
    """The hashing module of BASELINE_COMMIT, imported from git."""
    import importlib.util
    import subprocess
    import tempfile

    text = subprocess.run(
        ["git", "-C", str(ROOT), "show", f"{BASELINE_COMMIT}:skassess/spaces/_hashing.py"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    path = Path(tempfile.mkdtemp()) / "hashing_before.py"
    path.write_text(text)
    spec = importlib.util.spec_from_file_location("hashing_before", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def timed(function, repeats):
    """Median wall and CPU seconds of ``repeats`` calls, and the last result."""
    walls, cpus = [], []
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        result = function()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return float(np.median(walls)), float(np.median(cpus)), [round(w, 3) for w in walls], result


def reordered_cells(adjacency, ops, sizes, names, rng):
    """Cells of the table, each in a random topological order of its vertices."""
    cells = []
    for matrix, ids, n in zip(adjacency, ops, sizes.tolist(), strict=True):
        matrix = matrix[:n, :n]
        order = [0, *(1 + rng.permutation(n - 2)).tolist(), n - 1]
        permuted = matrix[np.ix_(order, order)]
        # keep the matrix upper-triangular: sort the permuted graph topologically
        order2 = topological(permuted)
        permuted = np.ascontiguousarray(permuted[np.ix_(order2, order2)])
        cells.append(Cell(permuted, [names[ids[order[k]]] for k in order2]))
    return cells


def topological(matrix):
    n = matrix.shape[0]
    indegree = matrix.sum(axis=0).astype(int)
    ready, order = [0], []
    while ready:
        v = ready.pop()
        order.append(v)
        for w in np.flatnonzero(matrix[v]).tolist():
            indegree[w] -= 1
            if indegree[w] == 0:
                ready.append(w)
    assert len(order) == n
    return order


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="50,000 cells, 1 repeat")
    parser.add_argument("--n-cells", type=int, default=None, help="NAS-Bench-101 cells to hash")
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument("--baseline", action="store_true", help="time the previous hashing too")
    args = parser.parse_args(argv)
    repeats = args.repeats or (1 if args.quick else 3)
    n_cells = args.n_cells or (50_000 if args.quick else None)

    path = SHARED / "nasbench101.npz"
    if not path.is_file():
        sys.exit(f"{path} not found; set SKASSESS_SHARED_DATA")
    with np.load(path) as data:
        adjacency, ops = data["adjacency"], data["ops"]
        sizes, official = data["num_vertices"], data["hashes"].astype(str)
    if n_cells is not None:
        rows = np.sort(np.random.default_rng(0).choice(len(ops), n_cells, replace=False))
        adjacency, ops, sizes, official = adjacency[rows], ops[rows], sizes[rows], official[rows]
    names = NASBench101().op_names
    cells = reordered_cells(adjacency, ops, sizes, names, np.random.default_rng(1))

    results = {}
    meta = {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "load_average_start": os.getloadavg() if hasattr(os, "getloadavg") else None,
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
        "repeats": repeats,
        "quick": args.quick,
        "command": "python benchmarks/bench_hashing.py"
        + "".join(f" {a}" for a in (argv or sys.argv[1:])),
    }

    def record(name, n, function, check):
        wall, cpu, walls, result = timed(function, repeats)
        check(result)
        results[name] = {
            "n_cells": n,
            "wall_s": round(wall, 3),
            "cpu_s": round(cpu, 3),
            "wall_runs_s": walls,
            "cells_per_s_cpu": round(n / cpu),
            "us_per_cell_cpu": round(1e6 * cpu / n, 2),
        }
        print(name, results[name], flush=True)
        write_results(results, meta)

    def matches(result):
        assert (np.asarray(result) == official).all(), "hash differs from the official one"

    def matches_first(result):
        assert (np.asarray(result) == official[: len(result)]).all(), "hash differs"

    def distinct(result):
        assert len(set(result.tolist())) == len(result), "two architectures share a key"

    record("nb101_arrays", len(ops), lambda: NASBench101().hash_arrays(adjacency, ops), matches)
    record("nb101_cells_cold", len(cells), lambda: NASBench101().hash_many(cells), matches)
    warm = NASBench101()
    warm.hash_many(cells)
    record("nb101_cells_warm", len(cells), lambda: warm.hash_many(cells), matches)
    few = cells[:2000]

    def one_by_one():
        space = NASBench101()  # a new space: nothing cached
        return [space.hash(c) for c in few]

    record("nb101_single_cold", len(few), one_by_one, matches_first)
    record("nb101_single_warm", len(few), lambda: [warm.hash(c) for c in few], matches_first)
    nb201_cells = NASBench201().enumerate()
    record(
        "nb201_all", len(nb201_cells), lambda: NASBench201().hash_many(nb201_cells), lambda r: None
    )
    graph_cells = NASBenchGraph().enumerate()
    record(
        "nbgraph_all", len(graph_cells), lambda: NASBenchGraph().hash_many(graph_cells), distinct
    )
    if args.baseline:
        old = baseline_module()
        labels = np.array([-1, 1, 0, 2, -2])[np.maximum(ops, 0)]  # canonical op labels

        def old_hashes():
            hashes = np.empty(len(ops), dtype="<U32")
            for size in np.unique(sizes).tolist():
                rows = np.flatnonzero(sizes == size)
                block = adjacency[rows][:, :size, :size]
                hashes[rows] = old.module_hashes(block, labels[rows][:, :size])
            return hashes

        def new_hashes():
            return module_hashes(adjacency, labels, sizes)

        record("module_hashes_before", len(ops), old_hashes, matches)
        record("module_hashes_now", len(ops), new_hashes, matches)
    print(write_results(results, meta))


def write_results(results: dict, meta: dict) -> str:
    """Write ``hashing.json`` and ``hashing.md``; the Markdown text.

    Called after every measurement, so that an interrupted run keeps what it measured.
    """
    meta = {**meta, "load_average": os.getloadavg() if hasattr(os, "getloadavg") else None}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "hashing.json").write_text(json.dumps({"meta": meta, "results": results}, indent=2))
    lines = [
        "# Canonical hashing speed",
        "",
        f"Median of {meta['repeats']} run(s); Python {meta['python']}, numpy {meta['numpy']}, "
        f"{meta['cpu_count']} CPUs. One core: the hashing is single-threaded numpy "
        f"(OMP_NUM_THREADS={meta['omp_num_threads']}). The machine is shared with other "
        f"jobs (load average {_load(meta['load_average_start'])} at the start, "
        f"{_load(meta['load_average'])} at the end), which slows every run and inflates even "
        "CPU seconds (caches and cores are shared): compare rows of one run, or CPU seconds, "
        "rather than wall seconds across runs.",
        f"Command: `{meta['command']}`. Every NAS-Bench-101 result was checked against the "
        "official hashes of the shared table.",
        "",
        "| measurement | cells | wall s | CPU s | cells/s (CPU) | us/cell (CPU) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, r in results.items():
        lines.append(
            f"| {name} | {r['n_cells']:,} | {r['wall_s']} | {r['cpu_s']} | "
            f"{r['cells_per_s_cpu']:,} | {r['us_per_cell_cpu']} |"
        )
    lines += [f"\n{note}" for note in meta.get("notes", [])]
    text = "\n".join(lines) + "\n"
    (RESULTS / "hashing.md").write_text(text)
    return text


def _load(average) -> str:
    return "unknown" if average is None else "/".join(f"{value:.1f}" for value in average)


if __name__ == "__main__":
    main()
