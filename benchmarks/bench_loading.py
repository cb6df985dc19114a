"""Speed of the benchmark loaders of :mod:`skassess.datasets`.

Every measurement runs in a fresh Python process (imports done before the clock
starts), ``--repeats`` times; the tables report the median and the range.

- ``nb101_table``: ``load_nasbench101`` on the shared 423,624-cell table
  (``nasbench101.npz``); ``nb101_table_query``: the first ``query`` of 1,000
  random cells given in another vertex order (builds the hash index), then a
  second one.
- ``nb101_tfrecord_parse``: parsing a synthetic file in the official
  NAS-Bench-101 TFRecord format written by this script (``--records`` records:
  distinct cells x 4 epoch budgets x 3 runs), without cache, in records per
  second, with the time this rate implies for the official files
  (``nasbench_only108``: 1,270,872 records; ``nasbench_full``: 5,083,488);
  ``nb101_tfrecord_cached``: loading the same file again from its cache.
- ``nb101_hash_all``: validating and hashing all 423,624 cells, which parsing
  a real official file does once (the synthetic file has far fewer distinct
  cells); one run.
- ``nb201_table``: ``load_nasbench201`` on the shared 15,625-cell table.
- ``nbgraph_cora``: ``load_nasbench_graph("cora")`` (26,206 architectures).

Usage::

    python benchmarks/bench_loading.py             # 20,000 records, 3 repeats
    python benchmarks/bench_loading.py --quick     # 2,400 records, 1 repeat

Writes ``benchmarks/results/bench_loading.json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SHARED = Path(os.environ.get("SKASSESS_SHARED_DATA", ROOT.parent / "shared" / "data"))
RESULTS = ROOT / "benchmarks" / "results"
OFFICIAL_RECORDS = {"nasbench_only108": 423_624 * 3, "nasbench_full": 423_624 * 3 * 4}

# Each snippet runs in a fresh interpreter and prints a JSON dict of seconds.
SNIPPETS = {
    "nb101_table": """
from skassess.datasets import load_nasbench101
t = time.perf_counter(); bench = load_nasbench101(ARG); out["load"] = time.perf_counter() - t
out["n_cells"] = len(bench)
""",
    "nb101_table_query": """
from skassess.datasets import load_nasbench101
bench = load_nasbench101(ARG)
rows = np.random.default_rng(0).choice(len(bench), 1000, replace=False)
cells = [reorder(bench.cells[r]) for r in rows]
t = time.perf_counter(); first = bench.query(cells); out["first_query"] = time.perf_counter() - t
t = time.perf_counter(); again = bench.query(cells); out["next_query"] = time.perf_counter() - t
assert (first == bench.y[rows]).all() and (again == first).all()
""",
    "nb101_tfrecord_parse": """
from skassess.datasets import load_nasbench101
t = time.perf_counter(); bench = load_nasbench101(ARG, cache=False)
out["load"] = time.perf_counter() - t
""",
    "nb101_tfrecord_cached": """
from skassess.datasets import load_nasbench101
t = time.perf_counter(); bench = load_nasbench101(ARG); out["load"] = time.perf_counter() - t
""",
    "nb101_hash_all": """
from skassess.spaces import NASBench101
with np.load(ARG) as data:
    adjacency, ops, stored = data["adjacency"], data["ops"], data["hashes"].astype(str)
t = time.perf_counter(); hashes = NASBench101().hash_arrays(adjacency, ops)
out["hash"] = time.perf_counter() - t
assert (hashes == stored).all()
""",
    "nb201_table": """
from skassess.datasets import load_nasbench201
t = time.perf_counter(); bench = load_nasbench201(ARG); out["load"] = time.perf_counter() - t
out["n_cells"] = len(bench)
""",
    "nbgraph_cora": """
from skassess.datasets import load_nasbench_graph
t = time.perf_counter(); bench = load_nasbench_graph("cora"); out["load"] = time.perf_counter() - t
out["n_cells"] = len(bench)
""",
}

PRELUDE = """
import json, sys, time
import numpy as np
from skassess import Cell
ARG = sys.argv[1]
out = {}

def reorder(cell):
    # the same graph, inner vertices reversed where that stays topological
    n = cell.n_vertices
    order = [0, *sorted(range(1, n - 1), key=lambda v: -v), n - 1]
    matrix = cell.matrix[np.ix_(order, order)]
    if np.tril(matrix).any():
        return cell
    return Cell(matrix, [cell.ops[v] for v in order])
"""


def run_snippet(name: str, argument: str) -> dict:
    code = PRELUDE + SNIPPETS[name] + "\nprint(json.dumps(out))\n"
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(ROOT))
    done = subprocess.run(
        [sys.executable, "-c", code, argument], capture_output=True, text=True, env=env
    )
    if done.returncode != 0:
        return {"error": done.stderr.strip().splitlines()[-1]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def write_synthetic_file(path: Path, n_records: int) -> int:
    """An official-format file: distinct NAS-Bench-101 cells x 4 budgets x 3 runs."""
    from skassess.datasets import make_record, write_records
    from skassess.spaces import NASBench101

    space = NASBench101()
    n_cells = max(1, n_records // 12)
    cells, hashes, seed = [], set(), 0
    while len(cells) < n_cells:
        batch = space.sample(2 * n_cells, random_state=seed)
        for cell, key in zip(batch, space.hash_many(batch), strict=True):
            if key not in hashes and len(cells) < n_cells:
                hashes.add(key)
                cells.append((cell, key))
        seed += 1
    rng = np.random.default_rng(0)
    records = [
        make_record(
            cell,
            epochs,
            [epochs * 15.0 + run, *rng.uniform(0.8, 0.95, size=3)],
            module_hash=key,
            trainable_parameters=int(rng.integers(200_000, 30_000_000)),
            total_time=epochs * 16.0,
        )
        for epochs in (4, 12, 36, 108)
        for cell, key in cells
        for run in range(3)
    ]
    return write_records(path, records)


def summarise(samples: list[dict]) -> dict:
    errors = [s["error"] for s in samples if "error" in s]
    if errors:
        return {"error": errors[0]}
    keys = [k for k in samples[0] if isinstance(samples[0][k], float)]
    summary = {}
    for key in keys:
        values = np.array([s[key] for s in samples])
        summary[key] = {
            "median_s": float(np.median(values)),
            "min_s": float(values.min()),
            "max_s": float(values.max()),
            "runs_s": values.tolist(),
        }
    for key, value in samples[0].items():
        if not isinstance(value, float):
            summary[key] = value
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=20_004)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="2,400 records, 1 repeat")
    args = parser.parse_args(argv)
    if args.quick:
        args.records, args.repeats = 2_400, 1

    results: dict = {
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "load_average_at_start": os.getloadavg(),
        },
        "repeats": args.repeats,
        "measurements": {},
    }
    work = Path(tempfile.mkdtemp(prefix="bench_loading_"))
    synthetic = work / "nasbench_synthetic.tfrecord"
    t = time.perf_counter()
    n_written = write_synthetic_file(synthetic, args.records)
    results["synthetic_file"] = {
        "records": n_written,
        "bytes": synthetic.stat().st_size,
        "write_s": time.perf_counter() - t,
    }

    plan = [
        ("nb101_table", str(SHARED / "nasbench101.npz")),
        ("nb101_table_query", str(SHARED / "nasbench101.npz")),
        ("nb101_tfrecord_parse", str(synthetic)),
        ("nb101_tfrecord_cached", str(synthetic)),
        ("nb101_hash_all", str(SHARED / "nasbench101.npz")),
        ("nb201_table", str(SHARED / "nasbench201.npz")),
        ("nbgraph_cora", "cora"),
    ]
    for name, argument in plan:
        if name == "nb101_hash_all" and args.quick:
            continue
        if name == "nb101_tfrecord_cached":
            run_snippet("nb101_tfrecord_cached", argument)  # writes the cache
        repeats = 1 if name == "nb101_hash_all" else args.repeats  # minutes, and not ours
        samples = [run_snippet(name, argument) for _ in range(repeats)]
        results["measurements"][name] = summarise(samples)
        print(f"{name}: {results['measurements'][name]}", file=sys.stderr)

    shutil.rmtree(work, ignore_errors=True)
    parse = results["measurements"]["nb101_tfrecord_parse"]
    if "load" in parse:
        rate = n_written / parse["load"]["median_s"]
        parse["records_per_s"] = rate
        parse["implied_s"] = {name: count / rate for name, count in OFFICIAL_RECORDS.items()}
        hashing = results["measurements"].get("nb101_hash_all", {}).get("hash")
        if hashing:  # a real file has 423,624 distinct cells to validate and hash once
            parse["implied_with_hashing_s"] = {
                name: seconds + hashing["median_s"] for name, seconds in parse["implied_s"].items()
            }

    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "bench_loading.json").write_text(json.dumps(results, indent=2) + "\n")
    (RESULTS / "bench_loading.md").write_text(markdown(results))
    print((RESULTS / "bench_loading.md").read_text())
    return 0


def markdown(results: dict) -> str:
    m = results["measurements"]
    lines = [
        "# Loading speed (skassess.datasets)",
        "",
        f"{results['repeats']} repeat(s), each in a fresh process; median [min-max] seconds. "
        f"Machine: {results['machine']['cpus']} CPUs, load average at start "
        f"{', '.join(f'{x:.1f}' for x in results['machine']['load_average_at_start'])} "
        "(shared machine: timings include contention).",
        "",
        "| measurement | what | seconds |",
        "|---|---|---|",
    ]
    what = {
        ("nb101_table", "load"): "load_nasbench101(shared 423,624-cell table)",
        ("nb101_table_query", "first_query"): "first query of 1,000 relabelled cells (index)",
        ("nb101_table_query", "next_query"): "next query of the same 1,000 cells",
        ("nb101_tfrecord_parse", "load"): (
            f"parse {results['synthetic_file']['records']:,}-record official-format file"
        ),
        ("nb101_tfrecord_cached", "load"): "load the same file from its .npz cache",
        ("nb101_hash_all", "hash"): "validate + hash all 423,624 cells (NASBench101.hash_arrays)",
        ("nb201_table", "load"): "load_nasbench201(shared 15,625-cell table)",
        ("nbgraph_cora", "load"): "load_nasbench_graph('cora'), 26,206 architectures",
    }
    for (name, key), text in what.items():
        entry = m.get(name, {})
        if "error" in entry:
            cell = f"error: {entry['error']}"
        elif key in entry:
            e = entry[key]
            cell = f"{e['median_s']:.3f} [{e['min_s']:.3f}-{e['max_s']:.3f}]"
        else:
            cell = "n/a"
        lines.append(f"| {name} | {text} | {cell} |")
    parse = m.get("nb101_tfrecord_parse", {})
    if "records_per_s" in parse:
        implied = parse["implied_s"]
        lines += [
            "",
            f"TFRecord parse throughput: {parse['records_per_s']:,.0f} records/s, which "
            f"implies about {implied['nasbench_only108']:.0f} s for nasbench_only108 "
            f"(1,270,872 records) and {implied['nasbench_full']:.0f} s for nasbench_full "
            "(5,083,488 records), once; later loads read the cache.",
        ]
        if "implied_with_hashing_s" in parse:
            with_hashing = parse["implied_with_hashing_s"]
            lines.append(
                "With the validation and hashing of the 423,624 distinct cells of a real file: "
                f"about {with_hashing['nasbench_only108']:.0f} s and "
                f"{with_hashing['nasbench_full']:.0f} s."
            )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
