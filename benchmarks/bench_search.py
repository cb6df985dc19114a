"""Search benchmark: predictor-guided search vs regularized evolution vs random search.

On NAS-Bench-101 (target test accuracy) and NAS-Bench-201 (cifar10_valid_val), each
method runs with several seeds and a budget of trainings (look-ups); we record the
best accuracy found and its rank in the whole space after every query.

Targets (NAS-Bench-101): the median best found by guided search is within the top
0.05% of the space (rank <= 212) after 300 queries, and guided search needs at
least 3x fewer queries than regularized evolution to reach the top 0.1%.

Writes ``search_<benchmark>.json``, ``search_<benchmark>.png`` and ``search.md``
(the tables of every benchmark run) into ``benchmarks/results/``. The JSON is
rewritten after every run, so an interrupted benchmark keeps what it measured.

    python benchmarks/bench_search.py                    # 10 seeds, budgets 1000 / 500 (guided)
    python benchmarks/bench_search.py --quick            # a few minutes
    python benchmarks/bench_search.py --benchmarks nasbench201 --methods random evolution
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.ensemble import RandomForestRegressor

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
SHARED_DATA = Path(os.environ.get("SKASSESS_SHARED_DATA", ROOT.parent / "shared" / "data"))
CHECKPOINTS = (10, 20, 50, 100, 150, 200, 300, 500, 1000)
# file, the metric searched, the metric reported of what was found (None: the searched one)
BENCHMARKS = {
    "nasbench101": ("nasbench101.npz", "test_accuracy", None),
    "nasbench201": ("nasbench201.npz", "cifar10_valid_val", "cifar10_valid_test"),
}
METHOD_NOTES = {
    "nasbench101": "the shared NAS-Bench-101 table holds one run's test accuracy only: searched "
    "and reported on it (no validation accuracy for most cells)",
    "nasbench201": "searched on validation accuracy (cifar10_valid_val), the test accuracy "
    "(cifar10_valid_test) of the architecture found reported beside",
}
METHODS = (
    "guided",
    "guided-no-carry",
    "guided-random-pool",
    "guided-forest",
    "guided-forest-mean",
    "guided-forest-spread",
    "evolution",
    "random",
)


def load(name: str, data: Path):
    from skassess import datasets

    file_name = BENCHMARKS[name][0]
    loader = datasets.load_nasbench101 if name == "nasbench101" else datasets.load_nasbench201
    return loader(data / file_name)


def make_search(method: str, seed: int, args: argparse.Namespace):
    from skassess.search import PredictorGuidedSearch, RandomSearch, RegularizedEvolution

    if method == "random":
        return RandomSearch(random_state=seed)
    if method == "evolution":
        return RegularizedEvolution(
            population_size=args.population_size, sample_size=args.sample_size, random_state=seed
        )
    search = PredictorGuidedSearch(
        make_estimator(method, args),
        initial_size=args.initial_size,
        batch_size=args.batch_size,
        pool_size=args.pool_size,
        n_mutations=0 if method == "guided-random-pool" else args.n_mutations,
        n_parents=args.n_parents,
        n_carried=0 if method == "guided-no-carry" else args.n_carried,
        unlabeled_size=args.unlabeled_size,
        random_state=seed,
    )
    if method in ("guided-forest-mean", "guided-forest-spread"):
        search.set_params(exploration=args.exploration if method.endswith("spread") else 0.0)
    return search


def make_estimator(method: str, args: argparse.Namespace):
    """The predictor of a guided method."""
    from skassess.baselines import get_predictor

    if method in ("guided", "guided-no-carry", "guided-random-pool"):
        return get_predictor("assessor").set_params(
            max_iter=args.assessor_max_iter, n_ensemble=args.assessor_ensemble
        )
    if method in ("guided-forest-mean", "guided-forest-spread"):
        from sklearn.pipeline import make_pipeline

        from skassess.encoders import AdjacencyOpsEncoder

        return make_pipeline(AdjacencyOpsEncoder(), ForestWithSpread(n_estimators=100, n_jobs=1))
    return get_predictor("random-forest", n_estimators=100, n_jobs=1)


class ForestWithSpread(RandomForestRegressor):
    """A random forest whose predict also returns the spread of its trees, on request.

    A stand-in ensemble for the spread acquisition of guided search.
    """

    def predict(self, X, return_std=False):
        if not return_std:
            return super().predict(X)
        X = np.asarray(X, dtype=np.float32)
        per_tree = np.stack([tree.predict(X) for tree in self.estimators_])
        return per_tree.mean(axis=0), per_tree.std(axis=0)


def method_budget(method: str, args: argparse.Namespace) -> int:
    return min(args.budget, args.guided_budget) if method.startswith("guided") else args.budget


def top_rank(fraction: float, n_space: int) -> int:
    """Worst rank inside the top ``fraction`` of the space (212 for 0.05% of NAS-Bench-101)."""
    return math.ceil(fraction * n_space)


def first_reaching(ranks: np.ndarray, threshold: float) -> float:
    """Queries needed until the best found ranks within ``threshold`` (inf if never)."""
    hits = np.flatnonzero(ranks <= threshold)
    return float(hits[0] + 1) if hits.size else float("inf")


def summarise(runs: list[dict], n_space: int, budget: int) -> dict:
    ranks = [np.asarray(run["ranks"]) for run in runs]
    values = [np.asarray(run["best_so_far"]) for run in runs]
    reported = [np.asarray(run["reported_of_best"]) for run in runs if "reported_of_best" in run]
    table = {}
    for step in CHECKPOINTS:
        if all(r.size >= step for r in ranks):
            at = [r[step - 1] for r in ranks]
            table[str(step)] = {
                "median_rank": float(np.median(at)),
                "q25_rank": float(np.percentile(at, 25)),
                "q75_rank": float(np.percentile(at, 75)),
                "median_best": float(np.median([v[step - 1] for v in values])),
            }
            if reported and len(reported) == len(runs):
                table[str(step)]["median_reported"] = float(
                    np.median([r[step - 1] for r in reported])
                )
    reach = {}
    for label, fraction in (("top_0.05%", 0.0005), ("top_0.1%", 0.001), ("top_1%", 0.01)):
        needed = [first_reaching(r, top_rank(fraction, n_space)) for r in ranks]
        reach[label] = {"median_queries": float(np.median(needed)), "per_seed": needed}
    return {
        "n_seeds": len(runs),
        "budget": budget,
        "checkpoints": table,
        "queries_to_reach": reach,
        "seconds_per_run": float(np.mean([run["seconds"] for run in runs])),
    }


def fmt_queries(value: float, budget: int) -> str:
    return f"> {budget}" if not np.isfinite(value) else f"{value:.0f}"


def markdown(name: str, payload: dict) -> str:
    n_space = payload["n_architectures"]
    lines = [f"### {payload['benchmark']} ({payload['metric']}, {n_space:,} architectures)", ""]
    if payload.get("command"):
        lines += [f"Command: `{payload['command']}`.", ""]
    if payload.get("metric_note"):
        lines += [f"Metric: {payload['metric_note']}.", ""]
    for note in payload.get("notes", []):
        lines += [f"Note: {note}", ""]
    first = int(payload.get("settings", {}).get("first_seed", 0))
    seeds = f"{first}-{first + payload['n_seeds'] - 1}" if payload["n_seeds"] > 1 else str(first)
    lines += [f"Machine: {payload['machine']}; seeds {seeds}.", ""]
    lines += [
        "Median over seeds of the rank of the best architecture found "
        "(1 = the best of the space; interquartile range in brackets) after a number of "
        "queries. Settings: " + payload["settings_text"] + ".",
        "",
    ]
    methods = list(payload["methods"])
    steps = sorted(
        {int(s) for m in methods for s in payload["methods"][m]["checkpoints"]},
    )
    lines.append("| queries | " + " | ".join(methods) + " |")
    lines.append("|---:|" + "---:|" * len(methods))
    for step in steps:
        cells = []
        for method in methods:
            entry = payload["methods"][method]["checkpoints"].get(str(step))
            cells.append(
                ""
                if entry is None
                else f"{entry['median_rank']:.0f} [{entry['q25_rank']:.0f}-{entry['q75_rank']:.0f}]"
            )
        lines.append(f"| {step} | " + " | ".join(cells) + " |")
    reported = payload.get("reported_metric")
    if reported:
        lines += [
            "",
            f"Median {reported} of the architecture found (best {payload['metric']} so far); "
            f"the best {reported} of the space is {payload['reported_max']:.2f}:",
            "",
            "| queries | " + " | ".join(methods) + " |",
            "|---:|" + "---:|" * len(methods),
        ]
        for step in steps:
            cells = []
            for method in methods:
                entry = payload["methods"][method]["checkpoints"].get(str(step), {})
                value = entry.get("median_reported")
                cells.append("" if value is None else f"{value:.2f}")
            lines.append(f"| {step} | " + " | ".join(cells) + " |")
    lines += ["", "Median queries until the best found is in the top fraction of the space:", ""]
    lines.append("| method | seeds | top 0.05% | top 0.1% | top 1% | seconds per run |")
    lines.append("|---|---:|---:|---:|---:|---:|")
    for method in methods:
        summary = payload["methods"][method]
        reach = summary["queries_to_reach"]
        cells = [
            fmt_queries(reach[key]["median_queries"], summary["budget"])
            for key in ("top_0.05%", "top_0.1%", "top_1%")
        ]
        lines.append(
            f"| {method} | {summary['n_seeds']} | "
            + " | ".join(cells)
            + f" | {summary['seconds_per_run']:.1f} |"
        )
    lines.append(f"\n![best-so-far curves](search_{name}.png)\n")
    return "\n".join(lines)


def targets(name: str, payload: dict) -> list[str]:
    """The targets of issue 15 for guided search, and guided against evolution."""
    methods = payload["methods"]
    out = []
    runs = payload["runs"].get("guided", [])
    if name == "nasbench101" and "150" in methods.get("guided", {}).get("checkpoints", {}):
        rank = methods["guided"]["checkpoints"]["150"]["median_rank"]
        verdict = "met" if rank <= 3 else "NOT met"
        out.append(
            f"Target 1, median rank <= 3 after 150 guided trainings: {rank:.0f}, **{verdict}**."
        )
    if name == "nasbench201" and runs and all(len(run["ranks"]) >= 100 for run in runs):
        hits = sum(run["ranks"][99] == 1 for run in runs)
        verdict = "met" if 2 * hits > len(runs) else "NOT met"
        out.append(
            f"Target 1, the best of the space (rank 1) within 100 guided trainings in most "
            f"seeds: {hits} of {len(runs)} seeds, **{verdict}**."
        )
    guided_methods = [m for m in methods if m in ("guided", "guided-random-pool")]
    for name in guided_methods if "evolution" in methods else []:
        guided = methods[name]["queries_to_reach"]["top_0.1%"]["median_queries"]
        evolution = methods["evolution"]["queries_to_reach"]["top_0.1%"]["median_queries"]
        if not np.isfinite(guided):
            out.append(f"Target 2 ({name}): the top 0.1% was not reached; **NOT met**.")
            continue
        ratio = evolution / guided
        shown = (
            f"{ratio:.1f}x"
            if np.isfinite(ratio)
            else f"> {methods['evolution']['budget'] / guided:.1f}x"
        )
        verdict = "met" if ratio >= 3 else "NOT met"
        out.append(
            f"Target 2 ({name}), >= 3x fewer queries than evolution to reach the top 0.1%: "
            f"{name} {guided:.0f}, evolution "
            f"{fmt_queries(evolution, methods['evolution']['budget'])}: {shown}, "
            f"**{verdict}**."
        )
    return out


def plot(name: str, payload: dict, runs: dict, path: Path) -> None:
    from matplotlib.figure import Figure

    from skassess.plotting import plot_best_so_far, save_figure

    figure = Figure(figsize=(11, 4), layout="constrained")
    left, right = figure.subplots(1, 2)
    plot_best_so_far(
        {m: [r["best_so_far"] for r in rs] for m, rs in runs.items()},
        ax=left,
        log_x=True,
        title=f"{payload['benchmark']}: best found",
        ylabel=f"best {payload['metric']}",
    )
    plot_best_so_far(
        {m: [r["ranks"] for r in rs] for m, rs in runs.items()},
        ax=right,
        log_x=True,
        title="rank of the best found (1 = best)",
        ylabel="rank in the space",
    )
    right.set_yscale("log")
    right.legend(loc="upper right")
    save_figure(figure, path)


def reported_of_best(result, reported_values: np.ndarray) -> np.ndarray:
    """After each query, the reported metric of the best architecture found so far."""
    values = result.values
    best_at = np.array([int(np.argmax(values[: step + 1])) for step in range(values.size)])
    return reported_values[result.indices[best_at]]


def run_benchmark(name: str, args: argparse.Namespace) -> str:
    import torch

    torch.set_num_threads(1)
    bench = load(name, args.data)
    _, searched, reported = BENCHMARKS[name]
    values = np.asarray(bench.metrics[searched], dtype=float)
    reported_values = None if reported is None else np.asarray(bench.metrics[reported], float)
    n_space = int(np.isfinite(values).sum())
    settings = (
        f"guided: {args.initial_size} random, then batches of {args.batch_size}, ranking "
        f"random pools of {args.pool_size} candidates and {args.n_mutations} mutations of the "
        f"{args.n_parents} best found, plus the {args.n_carried} best-ranked candidates of "
        f"the previous fit not proposed (guided-no-carry: without them; guided-random-pool: "
        f"without them nor mutations), {args.unlabeled_size} candidates unlabeled in the fit "
        f"(assessor "
        f"{args.assessor_max_iter} epochs x {args.assessor_ensemble} networks; forest 100 "
        f"trees), budget {args.guided_budget}; evolution: population "
        f"{args.population_size}, tournament {args.sample_size}"
    )
    payload = {
        "benchmark": bench.name,
        "metric": searched,
        "metric_note": METHOD_NOTES[name],
        "reported_metric": reported,
        "reported_max": None if reported is None else float(np.nanmax(reported_values)),
        "command": "python " + " ".join(["benchmarks/bench_search.py", *sys.argv[1:]]),
        "n_architectures": n_space,
        "n_seeds": args.seeds,
        "settings": {k: str(v) for k, v in vars(args).items()},
        "settings_text": settings,
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs",
        "methods": {},
    }
    runs: dict[str, list[dict]] = {}
    json_path = args.output_dir / f"search_{name}.json"
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    if args.add and json_path.is_file():  # keep the runs measured before, with their command
        before = json.loads(json_path.read_text())
        for method, kept in before["runs"].items():
            kept = [run for run in kept if method not in args.methods or run["seed"] not in seeds]
            if kept:
                runs[method] = kept
                payload["methods"][method] = before["methods"][method]
        payload["command"] = before.get("command", "") + "`, then `" + payload["command"]
        payload["notes"] = before.get("notes", [])
    for method in args.methods:
        budget = method_budget(method, args)
        for seed in seeds:
            start = time.perf_counter()
            result = make_search(method, seed, args).run(bench, budget, metric=searched)
            seconds = time.perf_counter() - start
            run = {
                "seed": seed,
                "best_so_far": result.best_so_far().tolist(),
                "ranks": result.rank_so_far(values).tolist(),
                "seconds": seconds,
            }
            if reported_values is not None:
                run["reported_of_best"] = reported_of_best(result, reported_values).tolist()
            runs.setdefault(method, []).append(run)
            print(
                f"{name} {method} seed {seed}: best {run['best_so_far'][-1]:.4f}, rank "
                f"{run['ranks'][-1]} after {budget} queries ({seconds:.1f} s)",
                flush=True,
            )
            payload["methods"][method] = summarise(runs[method], n_space, budget)
            payload["runs"] = runs
            json_path.write_text(json.dumps(payload, indent=1))
    return report(name, payload, args.output_dir)


def report(name: str, payload: dict, output_dir: Path) -> str:
    """Check the targets, write the JSON and the plot; the Markdown section."""
    for method, runs in payload["runs"].items():
        for run in runs:  # six significant digits are plenty, and halve the file
            run["best_so_far"] = [float(f"{value:.6g}") for value in run["best_so_far"]]
        budget = payload["methods"][method]["budget"]
        payload["methods"][method] = summarise(runs, payload["n_architectures"], budget)
    payload["targets"] = targets(name, payload)
    (output_dir / f"search_{name}.json").write_text(json.dumps(payload, indent=1))
    plot(name, payload, payload["runs"], output_dir / f"search_{name}.png")
    return markdown(name, payload)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 seeds, small budgets")
    parser.add_argument(
        "--benchmarks", nargs="+", choices=list(BENCHMARKS), default=list(BENCHMARKS)
    )
    parser.add_argument("--methods", nargs="+", choices=METHODS, default=list(METHODS))
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--first-seed", type=int, default=0, help="to split seeds over processes")
    parser.add_argument("--budget", type=int, default=1000, help="random and evolution")
    parser.add_argument("--guided-budget", type=int, default=500)
    parser.add_argument("--initial-size", type=int, default=50)
    parser.add_argument("--batch-size", type=int, default=50)
    parser.add_argument("--pool-size", type=int, default=20_000, help="candidates per fit")
    parser.add_argument(
        "--unlabeled-size", type=int, default=2000, help="candidates given to fit as unlabeled"
    )
    parser.add_argument("--n-mutations", type=int, default=1000, help="mutated candidates per fit")
    parser.add_argument("--n-parents", type=int, default=10, help="best architectures mutated")
    parser.add_argument(
        "--n-carried",
        type=int,
        default=2000,
        help="best-ranked candidates not proposed, ranked again at the next fit",
    )
    parser.add_argument(
        "--exploration", type=float, default=1.0, help="weight of the spread (guided-forest-spread)"
    )
    parser.add_argument("--assessor-max-iter", type=int, default=30)
    parser.add_argument("--assessor-ensemble", type=int, default=1)
    parser.add_argument("--population-size", type=int, default=100)
    parser.add_argument("--sample-size", type=int, default=25)
    parser.add_argument("--data", type=Path, default=SHARED_DATA)
    parser.add_argument("--output-dir", type=Path, default=RESULTS)
    parser.add_argument(
        "--add",
        action="store_true",
        help="add the runs measured now to those already in the JSON file (same method and "
        "seed: replaced)",
    )
    parser.add_argument(
        "--from-json",
        action="store_true",
        help="measure nothing: rebuild the tables and plots from the JSON files of earlier runs",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.seeds = min(args.seeds, 3)
        args.budget = min(args.budget, 300)
        args.guided_budget = min(args.guided_budget, 150)
        args.pool_size = min(args.pool_size, 5000)
        args.unlabeled_size = min(args.unlabeled_size, 1000)
        args.assessor_max_iter = min(args.assessor_max_iter, 10)
    args.output_dir.mkdir(parents=True, exist_ok=True)
    header = (
        "## Search: predictor-guided vs regularized evolution vs random\n\n"
        "Measured with `python benchmarks/bench_search.py` (the command and settings of each "
        "benchmark are given with its table). Guided search is predictor-guided search with "
        "the semi-supervised assessor ranking random candidates, mutations of the best "
        "found and the best-ranked candidates of the previous fit not proposed (`guided`), "
        "the same without that carried shortlist (`guided-no-carry`), random candidates "
        "only as before mutations were added (`guided-random-pool`), or with a random "
        "forest (`guided-forest`; "
        "`guided-forest-mean` and `guided-forest-spread` rank by the forest's mean, or by "
        "mean + spread of its trees). A query is one training (look-up), re-queries are "
        "free. On NAS-Bench-101, for a given seed, every method starts from the same random "
        "architectures (its first queries coincide), which makes the comparison paired; on "
        "NAS-Bench-201 guided search draws over distinct architectures (canonical hash), so "
        "its first draws differ. Seconds per run were measured on a shared, busy two-core "
        "machine: compare them only roughly. What is scored: the true rank, in the whole space, "
        "of the best architecture a search has trained so far (its searched metric, looked up "
        "in the table), median and interquartile range over seeds.\n"
    )
    sections = []
    if args.from_json:
        for name in args.benchmarks:
            path = args.output_dir / f"search_{name}.json"
            if path.is_file():
                payload = json.loads(path.read_text())
                sections.append(report(name, payload, args.output_dir))
        (args.output_dir / "search.md").write_text(header + "\n" + "\n\n".join(sections) + "\n")
        print(f"wrote {args.output_dir / 'search.md'}")
        return 0
    for name in args.benchmarks:
        if not (args.data / BENCHMARKS[name][0]).is_file():  # a skip, not a failure
            print(f"skipping {name}: {args.data / BENCHMARKS[name][0]} not found", file=sys.stderr)
            continue
        sections.append(run_benchmark(name, args))
        (args.output_dir / "search.md").write_text(header + "\n" + "\n\n".join(sections) + "\n")
    print(f"wrote {args.output_dir / 'search.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
