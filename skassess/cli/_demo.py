"""``skassess demo``: the assessor against a random forest on NAS-Bench-Graph."""

from __future__ import annotations

import argparse
import time
from typing import Any

from skassess.cli._arguments import Formatter, add_common, graph_dataset, paragraph, positive_int
from skassess.cli._common import (
    CommandError,
    Console,
    OutputFolder,
    build_predictor,
    describe_cell,
    true_ranks,
    write_json,
)

#: The demo's assessor settings: one network and fewer graph rebuilds than the defaults,
#: so that fitting on all 26,206 NAS-Bench-Graph architectures takes well under a minute
#: on two cores (Kendall tau on Cora with 100 labels, seed 0: 0.31; random forest 0.22).
DEMO_ASSESSOR = {"n_ensemble": 1, "max_iter": 50, "graph_update_interval": 25}


def add_parser(commands: Any) -> None:
    """Register ``demo`` and its options."""
    demo = commands.add_parser(
        "demo",
        help="fit the assessor on a small labeled set and rank every architecture",
        description=paragraph(
            "Label a small random set of architectures of NAS-Bench-Graph (no "
            "download: the data ship with the nas-bench-graph package), fit the "
            "semi-supervised assessor on all architectures (labeled and unlabeled), and "
            "compare its ranking of the unlabeled ones with a random forest's by Kendall "
            "tau. Lists the top 10 predicted architectures and saves a scatter plot."
        ),
        epilog="examples:\n  skassess demo\n  skassess demo --dataset citeseer --labeled 200 "
        "--seed 1\n  skassess demo --pool-size 2000 --max-iter 20   # a quick check",
        formatter_class=Formatter,
    )
    demo.add_argument(
        "--dataset",
        type=graph_dataset,
        default="cora",
        metavar="NAME",
        help="NAS-Bench-Graph data set (default: cora)",
    )
    demo.add_argument(
        "--labeled",
        type=positive_int,
        default=100,
        metavar="N",
        help="architectures whose performance is revealed (default: 100)",
    )
    demo.add_argument(
        "--pool-size",
        type=positive_int,
        metavar="N",
        help="use only N random architectures in all (default: every one)",
    )
    demo.add_argument(
        "--max-iter",
        type=positive_int,
        metavar="N",
        help=f"training epochs of the assessor (default: {DEMO_ASSESSOR['max_iter']})",
    )
    add_common(demo, output="skassess-demo")
    demo.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Fit, print the comparison and the top 10, then write the plot and the summary."""
    console = Console(args.quiet)
    output = OutputFolder(args.output_dir, "--output-dir")
    with console.progress(3, "demo") as stages:
        stages.set_postfix_str("loading NAS-Bench-Graph")
        benchmark, y = _label_at_random(args)
        console.info(
            f"{benchmark.name}: {len(benchmark)} architectures, {args.labeled} labeled at "
            f"random (seed {args.seed}); target {benchmark.target}"
        )
        stages.update()
        stages.set_postfix_str("fitting the assessor")
        assessor, assessor_time = _fit_assessor(args, benchmark.cells, y)
        stages.update()
        stages.set_postfix_str("fitting the random forest")
        forest_scores, forest_time = _fit_forest(args, benchmark, y)
        stages.update()
    seconds = {"assessor": assessor_time, "random_forest": forest_time}
    summary = _summary(args, benchmark, y, (assessor, forest_scores), seconds)
    _print_summary(console, summary, benchmark, assessor.get_params()["max_iter"])
    figure = _plot(output.file("demo_scatter.png"), benchmark, y, assessor.transduction_, summary)
    json_path = write_json(output.file("demo.json"), summary)
    console.result("")
    console.result(f"scatter plot: {figure}")
    console.result(f"summary:      {json_path}")
    return 0


def _label_at_random(args: argparse.Namespace) -> tuple[Any, Any]:
    """The benchmark (a random pool of it with ``--pool-size``) and targets, NaN if hidden."""
    import numpy as np

    from skassess.datasets import load_nasbench_graph

    benchmark = load_nasbench_graph(args.dataset)
    rng = np.random.RandomState(args.seed)
    if args.pool_size is not None and args.pool_size < len(benchmark):
        benchmark = benchmark.subset(np.sort(rng.choice(len(benchmark), args.pool_size, False)))
    if args.labeled >= len(benchmark):
        raise CommandError(
            f"--labeled {args.labeled}: must be smaller than the {len(benchmark)} "
            "architectures used"
        )
    labeled = np.sort(rng.choice(len(benchmark), args.labeled, replace=False))
    y = np.full(len(benchmark), np.nan)
    y[labeled] = np.asarray(benchmark.y, dtype=float)[labeled]
    return benchmark, y


def _fit_assessor(args: argparse.Namespace, cells: list, y: Any) -> tuple[Any, float]:
    settings = dict(DEMO_ASSESSOR)
    if args.max_iter is not None:
        settings["max_iter"] = args.max_iter
    assessor = build_predictor("assessor", args.seed).set_params(**settings)
    start = time.perf_counter()
    assessor.fit(cells, y)
    return assessor, time.perf_counter() - start


def _fit_forest(args: argparse.Namespace, benchmark: Any, y: Any) -> tuple[Any, float]:
    """The forest's predictions for the unlabeled cells (it sees the labeled ones only)."""
    import numpy as np

    forest = build_predictor("random-forest", args.seed, space=benchmark.space)
    labeled = np.isfinite(y)
    cells = benchmark.cells
    start = time.perf_counter()
    forest.fit([cell for cell, known in zip(cells, labeled, strict=True) if known], y[labeled])
    scores = forest.predict([cell for cell, known in zip(cells, labeled, strict=True) if not known])
    return np.asarray(scores, dtype=float), time.perf_counter() - start


def _summary(
    args: argparse.Namespace, benchmark: Any, y: Any, fitted: tuple, seconds: dict
) -> dict[str, Any]:
    """Kendall tau of both predictors on the unlabeled cells, and the assessor's top 10."""
    import numpy as np

    from skassess.metrics import kendall_tau

    assessor, forest_scores = fitted
    y_all = np.asarray(benchmark.y, dtype=float)
    unlabeled = np.flatnonzero(np.isnan(y))
    scores = np.asarray(assessor.transduction_, dtype=float)
    top = unlabeled[np.argsort(-scores[unlabeled], kind="stable")[:10]]
    ranks = true_ranks(y_all)
    return {
        "benchmark": benchmark.name,
        "target": benchmark.target,
        "n_architectures": len(benchmark),
        "n_labeled": args.labeled,
        "seed": args.seed,
        "kendall_tau": {
            "assessor": float(kendall_tau(y_all[unlabeled], scores[unlabeled])),
            "random_forest": float(kendall_tau(y_all[unlabeled], forest_scores)),
        },
        "fit_seconds": seconds,
        "top10": [
            {"index": int(i), "true": float(y_all[i]), "true_rank": int(ranks[i])} for i in top
        ],
    }


def _print_summary(console: Console, summary: dict, benchmark: Any, epochs: int) -> None:
    tau, seconds = summary["kendall_tau"], summary["fit_seconds"]
    n_unlabeled = summary["n_architectures"] - summary["n_labeled"]
    console.result(
        f"Kendall tau on the {n_unlabeled} unlabeled architectures "
        f"({summary['n_labeled']} labeled):"
    )
    console.result(
        f"  semi-supervised assessor  {tau['assessor']:7.3f}   (fit {seconds['assessor']:.1f} s, "
        f"{epochs} epochs, on all architectures)"
    )
    console.result(
        f"  random forest             {tau['random_forest']:7.3f}   "
        f"(fit {seconds['random_forest']:.1f} s)"
    )
    console.result("")
    console.result(
        f"Top 10 predicted architectures (of {summary['n_architectures']}; true rank 1 is "
        "the best):"
    )
    console.result(f"  {'#':>2}  {'true ' + benchmark.target:>16}  {'true rank':>9}  architecture")
    for position, row in enumerate(summary["top10"], start=1):
        cell = describe_cell(benchmark.cells[row["index"]], benchmark.space)
        console.result(f"  {position:>2}  {row['true']:16.4f}  {row['true_rank']:>9}  {cell}")


def _plot(path: Any, benchmark: Any, y: Any, scores: Any, summary: dict) -> Any:
    import numpy as np

    from skassess.plotting import plot_predicted_vs_true, save_figure

    unlabeled = np.flatnonzero(np.isnan(y))
    top = [row["index"] for row in summary["top10"]]
    ax = plot_predicted_vs_true(
        np.asarray(benchmark.y, dtype=float)[unlabeled],
        np.asarray(scores, dtype=float)[unlabeled],
        highlight=np.searchsorted(unlabeled, top),
        title=f"{benchmark.name}\n{summary['n_labeled']} labeled, Kendall tau "
        f"{summary['kendall_tau']['assessor']:.3f}",
        xlabel=f"true {benchmark.target}",
        ylabel="assessor score",
    )
    return save_figure(ax, path)
