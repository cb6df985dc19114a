"""``skassess search``: a budgeted architecture search on a benchmark."""

from __future__ import annotations

import argparse
from typing import Any

from skassess.baselines import available_predictors
from skassess.cli._arguments import (
    Formatter,
    add_benchmark,
    add_common,
    benchmarks_epilog,
    paragraph,
    positive_int,
    predictor_list,
)
from skassess.cli._common import (
    CommandError,
    Console,
    OutputFolder,
    UsageError,
    build_predictor,
    describe_cell,
    load_benchmark,
    metric_values,
)

METHODS = {
    "guided": "predictor-guided search (PredictorGuidedSearch)",
    "random": "random search (RandomSearch)",
    "evolution": "regularized evolution (RegularizedEvolution)",
}

#: The options of each method, with their defaults. An option of one method
#: given to another would do nothing, and is refused.
METHOD_OPTIONS: dict[str, dict[str, Any]] = {
    "guided": {
        "predictor": ["assessor"],
        "initial_size": 20,
        "batch_size": 10,
        "pool_size": 5000,
        "unlabeled_size": None,
        "max_iter": None,
    },
    "random": {},
    "evolution": {"population_size": 100, "sample_size": 25},
}


def add_parser(commands: Any) -> None:
    """Register ``search`` and its options."""
    search = commands.add_parser(
        "search",
        help="budgeted architecture search on a benchmark",
        description=paragraph(
            "Search a benchmark for its best architecture with a budget of "
            "trainings (look-ups). Prints the best found, its rank in the whole space and "
            "the best-so-far curve; writes the query log (search.csv, search.json) and the "
            "curve (search.png)."
        ),
        epilog="examples:\n  skassess search -b nasbench201 --method random --budget 200\n"
        "  skassess search -b nasbench101 --method guided --predictor random-forest "
        "--budget 300\n  skassess search -b nasbench-graph:cora --method evolution "
        "--budget 100 \\\n      --population-size 20 --sample-size 5\n\n" + benchmarks_epilog(),
        formatter_class=Formatter,
    )
    add_benchmark(search, "nasbench-graph:cora")
    search.add_argument(
        "--method",
        choices=list(METHODS),
        default="guided",
        help="; ".join(f"{k}: {v}" for k, v in METHODS.items()) + " (default: guided)",
    )
    search.add_argument(
        "--budget",
        type=positive_int,
        default=100,
        metavar="N",
        help="architectures the search may train (default: 100)",
    )
    guided, evolution = METHOD_OPTIONS["guided"], METHOD_OPTIONS["evolution"]
    search.add_argument(
        "--predictor",
        type=predictor_list,
        metavar="NAME",
        help=f"guided: predictor, one of {', '.join(available_predictors())} "
        f"(default: {guided['predictor'][0]})",
    )
    search.add_argument(
        "--initial-size",
        type=positive_int,
        metavar="N",
        help="guided: random architectures trained before the first fit "
        f"(default: {guided['initial_size']})",
    )
    search.add_argument(
        "--batch-size",
        type=positive_int,
        metavar="N",
        help=f"guided: architectures trained per fit (default: {guided['batch_size']})",
    )
    search.add_argument(
        "--pool-size",
        type=positive_int,
        metavar="N",
        help=f"guided: candidates ranked per fit (default: {guided['pool_size']})",
    )
    search.add_argument(
        "--unlabeled-size",
        type=positive_int,
        metavar="N",
        help="guided, semi-supervised predictors: candidates also given to fit as "
        "unlabeled; fewer than --pool-size makes fits cheaper (default: the whole pool)",
    )
    search.add_argument(
        "--max-iter",
        type=positive_int,
        metavar="N",
        help="guided: training epochs of the predictor (default: its own)",
    )
    search.add_argument(
        "--population-size",
        type=positive_int,
        metavar="N",
        help=f"evolution: population size (default: {evolution['population_size']})",
    )
    search.add_argument(
        "--sample-size",
        type=positive_int,
        metavar="N",
        help=f"evolution: tournament size (default: {evolution['sample_size']})",
    )
    add_common(search, output="skassess-output")
    search.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Run the search, print its curve and best architecture, then write the log and plot."""
    settings = method_settings(args)
    console = Console(args.quiet)
    output = OutputFolder(args.output_dir, "--output-dir")
    benchmark = load_benchmark(args.benchmark, args.data)
    metric, values = metric_values(benchmark, args.metric)
    strategy, label = _strategy(args, settings, benchmark.space)
    console.info(
        f"{benchmark.name}: {label}, budget {args.budget} trainings, maximising {metric} "
        f"(seed {args.seed})"
    )
    result = _run_with_progress(strategy, benchmark, args, console)
    _print_result(console, result, values, metric, benchmark.space)
    if len(result) < args.budget:
        console.result(f"(the benchmark ran out after {len(result)} trainings)")
    _write(output, result, label, f"{benchmark.name}: {label}", metric, console)
    return 0


def method_settings(args: argparse.Namespace) -> dict[str, Any]:
    """The options of ``args.method``, defaults filled in; refuses those of other methods."""
    for method, options in METHOD_OPTIONS.items():
        given = [name for name in options if getattr(args, name) is not None]
        if method != args.method and given:
            option = "--" + given[0].replace("_", "-")
            raise UsageError(f"{option} is an option of --method {method}, not {args.method}")
    settings = {
        name: default if getattr(args, name) is None else getattr(args, name)
        for name, default in METHOD_OPTIONS[args.method].items()
    }
    if args.method == "guided":
        _check_guided(settings, args.budget)
    if args.method == "evolution" and settings["sample_size"] > settings["population_size"]:
        raise CommandError(
            f"--sample-size {settings['sample_size']} exceeds --population-size "
            f"{settings['population_size']}"
        )
    return settings


def _check_guided(settings: dict[str, Any], budget: int) -> None:
    if len(settings["predictor"]) > 1:
        raise CommandError("--predictor: a guided search uses one predictor")
    if settings["initial_size"] >= budget:
        raise CommandError(
            f"--initial-size {settings['initial_size']} is not below --budget {budget}: the "
            "search would train random architectures only and never use the predictor; "
            "lower --initial-size, or use --method random"
        )


def _strategy(args: argparse.Namespace, settings: dict[str, Any], space: Any) -> tuple[Any, str]:
    """The search object and its label."""
    from skassess.search import PredictorGuidedSearch, RandomSearch, RegularizedEvolution

    if args.method == "random":
        return RandomSearch(random_state=args.seed), "random search"
    if args.method == "evolution":
        evolution = RegularizedEvolution(
            population_size=settings["population_size"],
            sample_size=settings["sample_size"],
            random_state=args.seed,
        )
        return evolution, "regularized evolution"
    name = settings["predictor"][0]
    guided = PredictorGuidedSearch(
        build_predictor(name, args.seed, settings["max_iter"], space),
        initial_size=settings["initial_size"],
        batch_size=settings["batch_size"],
        pool_size=settings["pool_size"],
        unlabeled_size=settings["unlabeled_size"],
        random_state=args.seed,
    )
    return guided, f"guided by {name}"


def _run_with_progress(strategy: Any, benchmark: Any, args: argparse.Namespace, console: Console):
    """Run the search with a progress bar that shows the best value so far."""
    bar = console.progress(args.budget, "search")
    best = float("-inf")

    def on_query(query: Any) -> None:
        nonlocal best
        best = max(best, query.value)
        bar.set_postfix_str(f"best {best:.4g}", refresh=False)
        bar.update()

    result = strategy.run(benchmark, args.budget, metric=args.metric, callback=on_query)
    bar.close()
    return result


def _print_result(console: Console, result: Any, values: Any, metric: str, space: Any) -> None:
    import numpy as np

    curve = result.best_so_far()
    ranks = result.rank_so_far(values)
    n_space = int(np.isfinite(values).sum())
    console.result(f"{'queries':>8}  {'best ' + metric:>20}  {'rank in space':>13}")
    for step in checkpoints(len(result)):
        console.result(f"{step:>8}  {curve[step - 1]:>20.4f}  {ranks[step - 1]:>13}")
    best = result.best
    console.result(
        f"best found: {best.value:.4f} (rank {ranks[-1]} of {n_space}) at query "
        f"{best.step + 1}: {describe_cell(best.cell, space)}, hash {best.hash}"
    )


def _write(
    output: OutputFolder, result: Any, label: str, title: str, metric: str, console: Console
) -> None:
    from skassess.plotting import plot_best_so_far, save_figure

    csv_path, json_path = output.file("search.csv"), output.file("search.json")
    result.to_csv(csv_path)
    result.to_json(json_path)
    curves = {label: [result.best_so_far()]}
    ax = plot_best_so_far(curves, title=title, ylabel=f"best {metric} found")
    figure = save_figure(ax, output.file("search.png"))
    console.result(f"query log: {csv_path}")
    console.result(f"           {json_path}")
    console.result(f"curve:     {figure}")


def checkpoints(n: int) -> list[int]:
    """Query counts at which to print the curve: powers of ten, twice and five times them, n.

    Examples
    --------
    >>> checkpoints(30)
    [1, 2, 5, 10, 20, 30]
    """
    steps = {n}
    for power in (1, 10, 100, 1000, 10000):
        steps.update(step for step in (power, 2 * power, 5 * power) if step < n)
    return sorted(steps)
