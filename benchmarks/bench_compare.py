"""Every performance predictor of skassess on the same splits of three NAS benchmarks.

For each benchmark and seed, ``--n-test`` random cells are held out, an
unlabeled pool of ``--pool`` cells is set aside, and labeled sets of every size
in ``--sizes`` are drawn (nested: the 100 labeled cells include the 20) from
the remaining cells. Every predictor gets the same training rows (the labeled
cells plus the pool, whose targets are NaN) and predicts the held-out cells.
Reported: Kendall's tau, Spearman's rho and precision at the top 1% on the
held-out cells, fit and predict seconds; mean and spread over seeds.

Benchmarks (loaded with :mod:`skassess.datasets`):

- ``nb101``: NAS-Bench-101, CIFAR-10 test accuracy (one run, shared table);
- ``nb201``: NAS-Bench-201, ``cifar10_valid_val``;
- ``graph``: NAS-Bench-Graph, Cora ``valid_perf``.

Predictors: every name of :func:`skassess.baselines.available_predictors` (all
ignore NaN targets in fit; the semi-supervised ones use them), built with
:func:`skassess.baselines.get_predictor`:

- ``assessor``: :class:`skassess.SemiSupervisedAssessor`;
- ``pipeline``: ``make_pipeline(ArchitectureEmbedder(), TransductiveGCNRegressor())``,
  the two-stage design of Tang et al. (2020);
- ``random-forest``: E2EPP random forest on adjacency + one-hot ops (Sun et al., 2019);
- ``mlp``: BANANAS-style MLP on path encodings (White et al., 2021);
- ``gradient-boosting``: histogram gradient boosting on adjacency + one-hot ops (NASLib);
- ``embedding``: label propagation on auto-encoder embeddings;
- ``embedding-knn``: kNN regression on auto-encoder embeddings;
- ``neural-predictor``: the GCN Neural Predictor (Wen et al., 2019).

Every predictor gets the benchmark's space, the data's longest path (path
encodings) and float32 features where it has such parameters; ``--quick``
shortens the training of the networks (``QUICK_PARAMS``).

A predictor or benchmark that cannot be imported or loaded is skipped with a
message; a fit that fails is recorded with its error and the run goes on.

Usage::

    python benchmarks/bench_compare.py --quick          # smoke run, a few minutes on 2 cores
    python benchmarks/bench_compare.py                  # full: hours on 2 cores
    python benchmarks/bench_compare.py --benchmarks nb201 --sizes 20 100 1000 \\
        --predictors random-forest neural-predictor --seeds 0 1 2

Writes ``benchmarks/results/bench_compare[_quick].{json,md,png}`` (``--name`` for another stem).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SHARED = Path(os.environ.get("SKASSESS_SHARED_DATA", ROOT.parent / "shared" / "data"))
RESULTS = ROOT / "benchmarks" / "results"

from skassess.baselines import available_predictors, get_predictor  # noqa: E402

BENCHMARKS = ("nb101", "nb201", "graph")
PREDICTORS = tuple(available_predictors())
#: ``--quick``: five epochs for the networks trained with torch; scikit-learn's models keep theirs.
QUICK_PARAMS = {
    "assessor": {"max_iter": 5},
    "pipeline": {"max_iter": 5},
    "embedding": {"embed__max_iter": 5},
    "embedding-knn": {"embed__max_iter": 5},
    "neural-predictor": {"max_iter": 5},
}
FULL = {
    "sizes": [20, 50, 100, 200, 500, 1000, 2000, 5000, 10000],
    "seeds": [0, 1, 2],
    "n_test": 5000,
    "pool": 2000,
}
QUICK = {"sizes": [20, 100, 500], "seeds": [0, 1], "n_test": 500, "pool": 500}
TOP_FRACTION = 0.01


# -- data -----------------------------------------------------------------------------


def load_benchmark(name: str):
    """``(title, space, cells, y)`` of a benchmark, or raise with the reason."""
    from skassess import datasets

    if name == "nb101":
        bench = datasets.load_nasbench101(SHARED / "nasbench101.npz")
        title = "NAS-Bench-101 (CIFAR-10 test accuracy)"
    elif name == "nb201":
        bench = datasets.load_nasbench201(SHARED / "nasbench201.npz")
        title = "NAS-Bench-201 (cifar10_valid_val)"
    elif name == "graph":
        bench = datasets.load_nasbench_graph("cora")
        title = "NAS-Bench-Graph (Cora valid_perf)"
    else:
        raise ValueError(f"unknown benchmark {name!r}; choose from {BENCHMARKS}")
    return title, bench.space, list(bench.cells), np.asarray(bench.y, dtype=np.float64)


def longest_path(cells) -> int:
    """Inner vertices on the longest input -> output path of any cell (for PathEncoder)."""
    longest = 0
    by_size: dict[int, list] = {}
    for cell in cells:
        by_size.setdefault(cell.n_vertices, []).append(cell.matrix)
    for size, matrices in by_size.items():
        adjacency = np.stack(matrices).astype(bool)
        depth = np.full((len(adjacency), size), -1)
        depth[:, 0] = 0
        for vertex in range(1, size):
            reach = np.where(adjacency[:, :vertex, vertex], depth[:, :vertex] + 1, -1)
            depth[:, vertex] = reach.max(axis=1)
        longest = max(longest, int(depth[:, -1].max()) - 1)
    return max(longest, 0)


def splits(n_cells: int, seed: int, sizes: list[int], n_test: int, pool: int):
    """Held-out rows, pool rows and ``{size: labeled rows}``, the same for every predictor."""
    order = np.random.default_rng(seed).permutation(n_cells)
    test, rest = order[:n_test], order[n_test:]
    pool_rows = rest[len(rest) - pool :] if pool else rest[:0]
    candidates = rest[: len(rest) - pool]
    return test, pool_rows, {size: candidates[:size] for size in sizes if size <= len(candidates)}


# -- predictors -----------------------------------------------------------------------


def make_predictor(name: str, space, max_path_length: int, seed: int, quick: bool):
    """A fresh, unfitted predictor; raises ImportError when its module is missing."""
    # Path and adjacency encodings are 0/1: float32 holds them exactly, in less memory.
    shared = {"space": space, "max_path_length": max_path_length, "dtype": np.float32}
    quick_params = QUICK_PARAMS.get(name, {}) if quick else {}
    return get_predictor(name, random_state=seed, shared_params=shared, **quick_params)


def evaluate(model, cells, y, test, pool_rows, labeled) -> dict:
    """Fit on the labeled rows plus the pool; score on the held-out rows."""
    from skassess.metrics import kendall_tau, precision_at_k, spearman_rho

    train = np.concatenate([labeled, pool_rows])
    y_train = np.concatenate([y[labeled], np.full(len(pool_rows), np.nan)])
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence warnings of short quick-mode fits
        model.fit([cells[i] for i in train], y_train)
    fit_s = time.perf_counter() - start
    start = time.perf_counter()
    prediction = np.asarray(model.predict([cells[i] for i in test]), dtype=np.float64)
    predict_s = time.perf_counter() - start
    y_test = y[test]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # constant predictions: NaN correlations, reported
        return {
            "kendall_tau": kendall_tau(y_test, prediction),
            "spearman_rho": spearman_rho(y_test, prediction),
            "precision_at_1pct": precision_at_k(y_test, prediction, k=TOP_FRACTION),
            "fit_s": fit_s,
            "predict_s": predict_s,
        }


# -- reporting ------------------------------------------------------------------------


def _cell_text(values: list[float], digits: int) -> str:
    if not values:
        return ""
    if len(values) == 1:
        return f"{values[0]:.{digits}f}"
    return f"{np.mean(values):.{digits}f} ± {np.std(values):.{digits}f}"


def markdown(records: list[dict], titles: dict, config: dict) -> str:
    lines = [
        "# Predictor comparison (`benchmarks/bench_compare.py`)",
        "",
        f"Mode: {'quick (smoke test: short training, small sets)' if config['quick'] else 'full'}; "
        f"seeds {config['seeds']}; {config['n_test']} held-out cells and an unlabeled pool of "
        f"{config['pool']} cells per seed; labeled sizes {config['sizes']}. Mean ± sd over seeds. "
        f"Precision@1%: share of the true top 1% of held-out cells found in the predicted top 1%. "
        "'const.': seeds whose predictions were constant (rank correlation undefined), left "
        "out of the mean; 'failed': seeds whose fit raised (errors listed below).",
        "",
    ]
    metrics = [
        ("kendall_tau", "Kendall tau", 3),
        ("spearman_rho", "Spearman rho", 3),
        ("precision_at_1pct", "Precision@1%", 2),
        ("fit_s", "fit seconds", 1),
        ("predict_s", "predict seconds", 2),
    ]
    for bench, title in titles.items():
        rows = [r for r in records if r["benchmark"] == bench]
        sizes = sorted({r["n_labeled"] for r in rows})
        names = [p for p in PREDICTORS if any(r["predictor"] == p for r in rows)]
        lines += [f"## {title}", ""]
        for key, label, digits in metrics:
            lines += [f"**{label}**", "", "| predictor | " + " | ".join(map(str, sizes)) + " |"]
            lines.append("|---" * (len(sizes) + 1) + "|")
            for name in names:
                cells = []
                for size in sizes:
                    found = [r for r in rows if r["predictor"] == name and r["n_labeled"] == size]
                    values = [r[key] for r in found if key in r and np.isfinite(r[key])]
                    undefined = sum(key in r and not np.isfinite(r[key]) for r in found)
                    failed = sum("error" in r for r in found)
                    text = _cell_text(values, digits)
                    if undefined:
                        text += f" ({undefined} const.)" if text else "const."
                    if failed:
                        text += f" ({failed} failed)" if text else "failed"
                    cells.append(text)
                lines.append(f"| {name} | " + " | ".join(cells) + " |")
            lines.append("")
        errors = sorted({f"{r['predictor']}: {r['error']}" for r in rows if "error" in r})
        if errors:
            lines += ["Errors:", "", *[f"- {e}" for e in errors], ""]
    return "\n".join(lines)


def plot(records: list[dict], titles: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    fig, axes = plt.subplots(1, len(titles), figsize=(5.0 * len(titles) + 2.0, 4.2), squeeze=False)
    for ax, (bench, title) in zip(axes[0], titles.items(), strict=True):
        rows = [r for r in records if r["benchmark"] == bench and "kendall_tau" in r]
        for name in PREDICTORS:
            mine = [r for r in rows if r["predictor"] == name and np.isfinite(r["kendall_tau"])]
            sizes = sorted({r["n_labeled"] for r in mine})
            if not sizes:
                continue
            taus = [[r["kendall_tau"] for r in mine if r["n_labeled"] == s] for s in sizes]
            (line,) = ax.plot(sizes, [np.mean(t) for t in taus], marker="o", label=name)
            ax.fill_between(
                sizes,
                [min(t) for t in taus],
                [max(t) for t in taus],
                color=line.get_color(),
                alpha=0.15,
                linewidth=0,
            )
        ax.set_xscale("log")
        sizes = sorted({r["n_labeled"] for r in rows})
        ax.set_xticks(sizes, [str(size) for size in sizes])
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.set_xlabel("labeled architectures")
        ax.set_ylabel("Kendall tau on held-out cells")
        ax.set_title(title, fontsize=10)
        ax.grid(alpha=0.3)
    axes[0][-1].legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1.0))
    fig.suptitle("Mean over seeds; shaded: min to max over seeds", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


# -- main -----------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sets, short training")
    parser.add_argument("--benchmarks", nargs="+", choices=BENCHMARKS, default=list(BENCHMARKS))
    parser.add_argument("--predictors", nargs="+", choices=PREDICTORS, default=list(PREDICTORS))
    parser.add_argument("--sizes", nargs="+", type=int, help="labeled set sizes")
    parser.add_argument("--seeds", nargs="+", type=int)
    parser.add_argument("--n-test", type=int, help="held-out cells per seed")
    parser.add_argument("--pool", type=int, help="unlabeled cells per seed")
    parser.add_argument("--out", type=Path, default=RESULTS, help="results folder")
    parser.add_argument(
        "--name", help="file stem (default bench_compare, or bench_compare_quick with --quick)"
    )
    args = parser.parse_args(argv)

    os.environ.setdefault("OMP_NUM_THREADS", "1")
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:
        pass
    defaults = QUICK if args.quick else FULL
    config = {
        "quick": args.quick,
        "sizes": args.sizes or defaults["sizes"],
        "seeds": args.seeds if args.seeds is not None else defaults["seeds"],
        "n_test": args.n_test or defaults["n_test"],
        "pool": args.pool if args.pool is not None else defaults["pool"],
        "benchmarks": args.benchmarks,
        "predictors": args.predictors,
    }
    records: list[dict] = []
    titles: dict[str, str] = {}
    stem = args.out / (args.name or ("bench_compare_quick" if args.quick else "bench_compare"))
    unavailable: set[str] = set()
    for bench in config["benchmarks"]:
        try:
            title, space, cells, y = load_benchmark(bench)
        except Exception as exc:  # a loader or space not landed yet, a missing file
            print(f"[skip] benchmark {bench}: cannot load it ({type(exc).__name__}: {exc})")
            continue
        titles[bench] = title
        max_path = longest_path(cells)
        print(f"{title}: {len(cells)} cells, longest path {max_path} inner vertices", flush=True)
        for seed in config["seeds"]:
            test, pool_rows, labeled_sets = splits(
                len(cells), seed, config["sizes"], config["n_test"], config["pool"]
            )
            for size, labeled in labeled_sets.items():
                for name in config["predictors"]:
                    if name in unavailable:
                        continue
                    record = {
                        "benchmark": bench,
                        "predictor": name,
                        "seed": seed,
                        "n_labeled": size,
                        "n_pool": len(pool_rows),
                        "n_test": len(test),
                    }
                    try:
                        model = make_predictor(name, space, max_path, seed, args.quick)
                    except (ImportError, AttributeError) as exc:
                        print(f"[skip] predictor {name}: not importable ({exc})", flush=True)
                        unavailable.add(name)
                        continue
                    try:
                        record.update(evaluate(model, cells, y, test, pool_rows, labeled))
                    except Exception as exc:
                        record["error"] = f"{type(exc).__name__}: {exc}"[:300]
                    records.append(record)
                    shown = (
                        f"tau {record['kendall_tau']:.3f} P@1% {record['precision_at_1pct']:.2f} "
                        f"fit {record['fit_s']:.1f}s"
                        if "kendall_tau" in record
                        else record["error"]
                    )
                    print(f"  {bench} seed {seed} n={size:>5} {name:<28} {shown}", flush=True)

            write(stem, config, records, titles)  # after each seed: partial runs keep results
    write(stem, config, records, titles)
    print(f"wrote {stem}.json, .md and .png")
    return 0


def write(stem: Path, config: dict, records: list[dict], titles: dict) -> None:
    """Write the JSON, Markdown table and plot of the records so far."""
    stem.parent.mkdir(parents=True, exist_ok=True)
    environment = {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }
    with open(f"{stem}.json", "w") as file:
        json.dump(
            {"config": config, "environment": environment, "records": records}, file, indent=1
        )
    Path(f"{stem}.md").write_text(markdown(records, titles, config) + "\n")
    if titles:
        plot(records, titles, Path(f"{stem}.png"))


if __name__ == "__main__":
    raise SystemExit(main())
