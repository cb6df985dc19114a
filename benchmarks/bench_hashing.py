"""Speed of the canonical cell hashes of :mod:`skassess.spaces`.

- ``nb101_arrays``: ``NASBench101().hash_arrays`` on the packed arrays of the
  shared table (all 423,624 cells, or ``--n-cells``), validation and pruning
  included; every hash is checked against the official one stored there.
- ``nb101_cells``: ``NASBench101().hash_many`` on the same cells as
  :class:`skassess.Cell` objects, each given in a random other order of its
  inner vertices (so the hash must be isomorphism-invariant to match).
- ``nb101_single``: ``NASBench101().hash`` one cell at a time, on 2,000 cells
  (its cache of recent hashes emptied first).
- ``nb201_all``: ``NASBench201().hash_many`` on the 15,625 architectures.
- ``nbgraph_all``: ``NASBenchGraph().hash_many`` on its 26,206 architectures.

Each measurement is repeated ``--repeats`` times; the tables give the median
wall-clock and CPU seconds and the throughput in cells per second. The CPU time
is the honest figure on a shared machine; the wall-clock time is what a user
waits on an idle one.

Usage::

    python benchmarks/bench_hashing.py            # all cells, 3 repeats
    python benchmarks/bench_hashing.py --quick    # 50,000 cells, 1 repeat

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
from skassess.spaces._base import _HASH_CACHE  # noqa: E402


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
    space = NASBench101()
    cells = reordered_cells(adjacency, ops, sizes, space.op_names, np.random.default_rng(1))

    results = {}

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

    def matches(result):
        assert (np.asarray(result) == official).all(), "hash differs from the official one"

    def matches_first(result):
        assert (np.asarray(result) == official[: len(result)]).all(), "hash differs"

    def distinct(result):
        assert len(set(result.tolist())) == len(result), "two architectures share a key"

    record("nb101_arrays", len(ops), lambda: space.hash_arrays(adjacency, ops), matches)
    record("nb101_cells", len(cells), lambda: space.hash_many(cells), matches)
    few = cells[:2000]

    def one_by_one():
        _HASH_CACHE.clear()  # measure hashing, not the cache of recent hashes
        return [space.hash(c) for c in few]

    record("nb101_single", len(few), one_by_one, matches_first)
    nb201 = NASBench201()
    nb201_cells = nb201.enumerate()
    record("nb201_all", len(nb201_cells), lambda: nb201.hash_many(nb201_cells), lambda r: None)
    graph = NASBenchGraph()
    graph_cells = graph.enumerate()
    record("nbgraph_all", len(graph_cells), lambda: graph.hash_many(graph_cells), distinct)

    meta = {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "load_average": os.getloadavg() if hasattr(os, "getloadavg") else None,
        "repeats": repeats,
        "quick": args.quick,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "hashing.json").write_text(json.dumps({"meta": meta, "results": results}, indent=2))
    lines = [
        "# Canonical hashing speed",
        "",
        f"Median of {repeats} run(s); Python {meta['python']}, numpy {meta['numpy']}, "
        f"{meta['cpu_count']} CPUs, load average {meta['load_average']} at the end.",
        "",
        "| measurement | cells | wall s | CPU s | cells/s (CPU) | us/cell (CPU) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, r in results.items():
        lines.append(
            f"| {name} | {r['n_cells']:,} | {r['wall_s']} | {r['cpu_s']} | "
            f"{r['cells_per_s_cpu']:,} | {r['us_per_cell_cpu']} |"
        )
    (RESULTS / "hashing.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
