"""Argument types and the options that several commands share.

Only the standard library is imported here: building the parser (for
``--help``) must not pay for numpy, scikit-learn or torch.
"""

from __future__ import annotations

import argparse
import textwrap
from pathlib import Path

from skassess.baselines import available_predictors

PROG = "skassess"

#: Benchmarks by command-line name: their description.
BENCHMARKS = {
    "nasbench101": "NAS-Bench-101, CIFAR-10, 423,624 cells (target test_accuracy)",
    "nasbench201": "NAS-Bench-201, 15,625 cells (target cifar10_valid_val)",
    "nasbench-graph": (
        "NAS-Bench-Graph, 26,206 GNNs; add ':DATASET' (cora, citeseer, pubmed, cs, "
        "physics, photo, computers, arxiv, proteins; default cora), shipped with the "
        "nas-bench-graph package, no file needed"
    ),
}

_BENCHMARK_ALIASES = {
    "nb101": "nasbench101",
    "nasbench-101": "nasbench101",
    "nb201": "nasbench201",
    "nasbench-201": "nasbench201",
    "nasbenchgraph": "nasbench-graph",
}

#: The node-classification data sets of NAS-Bench-Graph (``nas_bench_graph``).
GRAPH_DATASETS = (
    "cora", "citeseer", "pubmed", "cs", "physics", "photo", "computers", "arxiv", "proteins"
)  # fmt: skip


class Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line on stderr."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


class Formatter(argparse.RawDescriptionHelpFormatter):
    """Help as written (examples keep their lines), option help from column 32."""

    def __init__(self, prog: str) -> None:
        super().__init__(prog, max_help_position=32)


class Integer:
    """An argument type: an integer in ``[minimum, maximum]``, or a one-line usage error.

    Parameters
    ----------
    minimum : int
    maximum : int, optional
        No upper bound when None.
    what : str, default="integer"
        What the number is, for the message ("a seed", ...).
    """

    def __init__(self, minimum: int, maximum: int | None = None, what: str = "integer") -> None:
        self.minimum = minimum
        self.maximum = maximum
        self.what = what

    def __call__(self, text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        too_large = self.maximum is not None and value is not None and value > self.maximum
        if value is None or value < self.minimum or too_large:
            raise argparse.ArgumentTypeError(f"expected {self._range()}, got {text!r}")
        return value

    def _range(self) -> str:
        if self.maximum is not None:
            return f"{self.what} from {self.minimum} to {self.maximum}"
        if self.minimum == 1:
            return f"a positive {self.what}"
        return f"{self.what} of at least {self.minimum}"


positive_int = Integer(1)
seed = Integer(0, 2**32 - 1, what="a seed")


def benchmark_name(text: str) -> str:
    """A benchmark's canonical name, ``nasbench-graph:DATASET`` with its data set."""
    name, _, dataset = text.partition(":")
    name = name.lower().replace("_", "-")
    name = _BENCHMARK_ALIASES.get(name, name)
    if name not in BENCHMARKS:
        raise argparse.ArgumentTypeError(
            f"unknown benchmark {text!r}; choose from nasbench101, nasbench201, "
            "nasbench-graph:DATASET"
        )
    if name != "nasbench-graph":
        if dataset:
            raise argparse.ArgumentTypeError(
                f"{name} has no data sets to choose with ':', got {text!r}"
            )
        return name
    return f"{name}:{graph_dataset(dataset or 'cora')}"


def graph_dataset(text: str) -> str:
    """A NAS-Bench-Graph data set name."""
    name = text.lower()
    if name not in GRAPH_DATASETS:
        raise argparse.ArgumentTypeError(
            f"unknown NAS-Bench-Graph data set {text!r}; choose from {', '.join(GRAPH_DATASETS)}"
        )
    return name


def predictor_list(text: str) -> list[str]:
    """Comma-separated names of :func:`skassess.baselines.available_predictors`."""
    known = available_predictors()
    names = [name.strip().lower() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in known]
    if not names or unknown:
        raise argparse.ArgumentTypeError(
            f"unknown predictor {', '.join(unknown) or repr(text)}; choose from " + ", ".join(known)
        )
    return names


def predictors_help(prefix: str) -> str:
    """``prefix`` followed by every predictor's name and description."""
    return prefix + "; ".join(f"{name}: {text}" for name, text in available_predictors().items())


def add_common(parser: argparse.ArgumentParser, *, output: str) -> None:
    """``--seed``, ``--output-dir``, ``--quiet`` and ``--debug``."""
    parser.add_argument(
        "--seed", type=seed, default=0, help="random seed; same seed, same result (default: 0)"
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


def add_benchmark(parser: argparse.ArgumentParser, default: str) -> None:
    """``--benchmark``, ``--data`` and ``--metric``."""
    parser.add_argument(
        "--benchmark",
        "-b",
        type=benchmark_name,
        default=default,
        metavar="NAME",
        help=f"benchmark to use, see below (default: {default})",
    )
    parser.add_argument(
        "--data",
        type=Path,
        metavar="PATH",
        help="benchmark file, or a folder holding it (default: $SKASSESS_DATA, else "
        "~/skassess_data)",
    )
    parser.add_argument(
        "--metric",
        metavar="NAME",
        help="metric to predict or maximise (default: the benchmark's target)",
    )


def benchmarks_epilog() -> str:
    """The list of benchmarks, for a command's epilog."""
    lines = ["benchmarks (--benchmark NAME):"]
    for name, text in BENCHMARKS.items():
        lines.append(
            textwrap.fill(text, 79, initial_indent=f"  {name:<15} ", subsequent_indent=" " * 18)
        )
    return "\n".join(lines)


def paragraph(text: str) -> str:
    """``text`` as one paragraph of at most 79 columns."""
    return textwrap.fill(" ".join(text.split()), 79)
