"""``skassess evaluate``: cross-validated comparison of predictors on a benchmark."""

from __future__ import annotations

import argparse
import time
from typing import Any

from skassess.cli._arguments import (
    Formatter,
    add_benchmark,
    add_common,
    benchmarks_epilog,
    paragraph,
    positive_int,
    predictor_list,
    predictors_help,
)
from skassess.cli._common import (
    CommandError,
    Console,
    OutputFolder,
    build_predictor,
    load_benchmark,
    metric_values,
    write_json,
)


def add_parser(commands: Any) -> None:
    """Register ``evaluate`` and its options."""
    evaluate = commands.add_parser(
        "evaluate",
        help="cross-validated comparison of predictors on a benchmark",
        description=paragraph(
            "Draw LABELED architectures (revealed) and POOL unlabeled ones from a "
            "benchmark, cross-validate each predictor with SemiSupervisedKFold (test folds "
            "hold labeled architectures only; every training fold keeps the unlabeled pool) "
            "and report Kendall tau and Spearman rho of the held-out rankings. Writes "
            "evaluate.json and evaluate.png."
        ),
        epilog="examples:\n  skassess evaluate -b nasbench201 --labeled 100 300\n"
        "  skassess evaluate -b nasbench101 --predictors assessor,random-forest "
        "--pool-size 5000\n\n" + benchmarks_epilog(),
        formatter_class=Formatter,
    )
    add_benchmark(evaluate, "nasbench-graph:cora")
    evaluate.add_argument(
        "--predictors",
        type=predictor_list,
        default=["assessor", "random-forest"],
        metavar="A,B",
        help=predictors_help("comma-separated predictors: "),
    )
    evaluate.add_argument(
        "--labeled",
        type=positive_int,
        nargs="+",
        default=[100],
        metavar="N",
        help="labeled set size(s) (default: 100)",
    )
    evaluate.add_argument(
        "--pool-size",
        type=positive_int,
        default=2000,
        metavar="N",
        help="unlabeled architectures given to semi-supervised predictors (default: 2000)",
    )
    evaluate.add_argument(
        "--folds", type=positive_int, default=5, metavar="K", help="CV folds (default: 5)"
    )
    evaluate.add_argument(
        "--max-iter",
        type=positive_int,
        metavar="N",
        help="training epochs of iterative predictors (default: their own)",
    )
    add_common(evaluate, output="skassess-output")
    evaluate.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Cross-validate every predictor at every labeled size, print and write the scores."""
    _check_folds(args)
    console = Console(args.quiet)
    output = OutputFolder(args.output_dir, "--output-dir")
    benchmark = load_benchmark(args.benchmark, args.data)
    metric, values = metric_values(benchmark, args.metric)
    _check_sizes(args, benchmark, metric, values)
    console.info(
        f"{benchmark.name}: {args.folds}-fold CV of {', '.join(args.predictors)} on "
        f"{' / '.join(map(str, args.labeled))} labeled + {args.pool_size} unlabeled "
        f"architectures; metric {metric}"
    )
    scores = _cross_validate(args, benchmark, values, console)
    _print_scores(console, args, scores, f"{benchmark.name}, {metric}")
    payload = {
        "benchmark": benchmark.name,
        "metric": metric,
        "folds": args.folds,
        "pool_size": args.pool_size,
        "seed": args.seed,
        "results": {
            name: {str(n): record for n, record in by_size.items()}
            for name, by_size in scores.items()
        },
    }
    json_path = write_json(output.file("evaluate.json"), payload)
    figure = _plot(output.file("evaluate.png"), args, scores, benchmark.name)
    console.result(f"results: {json_path}")
    console.result(f"plot:    {figure}")
    return 0


def _check_folds(args: argparse.Namespace) -> None:
    if args.folds < 2:
        raise CommandError(f"--folds {args.folds}: cross-validation needs at least 2 folds")
    if min(args.labeled) < args.folds:
        raise CommandError(f"--labeled {min(args.labeled)}: fewer than --folds {args.folds}")


def _check_sizes(args: argparse.Namespace, benchmark: Any, metric: str, values: Any) -> None:
    import numpy as np

    known = int(np.isfinite(values).sum())
    if max(args.labeled) + args.pool_size > known:
        raise CommandError(
            f"--labeled {max(args.labeled)} plus --pool-size {args.pool_size} exceed the "
            f"{known} architectures of {benchmark.name} with a known {metric}"
        )


def _cross_validate(
    args: argparse.Namespace, benchmark: Any, values: Any, console: Console
) -> dict[str, dict[int, dict[str, list[float]]]]:
    """``{predictor: {labeled size: {"tau", "rho", "seconds": one value per fold}}}``."""
    import numpy as np

    from skassess.model_selection import SemiSupervisedKFold

    rng = np.random.RandomState(args.seed)
    searchable = np.flatnonzero(np.isfinite(values))
    scores: dict[str, dict[int, dict[str, list[float]]]] = {p: {} for p in args.predictors}
    bar = console.progress(len(args.predictors) * len(args.labeled) * args.folds, "evaluate")
    for n_labeled in args.labeled:
        chosen = rng.choice(searchable, n_labeled + args.pool_size, replace=False)
        cells = [benchmark.cells[i] for i in chosen]
        y = values[chosen].copy()
        y[n_labeled:] = np.nan
        splitter = SemiSupervisedKFold(n_splits=args.folds, shuffle=True, random_state=args.seed)
        splits = list(splitter.split(cells, y))
        for name in args.predictors:
            record = scores[name].setdefault(n_labeled, {"tau": [], "rho": [], "seconds": []})
            for fold, (train, test) in enumerate(splits):
                bar.set_postfix_str(f"{name}, {n_labeled} labeled, fold {fold + 1}")
                predictor = build_predictor(name, args.seed + fold, args.max_iter, benchmark.space)
                _score_fold(predictor, cells, y, (train, test), record)
                bar.update()
    bar.close()
    return scores


def _score_fold(predictor: Any, cells: list, y: Any, split: tuple, record: dict) -> None:
    """Fit on a training fold (unlabeled cells only if the predictor takes them), score."""
    import numpy as np

    from skassess.metrics import kendall_tau, spearman_rho
    from skassess.utils import uses_unlabeled

    train, test = split
    if not uses_unlabeled(predictor):
        train = train[np.isfinite(y[train])]
    start = time.perf_counter()
    predictor.fit([cells[i] for i in train], y[train])
    predicted = predictor.predict([cells[i] for i in test])
    record["seconds"].append(time.perf_counter() - start)
    record["tau"].append(float(kendall_tau(y[test], predicted)))
    record["rho"].append(float(spearman_rho(y[test], predicted)))


def _print_scores(console: Console, args: argparse.Namespace, scores: dict, title: str) -> None:
    import numpy as np

    console.result(f"{title}: mean ± sd over {args.folds} folds")
    header = f"  {'predictor':<18} {'labeled':>7}  {'Kendall tau':>13}  {'Spearman rho':>13}"
    console.result(header + f"  {'fit+predict s':>13}")
    for name in args.predictors:
        for n_labeled in args.labeled:
            record = scores[name][n_labeled]
            console.result(
                f"  {name:<18} {n_labeled:>7}  {_mean_sd(record['tau']):>13}  "
                f"{_mean_sd(record['rho']):>13}  {np.mean(record['seconds']):>13.1f}"
            )


def _mean_sd(values: list[float]) -> str:
    import numpy as np

    return f"{np.mean(values):.3f} ± {np.std(values):.3f}"


def _plot(path: Any, args: argparse.Namespace, scores: dict, name: str) -> Any:
    from skassess.plotting import plot_tau_vs_labeled, save_figure

    taus = {
        predictor: {n: record["tau"] for n, record in by_size.items()}
        for predictor, by_size in scores.items()
    }
    ax = plot_tau_vs_labeled(
        taus,
        log_x=len(args.labeled) > 1,
        title=f"{name}: {args.folds}-fold CV, {args.pool_size} unlabeled",
    )
    return save_figure(ax, path)
