"""Quality benchmark of the semi-supervised assessor against its baselines.

NAS-Bench-101 (target: CIFAR-10 test accuracy of the shared single-run table):
for every seed, ``--n-test`` random cells are held out; labeled sets of each
size in ``--sizes`` and an unlabeled pool of ``--pool`` cells are drawn from
the rest. Every model predicts the held-out cells (inductively); the table
reports Kendall's tau and Spearman's rho on them, mean and standard deviation
over seeds, and the fit time. Side by side:

- ``random_forest``: E2EPP-style random forest, 300 trees, on flat adjacency +
  one-hot ops (labeled cells only);
- ``assessor``: :class:`skassess.SemiSupervisedAssessor` with its defaults, on
  the labeled cells and the pool;
- ``assessor_no_pool``: the same without unlabeled cells (its auto-encoder
  pretraining sees the labeled cells only);
- ``assessor_no_pretrain``: the assessor whose embedder is not trained
  (``embedder__max_iter=0``);
- ``pipeline``: ``make_pipeline(ArchitectureEmbedder(), TransductiveGCNRegressor())``
  with their defaults, on the labeled cells and the pool (the paper's two
  stages without the end-to-end fine-tuning);
- ``neural_predictor``: :class:`skassess.baselines.NeuralPredictor` (labeled only).

With ``--benchmarks`` naming them (the default), NAS-Bench-201 (``cifar10_valid_val``,
``cifar100_val``, ``imagenet16_val``) and NAS-Bench-Graph (``cora``,
``citeseer``, ``pubmed``) rows with 100 labels, a pool of up to 10,000 cells
and the remaining cells (up to ``--n-test``) held out.

Usage::

    python benchmarks/bench_assessor.py                       # full (hours on 2 cores)
    python benchmarks/bench_assessor.py --quick               # CI smoke, ~1-2 min
    python benchmarks/bench_assessor.py --sizes 100 1000 --seeds 0 1 2

Writes ``benchmarks/results/bench_assessor.json`` and ``.md``.
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

MODELS = (
    "random_forest",
    "assessor",
    "assessor_no_pool",
    "assessor_no_pretrain",
    "pipeline",
    "neural_predictor",
)


# Each model: the registry's predictor, the parameters set on it, and whether it
# is given the unlabeled pool (skassess.baselines.get_predictor builds them all).
VARIANTS = {
    "random_forest": ("random-forest", {"n_estimators": 300}, False),
    "assessor": ("assessor", {}, True),
    "assessor_no_pool": ("assessor", {}, False),
    "assessor_no_pretrain": ("assessor", {"embedder__max_iter": 0}, True),
    "pipeline": ("pipeline", {}, True),
    "neural_predictor": ("neural-predictor", {}, False),
}


def make_model(name: str, seed: int, quick: bool):
    """A fresh model and whether it is given the unlabeled pool."""
    from skassess.baselines import get_predictor

    if name not in VARIANTS:
        raise ValueError(f"unknown model {name!r}; choose from {MODELS}")
    predictor, params, uses_pool = VARIANTS[name]
    quick_params = {"n_estimators": 30} if name == "random_forest" else {"max_iter": 3}
    params = {**params, **(quick_params if quick else {})}
    return get_predictor(predictor, random_state=seed, **params), uses_pool


def evaluate(name, seed, quick, cells, y, labeled, pool, test):
    """Fit one model on a split and score it on the held-out cells."""
    from scipy.stats import kendalltau, spearmanr

    model, uses_pool = make_model(name, seed, quick)
    rows = np.concatenate([labeled, pool]) if uses_pool else labeled
    target = np.concatenate([y[labeled], np.full(len(pool), np.nan)]) if uses_pool else y[labeled]
    start, start_cpu = time.perf_counter(), time.process_time()
    model.fit([cells[i] for i in rows], target)
    fit_time = time.perf_counter() - start
    fit_cpu = time.process_time() - start_cpu
    prediction = np.asarray(model.predict([cells[i] for i in test]))
    return {
        "kendall_tau": float(kendalltau(prediction, y[test]).statistic),
        "spearman_rho": float(spearmanr(prediction, y[test]).statistic),
        "fit_seconds": fit_time,
        "fit_cpu_seconds": fit_cpu,
    }


def split(n_cells, n_test, n_labeled, n_pool, seed):
    """Held-out, labeled and pool rows (disjoint) for one seed."""
    order = np.random.RandomState(seed).permutation(n_cells)
    test = order[:n_test]
    rest = order[n_test:]
    labeled = rest[:n_labeled]
    pool = rest[n_labeled : n_labeled + n_pool]
    return labeled, pool, test


METRICS_201 = ["cifar10_valid_val", "cifar100_val", "imagenet16_val"]
DATASETS_GRAPH = ["cora", "citeseer", "pubmed"]


def load_benchmarks(which):
    """(label, cells, y) for each benchmark named in ``which``."""
    if "nb101" in which:
        from skassess.datasets import load_nasbench101

        bench = load_nasbench101(SHARED / "nasbench101.npz")
        yield "NAS-Bench-101 test_accuracy", bench.cells, np.asarray(bench.y, dtype=np.float64)
    if "nb201" in which:
        yield from _nasbench201()
    if "nbgraph" in which:
        yield from _nasbench_graph()


def _nasbench201():
    try:
        from skassess.datasets import load_nasbench201

        bench201 = load_nasbench201(SHARED / "nasbench201.npz")
        for metric in METRICS_201:
            y = np.asarray(bench201.metrics[metric], dtype=np.float64)
            yield f"NAS-Bench-201 {metric}", bench201.cells, y
    except (ImportError, OSError, ValueError) as exc:
        print(f"NAS-Bench-201 skipped: {exc!r}", flush=True)


def _nasbench_graph():
    try:
        from skassess.datasets import load_nasbench_graph

        for dataset in DATASETS_GRAPH:
            graph = load_nasbench_graph(dataset)
            yield f"NAS-Bench-Graph {dataset}", graph.cells, np.asarray(graph.y, dtype=np.float64)
    except (ImportError, OSError, ValueError) as exc:
        print(f"NAS-Bench-Graph skipped: {exc!r}", flush=True)


def summarise(records):
    """Mean and sd over seeds per (benchmark, size, model)."""
    groups: dict[tuple, list] = {}
    for record in records:
        key = (record["benchmark"], record["n_labeled"], record["n_pool"], record["model"])
        groups.setdefault(key, []).append(record)
    rows = []
    for (benchmark, n_labeled, n_pool, model), group in groups.items():
        row = {"benchmark": benchmark, "n_labeled": n_labeled, "n_pool": n_pool, "model": model}
        row["seeds"] = [r["seed"] for r in group]
        for metric in ("kendall_tau", "spearman_rho", "fit_seconds", "fit_cpu_seconds"):
            values = np.array([r.get(metric, np.nan) for r in group])
            row[metric] = float(values.mean())
            row[metric + "_sd"] = float(values.std())
        rows.append(row)
    return sorted(rows, key=_row_order)


_TABLE_ORDER = (
    "random_forest",
    "pipeline",
    "neural_predictor",
    "assessor_no_pool_no_pretrain",
    "assessor_no_pretrain",
    "assessor_no_pool",
    "assessor",
)


def _row_order(row):
    model = row["model"]
    rank = _TABLE_ORDER.index(model) if model in _TABLE_ORDER else len(_TABLE_ORDER)
    return (row["benchmark"], row["n_labeled"], rank, model)


def markdown(rows, settings):
    lines = [
        "# SemiSupervisedAssessor benchmark",
        "",
        f"Command: `{settings['command']}`  ",
        f"Machine: {settings['machine']}; torch threads {settings['torch_threads']}.  ",
        "Kendall tau and Spearman rho on held-out cells (mean ± sd over seeds); fit wall-clock "
        "and CPU time per model and seed (the CPU time of a one-thread fit is what it takes on "
        "an idle core; wall-clock times here were taken with the 2 cores shared by several "
        "jobs). Models with the pool see `n_pool` extra unlabeled cells.",
        "",
        "| benchmark | labeled | pool | model | Kendall tau | Spearman rho | fit (s) "
        "| fit CPU (s) | seeds |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row['benchmark']} | {row['n_labeled']} | {row['n_pool']} | {row['model']} | "
            f"{row['kendall_tau']:.3f} ± {row['kendall_tau_sd']:.3f} | "
            f"{row['spearman_rho']:.3f} ± {row['spearman_rho_sd']:.3f} | "
            f"{row['fit_seconds']:.1f} | {_number(row['fit_cpu_seconds'])} | {len(row['seeds'])} |"
        )
    return "\n".join(lines) + "\n"


def _number(value):
    return "-" if np.isnan(value) else f"{value:.1f}"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny CI smoke run")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 10000])
    parser.add_argument("--pool", type=int, default=10000, help="unlabeled pool size")
    parser.add_argument("--n-test", type=int, default=20000, help="held-out cells")
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS)
    parser.add_argument(
        "--other-models",
        nargs="+",
        default=None,
        choices=MODELS,
        help="models for the NAS-Bench-201/Graph rows (default: --models)",
    )
    parser.add_argument(
        "--benchmarks",
        nargs="+",
        default=["nb101", "nb201", "nbgraph"],
        choices=["nb101", "nb201", "nbgraph"],
        help="NAS-Bench-101 (all sizes), NAS-Bench-201 and NAS-Bench-Graph (100 labels)",
    )
    parser.add_argument(
        "--metrics-201", nargs="+", default=METRICS_201, help="NAS-Bench-201 targets to run"
    )
    parser.add_argument(
        "--graph-datasets", nargs="+", default=DATASETS_GRAPH, help="NAS-Bench-Graph data sets"
    )
    parser.add_argument("--output", default="bench_assessor", help="file stem in results/")
    parser.add_argument(
        "--merge", nargs="+", metavar="JSON", help="only merge the records of earlier runs"
    )
    args = parser.parse_args(argv)
    if args.merge:
        return merge(args.merge, args.output)
    METRICS_201[:] = args.metrics_201
    DATASETS_GRAPH[:] = args.graph_datasets
    if args.quick:
        args.seeds, args.sizes, args.pool, args.n_test = args.seeds[:1], [100], 500, 1000
    import torch

    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    settings = {
        "command": "python benchmarks/bench_assessor.py " + " ".join(argv or sys.argv[1:]),
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs",
        "torch_threads": torch.get_num_threads(),
        "args": vars(args),
    }
    records = []
    for benchmark, cells, y in load_benchmarks(args.benchmarks):
        is_101 = benchmark.startswith("NAS-Bench-101")
        sizes = args.sizes if is_101 else [100]
        models = args.models if is_101 else (args.other_models or args.models)
        n_test = args.n_test if is_101 else min(args.n_test, len(cells) // 2)
        for n_labeled in sizes:
            pool = min(args.pool, len(cells) - n_test - n_labeled)
            for seed in args.seeds:
                labeled, pool_rows, test = split(len(cells), n_test, n_labeled, pool, seed)
                for name in models:
                    result = evaluate(name, seed, args.quick, cells, y, labeled, pool_rows, test)
                    record = {
                        "benchmark": benchmark,
                        "n_labeled": n_labeled,
                        "n_pool": pool,
                        "n_test": n_test,
                        "model": name,
                        "seed": seed,
                        **result,
                    }
                    records.append(record)
                    print(json.dumps(record), flush=True)
                    write(records, settings, args.output)
    return records


def merge(paths, stem):
    """One table from the records of several runs (e.g. run in parallel).

    A path may end in ``:model,model`` to keep only those models' rows.
    """
    records, commands = [], []
    settings = None
    for spec in paths:
        path, _, models = spec.partition(":")
        payload = json.loads(Path(path).read_text())
        keep = set(models.split(",")) if models else None
        records += [r for r in payload["records"] if keep is None or r["model"] in keep]
        command = payload["settings"]["command"]
        rows = "" if keep is None else f"  # rows: {', '.join(sorted(keep))}"
        commands.append(command + rows)
        settings = settings or payload["settings"]
    settings = {**settings, "command": "`; `".join(commands)}
    write(records, settings, stem)
    return records


def write(records, settings, stem):
    RESULTS.mkdir(parents=True, exist_ok=True)
    rows = summarise(records)
    payload = {"settings": settings, "summary": rows, "records": records}
    (RESULTS / f"{stem}.json").write_text(json.dumps(payload, indent=1))
    (RESULTS / f"{stem}.md").write_text(markdown(rows, settings))


if __name__ == "__main__":
    main()
