"""Speed and recall of the inverted-file kNN index against the exact blockwise search.

Data: every NAS-Bench-101 cell (423,624, or ``--n-rows``) embedded by an
``ArchitectureEmbedder`` trained for one epoch on 20,000 cells (float32, 32
dimensions), the shape of the assessor's pool embeddings.

- ``graph``: :class:`skassess.utils.neighbors.InvertedFileIndex` ``fit`` then
  ``kneighbors(n_neighbors=10)`` over all rows, for several ``n_probe`` and
  k-means seeds; recall@10 against the exact neighbours of ``--recall-sample``
  rows (exact search via ``attach(X[sample], X, 11)``, self dropped).
- ``attach``: ``kneighbors(X_new)`` throughput for new queries against an
  index of 10,000 rows and one of all rows.
- ``exact``: :func:`skassess.assessor._graph.knn_graph` on a 50,000-row subset
  and ``attach`` for the recall sample against all rows (the full exact graph
  would take tens of CPU minutes).

Times are CPU seconds of one torch thread (``time.process_time``): the honest
figure on a shared machine. Run with ``OMP_NUM_THREADS=1``.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/bench_neighbors.py
    OMP_NUM_THREADS=1 python benchmarks/bench_neighbors.py --quick   # 50,000 rows

Writes ``benchmarks/results/neighbors.json`` and ``neighbors.md``.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from skassess.neighbors import InvertedFileIndex, attach, knn_graph, recall  # noqa: E402

DATA = ROOT / ".." / "shared" / "data" / "nasbench101.npz"
K = 10


def embeddings(n_rows: int | None) -> np.ndarray:
    """All NAS-Bench-101 cells embedded by a briefly trained, seeded embedder."""
    from skassess.assessor import ArchitectureEmbedder
    from skassess.datasets import load_nasbench101

    bench = load_nasbench101(str(DATA))
    cells = bench.cells if n_rows is None else bench.cells[:n_rows]
    embedder = ArchitectureEmbedder(space=bench.space, max_iter=1, random_state=0)
    X = embedder.fit(cells[:20_000]).transform(cells)
    return np.ascontiguousarray(X, dtype=np.float32)


def cpu_seconds(function):
    start = time.process_time()
    result = function()
    return result, time.process_time() - start


def exact_sample(X: np.ndarray, sample: np.ndarray) -> tuple[np.ndarray, float]:
    """Exact 10 nearest other rows of the sample rows, and the CPU seconds it took."""
    (indices, _), seconds = cpu_seconds(lambda: attach(X[sample], X, K + 1))
    # drop each row itself (a duplicate of it stays, as in kneighbors())
    keep = indices != sample[:, None]
    keep[keep.sum(axis=1) > K, -1] = False
    return indices[keep].reshape(len(sample), K), seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-rows", type=int, default=None, help="first rows only (all)")
    parser.add_argument("--quick", action="store_true", help="50,000 rows, one seed")
    parser.add_argument("--n-probe", type=int, nargs="+", default=[4, 6, 8, 12])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--recall-sample", type=int, default=2000)
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "neighbors"))
    args = parser.parse_args()
    if args.quick:
        args.n_rows, args.seeds = 50_000, [0]
    if not DATA.exists():
        print(f"skipped: {DATA} not found")
        return
    torch.set_num_threads(1)
    command = "OMP_NUM_THREADS=1 python benchmarks/bench_neighbors.py " + " ".join(sys.argv[1:])
    X, embed_seconds = cpu_seconds(lambda: embeddings(args.n_rows))
    print(f"{len(X)} rows x {X.shape[1]} embedded in {embed_seconds:.0f} CPU s", flush=True)
    sample = np.sort(np.random.RandomState(0).choice(len(X), args.recall_sample, replace=False))
    exact, exact_seconds = exact_sample(X, sample)
    results: dict = {
        "command": command,
        "machine": f"{platform.machine()}, torch threads {torch.get_num_threads()}",
        "n_rows": len(X),
        "n_features": X.shape[1],
        "n_neighbors": K,
        "recall_sample": len(sample),
        "exact": {"attach_sample_seconds": exact_seconds},
        "graph": [],
        "attach": [],
    }
    subset = X[:50_000]
    _, seconds = cpu_seconds(lambda: knn_graph(subset, K))
    results["exact"]["knn_graph_50000_seconds"] = seconds
    results["exact"]["attach_queries_per_second"] = len(sample) / exact_seconds
    print(f"exact: attach {exact_seconds:.1f} s, 50,000-row graph {seconds:.1f} s", flush=True)

    for n_probe in args.n_probe:
        for seed in args.seeds:
            index = InvertedFileIndex(n_probe=n_probe, random_state=seed)
            _, fit_seconds = cpu_seconds(lambda index=index: index.fit(X))
            (indices, _), graph_seconds = cpu_seconds(lambda index=index: index.kneighbors())
            row = {
                "n_probe": n_probe,
                "seed": seed,
                "n_lists": index.n_lists_,
                "fit_seconds": fit_seconds,
                "graph_seconds": graph_seconds,
                "recall": recall(indices[sample], exact),
            }
            results["graph"].append(row)
            print(row, flush=True)

    new = X[sample] + np.float32(0.01)
    for n_index in (10_000, len(X)):
        for n_probe in args.n_probe:
            index = InvertedFileIndex(n_probe=n_probe, random_state=0).fit(X[:n_index])
            queries = np.concatenate([new] * max(1, 20_000 // len(new)))
            index.kneighbors(queries[:100])  # builds the search cache
            _, seconds = cpu_seconds(lambda index=index, q=queries: index.kneighbors(q))
            row = {
                "n_index": n_index,
                "n_probe": n_probe,
                "queries": len(queries),
                "queries_per_second": len(queries) / seconds,
            }
            results["attach"].append(row)
            print(row, flush=True)

    out = Path(args.out)
    out.with_suffix(".json").write_text(json.dumps(results, indent=2) + "\n")
    out.with_suffix(".md").write_text(markdown(results))
    print(f"wrote {out}.json and .md")


def markdown(results: dict) -> str:
    lines = [
        "# Inverted-file kNN index vs exact search (NAS-Bench-101 embeddings)",
        "",
        results["command"],
        "",
        f"{results['n_rows']:,} rows x {results['n_features']} (float32); {results['machine']}; "
        f"CPU seconds; recall@{results['n_neighbors']} on {results['recall_sample']:,} rows "
        "against exact search. Mean (min-max) over k-means seeds.",
        "",
        "| n_probe | n_lists | fit (s) | graph (s) | fit + graph (s) | recall@10 |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    by_probe: dict[int, list] = {}
    for row in results["graph"]:
        by_probe.setdefault(row["n_probe"], []).append(row)

    def spread(values: list[float], digits: int) -> str:
        return f"{np.mean(values):.{digits}f} ({min(values):.{digits}f}-{max(values):.{digits}f})"

    for n_probe, rows in by_probe.items():
        fit = [r["fit_seconds"] for r in rows]
        graph = [r["graph_seconds"] for r in rows]
        total = [f + g for f, g in zip(fit, graph, strict=True)]
        lines.append(
            f"| {n_probe} | {rows[0]['n_lists']} | {spread(fit, 1)} | {spread(graph, 1)} | "
            f"{spread(total, 1)} | {spread([r['recall'] for r in rows], 4)} |"
        )
    exact = results["exact"]
    lines += [
        "",
        f"Exact (`knn_graph`) on the first 50,000 rows: {exact['knn_graph_50000_seconds']:.1f} s; "
        f"exact `attach` of the {results['recall_sample']:,} sample rows against all rows: "
        f"{exact['attach_sample_seconds']:.1f} s "
        f"({exact['attach_queries_per_second']:,.0f} queries/s).",
        "",
        "New queries (`kneighbors(X_new)`, 10 neighbours):",
        "",
        "| indexed rows | n_probe | queries/s |",
        "|---:|---:|---:|",
    ]
    for row in results["attach"]:
        lines.append(
            f"| {row['n_index']:,} | {row['n_probe']} | {row['queries_per_second']:,.0f} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
