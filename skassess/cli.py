"""The ``skassess`` command: demo, evaluation, search and data conversion.

Run ``skassess --help`` (or ``python -m skassess --help``) for the commands and
``skassess COMMAND --help`` for each one's options and examples.

The module imports only the standard library at start-up, so that ``--help``
answers at once; numpy, torch, matplotlib and the estimators are imported by
the command that needs them. Expected failures (a missing file, an unknown
benchmark, a bad value) end with one line on stderr and exit status 1, usage
errors with exit status 2; ``--debug`` shows the full traceback instead.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import textwrap
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

__all__ = ["main"]

PROG = "skassess"

#: Benchmarks by command-line name: (description, file names looked for in a data folder).
BENCHMARKS = {
    "nasbench101": (
        "NAS-Bench-101, CIFAR-10, 423,624 cells (target test_accuracy)",
        ("nasbench_full.tfrecord", "nasbench_only108.tfrecord", "nasbench101.npz"),
    ),
    "nasbench201": (
        "NAS-Bench-201, 15,625 cells (target cifar10_valid_val)",
        ("nasbench201.npz",),
    ),
    "nasbench-graph": (
        "NAS-Bench-Graph, 26,206 GNNs; add ':DATASET' (cora, citeseer, pubmed, cs, "
        "physics, photo, computers, arxiv, proteins; default cora), shipped with the "
        "nas-bench-graph package, no file needed",
        (),
    ),
}

#: The node-classification data sets of NAS-Bench-Graph (``nas_bench_graph``).
GRAPH_DATASETS = (
    "cora", "citeseer", "pubmed", "cs", "physics", "photo", "computers", "arxiv", "proteins"
)  # fmt: skip

#: Predictors by command-line name: description.
PREDICTORS = {
    "assessor": "the semi-supervised assessor, skassess.SemiSupervisedAssessor",
    "random-forest": "random forest on adjacency + one-hot ops (E2EPP)",
    "mlp": "MLP on path encodings (BANANAS)",
    "gradient-boosting": "histogram gradient-boosted trees on adjacency + one-hot ops",
    "embedding": "label propagation on auto-encoder embeddings (semi-supervised)",
    "neural-predictor": "GCN on each cell's graph (Wen et al., Neural Predictor)",
}

#: The demo's assessor settings: one network and fewer graph rebuilds than the defaults,
#: so that fitting on all 26,206 NAS-Bench-Graph architectures takes well under a minute
#: on two cores (Kendall tau on Cora with 100 labels, seed 0: 0.31; random forest 0.22).
DEMO_ASSESSOR = {"n_ensemble": 1, "max_iter": 50, "graph_update_interval": 25}

SEARCH_METHODS = {
    "guided": "predictor-guided search (PredictorGuidedSearch)",
    "random": "random search (RandomSearch)",
    "evolution": "regularized evolution (RegularizedEvolution)",
}


class CommandError(Exception):
    """An expected failure, reported as one line on stderr."""


# -- argument parsing -----------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line on stderr."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


class _Formatter(argparse.RawDescriptionHelpFormatter):
    def __init__(self, prog: str) -> None:
        super().__init__(prog, max_help_position=32)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer seed, got {text!r}") from None
    if not 0 <= value < 2**32:
        raise argparse.ArgumentTypeError(f"a seed is between 0 and 2**32 - 1, got {text!r}")
    return value


def _benchmark_name(text: str) -> str:
    name, _, dataset = text.partition(":")
    name = name.lower().replace("_", "-")
    aliases = {"nb101": "nasbench101", "nb201": "nasbench201", "nasbench-101": "nasbench101"}
    aliases |= {"nasbench-201": "nasbench201", "nasbenchgraph": "nasbench-graph"}
    name = aliases.get(name, name)
    if name not in BENCHMARKS:
        raise argparse.ArgumentTypeError(
            f"unknown benchmark {text!r}; choose from nasbench101, nasbench201, "
            "nasbench-graph:DATASET"
        )
    if dataset and name != "nasbench-graph":
        raise argparse.ArgumentTypeError(
            f"{name} has no data sets to choose with ':', got {text!r}"
        )
    if name != "nasbench-graph":
        return name
    return f"{name}:{_graph_dataset(dataset or 'cora')}"


def _graph_dataset(text: str) -> str:
    name = text.lower()
    if name not in GRAPH_DATASETS:
        raise argparse.ArgumentTypeError(
            f"unknown NAS-Bench-Graph data set {text!r}; choose from {', '.join(GRAPH_DATASETS)}"
        )
    return name


def _predictor_list(text: str) -> list[str]:
    names = [name.strip().lower() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in PREDICTORS]
    if not names or unknown:
        raise argparse.ArgumentTypeError(
            f"unknown predictor {', '.join(unknown) or repr(text)}; choose from "
            + ", ".join(PREDICTORS)
        )
    return names


def _add_common(parser: argparse.ArgumentParser, *, output: str) -> None:
    parser.add_argument(
        "--seed", type=_seed, default=0, help="random seed; same seed, same result (default: 0)"
    )
    parser.add_argument(
        "--output-dir",
        type=Path,
        default=Path(output),
        metavar="DIR",
        help=f"where result files go, created if needed (default: {output})",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bars or chatter")
    parser.add_argument(
        "--debug", action="store_true", help="show full tracebacks on errors (for bug reports)"
    )


def _add_benchmark(parser: argparse.ArgumentParser, default: str) -> None:
    parser.add_argument(
        "--benchmark",
        "-b",
        type=_benchmark_name,
        default=default,
        metavar="NAME",
        help=f"benchmark to use, see below (default: {default})",
    )
    parser.add_argument(
        "--data",
        type=Path,
        metavar="PATH",
        help="benchmark file, or a folder holding it (default: $SKASSESS_DATA, "
        "~/skassess_data, then ../shared/data)",
    )
    parser.add_argument(
        "--metric",
        metavar="NAME",
        help="metric to predict or maximise (default: the benchmark's target)",
    )


DESCRIPTION = """\
Predict how good a neural architecture is before training it.

skassess fits performance predictors (the semi-supervised assessor of Tang et
al., CVPR 2020, and baselines) on a few trained architectures of a tabular NAS
benchmark and ranks all the others; it also runs budgeted searches guided by
them.
"""

EPILOG = """\
examples:
  skassess demo                          # assessor vs random forest on NAS-Bench-Graph Cora
  skassess evaluate -b nasbench201 --labeled 100 300
  skassess search -b nasbench201 --method evolution --budget 300
  skassess convert nasbench_only108.tfrecord -o nasbench101.npz

Run 'skassess COMMAND --help' for the options of a command.
"""


def _benchmarks_epilog() -> str:
    lines = ["benchmarks (--benchmark NAME):"]
    for name, (text, _) in BENCHMARKS.items():
        lines.append(
            textwrap.fill(text, 79, initial_indent=f"  {name:<15} ", subsequent_indent=" " * 18)
        )
    return "\n".join(lines)


def _paragraph(text: str) -> str:
    return textwrap.fill(" ".join(text.split()), 79)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``skassess`` command."""
    parser = _Parser(prog=PROG, description=DESCRIPTION, epilog=EPILOG, formatter_class=_Formatter)
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    demo = commands.add_parser(
        "demo",
        help="fit the assessor on a small labeled set and rank every architecture",
        description=_paragraph(
            "Label a small random set of architectures of NAS-Bench-Graph (no "
            "download: the data ship with the nas-bench-graph package), fit the "
            "semi-supervised assessor on all architectures (labeled and unlabeled), and "
            "compare its ranking of the unlabeled ones with a random forest's by Kendall "
            "tau. Lists the top 10 predicted architectures and saves a scatter plot."
        ),
        epilog="examples:\n  skassess demo\n  skassess demo --dataset citeseer --labeled 200 "
        "--seed 1\n  skassess demo --pool-size 2000 --max-iter 20   # a quick check",
        formatter_class=_Formatter,
    )
    demo.add_argument(
        "--dataset",
        type=_graph_dataset,
        default="cora",
        metavar="NAME",
        help="NAS-Bench-Graph data set (default: cora)",
    )
    demo.add_argument(
        "--labeled",
        type=_positive_int,
        default=100,
        metavar="N",
        help="architectures whose performance is revealed (default: 100)",
    )
    demo.add_argument(
        "--pool-size",
        type=_positive_int,
        metavar="N",
        help="use only N random architectures in all (default: every one)",
    )
    demo.add_argument(
        "--max-iter",
        type=_positive_int,
        metavar="N",
        help="training epochs of the assessor (default: 50)",
    )
    _add_common(demo, output="skassess-demo")

    evaluate = commands.add_parser(
        "evaluate",
        help="cross-validated comparison of predictors on a benchmark",
        description=_paragraph(
            "Draw LABELED architectures (revealed) and POOL unlabeled ones from a "
            "benchmark, cross-validate each predictor with SemiSupervisedKFold (test folds "
            "hold labeled architectures only; every training fold keeps the unlabeled pool) "
            "and report Kendall tau and Spearman rho of the held-out rankings. Writes "
            "evaluate.json and evaluate.png."
        ),
        epilog="examples:\n  skassess evaluate -b nasbench201 --labeled 100 300\n"
        "  skassess evaluate -b nasbench101 --predictors assessor,random-forest "
        "--pool-size 5000\n\n" + _benchmarks_epilog(),
        formatter_class=_Formatter,
    )
    _add_benchmark(evaluate, "nasbench-graph:cora")
    evaluate.add_argument(
        "--predictors",
        type=_predictor_list,
        default=["assessor", "random-forest"],
        metavar="A,B",
        help="comma-separated predictors: " + "; ".join(f"{k}: {v}" for k, v in PREDICTORS.items()),
    )
    evaluate.add_argument(
        "--labeled",
        type=_positive_int,
        nargs="+",
        default=[100],
        metavar="N",
        help="labeled set size(s) (default: 100)",
    )
    evaluate.add_argument(
        "--pool-size",
        type=_positive_int,
        default=2000,
        metavar="N",
        help="unlabeled architectures given to semi-supervised predictors (default: 2000)",
    )
    evaluate.add_argument(
        "--folds", type=_positive_int, default=5, metavar="K", help="CV folds (default: 5)"
    )
    evaluate.add_argument(
        "--max-iter",
        type=_positive_int,
        metavar="N",
        help="training epochs of iterative predictors (default: their own)",
    )
    _add_common(evaluate, output="skassess-output")

    search = commands.add_parser(
        "search",
        help="budgeted architecture search on a benchmark",
        description=_paragraph(
            "Search a benchmark for its best architecture with a budget of "
            "trainings (look-ups). Prints the best found, its rank in the whole space and "
            "the best-so-far curve; writes the query log (search.csv, search.json) and the "
            "curve (search.png)."
        ),
        epilog="examples:\n  skassess search -b nasbench201 --method random --budget 200\n"
        "  skassess search -b nasbench101 --method guided --predictor random-forest "
        "--budget 300\n  skassess search -b nasbench-graph:cora --method evolution "
        "--budget 100 \\\n      --population-size 20 --sample-size 5\n\n" + _benchmarks_epilog(),
        formatter_class=_Formatter,
    )
    _add_benchmark(search, "nasbench-graph:cora")
    search.add_argument(
        "--method",
        choices=list(SEARCH_METHODS),
        default="guided",
        help="; ".join(f"{k}: {v}" for k, v in SEARCH_METHODS.items()) + " (default: guided)",
    )
    search.add_argument(
        "--budget",
        type=_positive_int,
        default=100,
        metavar="N",
        help="architectures the search may train (default: 100)",
    )
    search.add_argument(
        "--predictor",
        type=_predictor_list,
        default=["assessor"],
        metavar="NAME",
        help="guided: predictor, one of " + ", ".join(PREDICTORS) + " (default: assessor)",
    )
    search.add_argument(
        "--initial-size",
        type=_positive_int,
        default=20,
        metavar="N",
        help="guided: random architectures trained before the first fit (default: 20)",
    )
    search.add_argument(
        "--batch-size",
        type=_positive_int,
        default=10,
        metavar="N",
        help="guided: architectures trained per fit (default: 10)",
    )
    search.add_argument(
        "--pool-size",
        type=_positive_int,
        default=5000,
        metavar="N",
        help="guided: candidates ranked per fit (default: 5000)",
    )
    search.add_argument(
        "--unlabeled-size",
        type=_positive_int,
        metavar="N",
        help="guided, semi-supervised predictors: candidates also given to fit as "
        "unlabeled; fewer than --pool-size makes fits cheaper (default: the whole pool)",
    )
    search.add_argument(
        "--max-iter",
        type=_positive_int,
        metavar="N",
        help="guided: training epochs of the predictor (default: its own)",
    )
    search.add_argument(
        "--population-size",
        type=_positive_int,
        default=100,
        metavar="N",
        help="evolution: population size (default: 100)",
    )
    search.add_argument(
        "--sample-size",
        type=_positive_int,
        default=25,
        metavar="N",
        help="evolution: tournament size (default: 25)",
    )
    _add_common(search, output="skassess-output")

    convert = commands.add_parser(
        "convert",
        help="convert the official NAS-Bench-101 TFRecord file to a fast .npz",
        description=_paragraph(
            "Parse an official NAS-Bench-101 file (nasbench_only108.tfrecord or "
            "nasbench_full.tfrecord; no TensorFlow needed) into an .npz that "
            "skassess.datasets.load_nasbench101 reads in seconds."
        ),
        epilog="example:\n  skassess convert ~/data/nasbench_only108.tfrecord -o "
        "~/skassess_data/nasbench101.npz",
        formatter_class=_Formatter,
    )
    convert.add_argument("tfrecord", type=Path, metavar="TFRECORD", help="the official file")
    convert.add_argument(
        "--output",
        "-o",
        type=Path,
        metavar="NPZ",
        help="destination (default: TFRECORD with the suffix .npz)",
    )
    convert.add_argument("--quiet", action="store_true", help="no chatter")
    convert.add_argument("--debug", action="store_true", help="show full tracebacks on errors")
    return parser


def _version() -> str:
    from skassess import __version__

    return __version__


# -- shared helpers -------------------------------------------------------------------


class _Console:
    """Where a command writes: results to stdout, chatter unless quiet, bars on stderr."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet

    def result(self, text: str = "") -> None:
        print(text, flush=True)

    def info(self, text: str) -> None:
        if not self.quiet:
            from tqdm.auto import tqdm

            tqdm.write(text, file=sys.stdout)  # does not break a progress bar

    def progress(self, total: int | None, description: str) -> Any:
        from tqdm.auto import tqdm

        return tqdm(total=total, desc=description, disable=self.quiet, leave=False, file=sys.stderr)


def _default_data_folders() -> list[Path]:
    from skassess.datasets import get_data_home

    project = Path(__file__).resolve().parents[1]
    folders = [get_data_home(), Path.cwd().parent / "shared" / "data"]
    folders.append(project.parent / "shared" / "data")
    return list(dict.fromkeys(folders))


def _resolve_data_file(benchmark: str, data: Path | None) -> Path:
    """The file to load ``benchmark`` from: ``data`` itself, or the first match in a folder."""
    file_names = BENCHMARKS[benchmark.partition(":")[0]][1]
    if data is not None and not data.exists():
        raise CommandError(f"--data {data}: no such file or folder")
    if data is not None and data.is_file():
        return data
    folders = [data] if data is not None else _default_data_folders()
    for folder in folders:
        for name in file_names:
            if (folder / name).is_file():
                return folder / name
    if data is not None:
        raise CommandError(f"--data {data}: the folder holds none of {', '.join(file_names)}")
    looked = ", ".join(str(folder) for folder in folders)
    raise CommandError(
        f"no {benchmark} file ({' or '.join(file_names)}) found in {looked}; "
        "pass --data PATH or set SKASSESS_DATA to its folder"
    )


def load_benchmark(name: str, data: Path | None = None) -> Any:
    """Load a benchmark by its command-line name (see :data:`BENCHMARKS`)."""
    family, _, dataset = name.partition(":")
    path = None if family == "nasbench-graph" else _resolve_data_file(name, data)
    from skassess import datasets

    if family == "nasbench-graph":
        return datasets.load_nasbench_graph(dataset or "cora")
    loader = datasets.load_nasbench101 if family == "nasbench101" else datasets.load_nasbench201
    return loader(path)


def make_predictor(name: str, seed: int, max_iter: int | None = None, space: Any = None) -> Any:
    """A fresh predictor by its command-line name (see :data:`PREDICTORS`).

    ``max_iter`` sets every ``max_iter`` parameter of the predictor (epochs of
    the neural ones, boosting rounds of gradient boosting); ``space`` fixes the
    operation vocabulary of the encoders.
    """
    if name == "assessor":
        from skassess import SemiSupervisedAssessor

        estimator = SemiSupervisedAssessor(random_state=seed)
    elif name == "neural-predictor":
        from skassess.baselines import NeuralPredictor

        estimator = NeuralPredictor(random_state=seed)
    else:
        from skassess import baselines

        factories = {
            "random-forest": lambda: baselines.make_random_forest_predictor(
                space, random_state=seed, n_jobs=1
            ),
            "mlp": lambda: baselines.make_mlp_predictor(space, random_state=seed),
            "gradient-boosting": lambda: baselines.make_gradient_boosting_predictor(
                space, random_state=seed
            ),
            "embedding": lambda: baselines.make_embedding_predictor(random_state=seed),
        }
        if name not in factories:  # pragma: no cover - the parser rejects other names
            raise CommandError(f"unknown predictor {name!r}")
        estimator = factories[name]()
    if max_iter is not None:
        iterations = [
            key
            for key in estimator.get_params(deep=True)
            if key == "max_iter" or key.endswith("__max_iter")
        ]
        estimator.set_params(**dict.fromkeys(iterations, max_iter))
    return estimator


def _metric_values(benchmark: Any, metric: str | None) -> tuple[str, Any]:
    import numpy as np

    if metric is None:
        return benchmark.target, np.asarray(benchmark.y, dtype=float)
    if metric not in benchmark.metrics:
        raise CommandError(
            f"--metric {metric}: {benchmark.name} has no such metric; it has "
            + ", ".join(sorted(benchmark.metrics))
        )
    return metric, np.asarray(benchmark.metrics[metric], dtype=float)


def _describe_cell(cell: Any, space: Any = None) -> str:
    """A one-line description of a cell, in its benchmark's native notation where known."""
    try:
        if hasattr(space, "arch"):  # NAS-Bench-Graph: (link, ops)
            link, ops = space.arch(cell)
            return f"link {link} ops {'|'.join(ops)}"
        if hasattr(space, "arch_str"):  # NAS-Bench-201
            return str(space.arch_str(cell))
    except ValueError:
        pass
    inner = "|".join(cell.ops[1:-1])
    return f"{inner} ({cell.n_vertices} vertices, {cell.n_edges} edges)"


def _true_ranks(values: Any) -> Any:
    """Rank of each value in the space: 1 + number of strictly better values."""
    import numpy as np

    finite = np.sort(values[np.isfinite(values)])
    return finite.size - np.searchsorted(finite, values, side="right") + 1


def _write_json(path: Path, payload: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=1), encoding="utf-8")
    return path


def _kendall_tau(y_true: Any, y_pred: Any) -> float:
    from skassess.metrics import kendall_tau

    return float(kendall_tau(y_true, y_pred))


def _spearman_rho(y_true: Any, y_pred: Any) -> float:
    from skassess.metrics import spearman_rho

    return float(spearman_rho(y_true, y_pred))


# -- the commands ---------------------------------------------------------------------


def run_demo(args: argparse.Namespace) -> int:
    """``skassess demo``: see :func:`build_parser`."""
    console = _Console(args.quiet)
    with console.progress(4, "demo") as stages:
        return _demo(args, console, stages)


def _demo(args: argparse.Namespace, console: _Console, stages: Any) -> int:
    import numpy as np

    from skassess.plotting import plot_predicted_vs_true, save_figure

    stages.set_postfix_str("loading NAS-Bench-Graph")
    from skassess.datasets import load_nasbench_graph

    benchmark = load_nasbench_graph(args.dataset)
    rng = np.random.RandomState(args.seed)
    if args.pool_size is not None and args.pool_size < len(benchmark):
        benchmark = benchmark.subset(np.sort(rng.choice(len(benchmark), args.pool_size, False)))
    n_cells = len(benchmark)
    if args.labeled >= n_cells:
        raise CommandError(
            f"--labeled {args.labeled}: must be smaller than the {n_cells} architectures used"
        )
    y_all = np.asarray(benchmark.y, dtype=float)
    labeled = np.sort(rng.choice(n_cells, args.labeled, replace=False))
    unlabeled = np.setdiff1d(np.arange(n_cells), labeled)
    y = np.full(n_cells, np.nan)
    y[labeled] = y_all[labeled]
    cells = benchmark.cells
    stages.update()
    console.info(
        f"{benchmark.name}: {n_cells} architectures, {args.labeled} labeled at random "
        f"(seed {args.seed}); target {benchmark.target}"
    )

    stages.set_postfix_str("fitting the assessor")
    start = time.perf_counter()
    assessor = make_predictor("assessor", args.seed)
    assessor.set_params(**DEMO_ASSESSOR)
    if args.max_iter is not None:
        assessor.set_params(max_iter=args.max_iter)
    assessor.fit(cells, y)
    assessor_time = time.perf_counter() - start
    scores = np.asarray(assessor.transduction_, dtype=float)
    stages.update()

    stages.set_postfix_str("fitting the random forest")
    start = time.perf_counter()
    forest = make_predictor("random-forest", args.seed, space=benchmark.space)
    forest.fit([cells[i] for i in labeled], y_all[labeled])
    forest_scores = np.asarray(forest.predict([cells[i] for i in unlabeled]), dtype=float)
    forest_time = time.perf_counter() - start
    stages.update()

    tau = _kendall_tau(y_all[unlabeled], scores[unlabeled])
    forest_tau = _kendall_tau(y_all[unlabeled], forest_scores)
    ranks = _true_ranks(y_all)
    top = unlabeled[np.argsort(-scores[unlabeled], kind="stable")[:10]]

    stages.set_postfix_str("plotting")
    ax = plot_predicted_vs_true(
        y_all[unlabeled],
        scores[unlabeled],
        highlight=np.searchsorted(unlabeled, top),
        title=f"{benchmark.name}\n{args.labeled} labeled, Kendall tau {tau:.3f}",
        xlabel=f"true {benchmark.target}",
        ylabel="assessor score",
    )
    figure = save_figure(ax, args.output_dir / "demo_scatter.png")
    stages.update()
    stages.close()

    console.result(
        f"Kendall tau on the {unlabeled.size} unlabeled architectures ({args.labeled} labeled):"
    )
    epochs = assessor.get_params()["max_iter"]
    console.result(
        f"  semi-supervised assessor  {tau:7.3f}   (fit {assessor_time:.1f} s, {epochs} epochs, "
        "on all architectures)"
    )
    console.result(f"  random forest             {forest_tau:7.3f}   (fit {forest_time:.1f} s)")
    console.result("")
    console.result(f"Top 10 predicted architectures (of {n_cells}; true rank 1 is the best):")
    console.result(f"  {'#':>2}  {'true ' + benchmark.target:>16}  {'true rank':>9}  architecture")
    for position, index in enumerate(top, start=1):
        console.result(
            f"  {position:>2}  {y_all[index]:16.4f}  {ranks[index]:>9}  "
            f"{_describe_cell(cells[index], benchmark.space)}"
        )
    summary = {
        "benchmark": benchmark.name,
        "target": benchmark.target,
        "n_architectures": n_cells,
        "n_labeled": args.labeled,
        "seed": args.seed,
        "kendall_tau": {"assessor": tau, "random_forest": forest_tau},
        "fit_seconds": {"assessor": assessor_time, "random_forest": forest_time},
        "top10": [
            {"index": int(i), "true": float(y_all[i]), "true_rank": int(ranks[i])} for i in top
        ],
    }
    json_path = _write_json(args.output_dir / "demo.json", summary)
    console.result("")
    console.result(f"scatter plot: {figure}")
    console.result(f"summary:      {json_path}")
    return 0


def run_evaluate(args: argparse.Namespace) -> int:
    """``skassess evaluate``: see :func:`build_parser`."""
    import numpy as np

    from skassess.model_selection import SemiSupervisedKFold
    from skassess.plotting import plot_tau_vs_labeled, save_figure
    from skassess.utils import uses_unlabeled

    console = _Console(args.quiet)
    benchmark = load_benchmark(args.benchmark, args.data)
    metric, values = _metric_values(benchmark, args.metric)
    searchable = np.flatnonzero(np.isfinite(values))
    largest = max(args.labeled)
    if largest + args.pool_size > searchable.size:
        raise CommandError(
            f"--labeled {largest} plus --pool-size {args.pool_size} exceed the "
            f"{searchable.size} architectures of {benchmark.name} with a known {metric}"
        )
    if args.folds < 2:
        raise CommandError(f"--folds {args.folds}: cross-validation needs at least 2 folds")
    if min(args.labeled) < args.folds:
        raise CommandError(f"--labeled {min(args.labeled)}: fewer than --folds {args.folds}")

    console.info(
        f"{benchmark.name}: {args.folds}-fold CV of {', '.join(args.predictors)} on "
        f"{' / '.join(map(str, args.labeled))} labeled + {args.pool_size} unlabeled "
        f"architectures; metric {metric}"
    )
    rng = np.random.RandomState(args.seed)
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
                estimator = make_predictor(name, args.seed + fold, args.max_iter, benchmark.space)
                if not uses_unlabeled(estimator):
                    train = train[np.isfinite(y[train])]
                start = time.perf_counter()
                estimator.fit([cells[i] for i in train], y[train])
                predicted = estimator.predict([cells[i] for i in test])
                record["seconds"].append(time.perf_counter() - start)
                record["tau"].append(_kendall_tau(y[test], predicted))
                record["rho"].append(_spearman_rho(y[test], predicted))
                bar.update()
    bar.close()

    console.result(f"{benchmark.name}, {metric}: mean ± sd over {args.folds} folds")
    header = f"  {'predictor':<18} {'labeled':>7}  {'Kendall tau':>13}  {'Spearman rho':>13}"
    console.result(header + f"  {'fit+predict s':>13}")
    for name in args.predictors:
        for n_labeled in args.labeled:
            record = scores[name][n_labeled]
            console.result(
                f"  {name:<18} {n_labeled:>7}  {_mean_sd(record['tau']):>13}  "
                f"{_mean_sd(record['rho']):>13}  {np.mean(record['seconds']):>13.1f}"
            )
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
    json_path = _write_json(args.output_dir / "evaluate.json", payload)
    ax = plot_tau_vs_labeled(
        {name: {n: r["tau"] for n, r in by_size.items()} for name, by_size in scores.items()},
        log_x=len(args.labeled) > 1,
        title=f"{benchmark.name}: {args.folds}-fold CV, {args.pool_size} unlabeled",
    )
    figure = save_figure(ax, args.output_dir / "evaluate.png")
    console.result(f"results: {json_path}")
    console.result(f"plot:    {figure}")
    return 0


def _mean_sd(values: Sequence[float]) -> str:
    import numpy as np

    return f"{np.mean(values):.3f} ± {np.std(values):.3f}"


def run_search(args: argparse.Namespace) -> int:
    """``skassess search``: see :func:`build_parser`."""
    import numpy as np

    from skassess.plotting import plot_best_so_far, save_figure
    from skassess.search import PredictorGuidedSearch, RandomSearch, RegularizedEvolution

    console = _Console(args.quiet)
    benchmark = load_benchmark(args.benchmark, args.data)
    metric, values = _metric_values(benchmark, args.metric)
    if args.method == "guided":
        predictor = args.predictor[0]
        if len(args.predictor) > 1:
            raise CommandError("--predictor: a guided search uses one predictor")
        strategy: Any = PredictorGuidedSearch(
            make_predictor(predictor, args.seed, args.max_iter, benchmark.space),
            initial_size=args.initial_size,
            batch_size=args.batch_size,
            pool_size=args.pool_size,
            unlabeled_size=args.unlabeled_size,
            random_state=args.seed,
        )
        label = f"guided by {predictor}"
    elif args.method == "evolution":
        if args.sample_size > args.population_size:
            raise CommandError(
                f"--sample-size {args.sample_size} exceeds --population-size {args.population_size}"
            )
        strategy = RegularizedEvolution(
            population_size=args.population_size,
            sample_size=args.sample_size,
            random_state=args.seed,
        )
        label = "regularized evolution"
    else:
        strategy = RandomSearch(random_state=args.seed)
        label = "random search"

    console.info(
        f"{benchmark.name}: {label}, budget {args.budget} trainings, maximising {metric} "
        f"(seed {args.seed})"
    )
    bar = console.progress(args.budget, "search")

    running_best = [-np.inf]

    def on_query(query: Any) -> None:
        running_best[0] = max(running_best[0], query.value)
        bar.set_postfix_str(f"best {running_best[0]:.4g}", refresh=False)
        bar.update()

    result = strategy.run(benchmark, args.budget, metric=args.metric, callback=on_query)
    bar.close()

    curve = result.best_so_far()
    ranks = result.rank_so_far(values)
    n_space = int(np.isfinite(values).sum())
    console.result(f"{'queries':>8}  {'best ' + metric:>20}  {'rank in space':>13}")
    for step in _checkpoints(len(result)):
        console.result(f"{step:>8}  {curve[step - 1]:>20.4f}  {ranks[step - 1]:>13}")
    best = result.best
    console.result(
        f"best found: {best.value:.4f} (rank {ranks[-1]} of {n_space}) at query "
        f"{best.step + 1}: {_describe_cell(best.cell, benchmark.space)}, hash {best.hash}"
    )
    if len(result) < args.budget:
        console.result(f"(the benchmark ran out after {len(result)} trainings)")
    args.output_dir.mkdir(parents=True, exist_ok=True)
    csv_path = args.output_dir / "search.csv"
    json_path = args.output_dir / "search.json"
    result.to_csv(csv_path)
    result.to_json(json_path)
    ax = plot_best_so_far(
        {label: [curve]},
        title=f"{benchmark.name}: {label}",
        ylabel=f"best {metric} found",
    )
    figure = save_figure(ax, args.output_dir / "search.png")
    console.result(f"query log: {csv_path}")
    console.result(f"           {json_path}")
    console.result(f"curve:     {figure}")
    return 0


def _checkpoints(n: int) -> list[int]:
    """Query counts at which to print the curve: powers of ten, their halves, and n."""
    steps = {n}
    for power in (1, 10, 100, 1000, 10000):
        steps.update(step for step in (power, 2 * power, 5 * power) if step < n)
    return sorted(steps)


def run_convert(args: argparse.Namespace) -> int:
    """``skassess convert``: see :func:`build_parser`."""
    console = _Console(args.quiet)
    if not args.tfrecord.is_file():
        what = "is a folder" if args.tfrecord.is_dir() else "does not exist"
        raise CommandError(f"{args.tfrecord} {what}; give the official NAS-Bench-101 file")
    output = args.output if args.output is not None else args.tfrecord.with_suffix(".npz")
    if output.resolve() == args.tfrecord.resolve():
        raise CommandError(f"--output {output} would overwrite the input file")
    if output.parent and not output.parent.is_dir():
        raise CommandError(f"--output {output}: the folder {output.parent} does not exist")
    from skassess.datasets import convert_nasbench101

    console.info(f"parsing {args.tfrecord} ...")
    start = time.perf_counter()
    written = convert_nasbench101(args.tfrecord, output)
    console.info(f"done in {time.perf_counter() - start:.1f} s")
    console.result(f"wrote {written}")
    return 0


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "demo": run_demo,
    "evaluate": run_evaluate,
    "search": run_search,
    "convert": run_convert,
}

#: Exceptions that mean bad input or a broken environment rather than a bug.
_EXPECTED = (CommandError, OSError, ValueError, KeyError, ImportError, MemoryError)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``skassess`` command with ``argv`` (default ``sys.argv[1:]``).

    Returns
    -------
    int
        The exit status: 0 on success, 1 for a failure (reported as one line on
        stderr), 2 for a usage error, 130 when interrupted.
    """
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        return int(exit_.code or 0) if not isinstance(exit_.code, str) else 2
    if args.command is None:
        parser.print_help()
        return 2
    os.environ.setdefault("MPLBACKEND", "Agg")
    try:
        return COMMANDS[args.command](args)
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except _EXPECTED as error:
        if args.debug:
            raise
        print(f"{PROG} {args.command}: error: {_one_line(error)}", file=sys.stderr)
        return 1


def _one_line(error: BaseException) -> str:
    if isinstance(error, ModuleNotFoundError) and (error.name or "").startswith("skassess"):
        text = f"this command needs {error.name}, which is not installed in this version"
    elif isinstance(error, KeyError) and type(error).__str__ is KeyError.__str__:
        text = f"not found: {error.args[0] if error.args else error}"
    else:
        text = str(error) or type(error).__name__
    return " ".join(text.split())
