"""What every command shares: errors, the console, the output folder, data and predictors.

numpy, the estimators and the loaders are imported inside the functions that
use them, so that importing this module (to build the parser) stays cheap.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

__all__ = [
    "CommandError",
    "Console",
    "OutputFolder",
    "UsageError",
    "build_predictor",
    "describe_cell",
    "load_benchmark",
    "metric_values",
    "true_ranks",
    "write_json",
]


class CommandError(Exception):
    """An expected failure, reported as one line on stderr with exit status 1."""

    status = 1


class UsageError(CommandError):
    """Options that make no sense together, reported like a parser error (status 2)."""

    status = 2


class Console:
    """Where a command writes: results to stdout, chatter unless quiet, bars on stderr."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet

    def result(self, text: str = "") -> None:
        """Print a line of the results."""
        print(text, flush=True)

    def info(self, text: str) -> None:
        """Print a line of chatter, unless quiet, without breaking a progress bar."""
        if not self.quiet:
            from tqdm.auto import tqdm

            tqdm.write(text, file=sys.stdout)

    def progress(self, total: int | None, description: str) -> Any:
        """A progress bar on stderr (a silent one when quiet)."""
        from tqdm.auto import tqdm

        return tqdm(total=total, desc=description, disable=self.quiet, leave=False, file=sys.stderr)


class OutputFolder:
    """Where a command writes its files, checked before any work and created on first use.

    Parameters
    ----------
    path : pathlib.Path
        The folder; it and its missing parents are created by :meth:`file`.
    option : str
        The option that names it, for the error message.

    Raises
    ------
    CommandError
        At once, if a file could not be written there: a file stands in the
        way, or the first existing folder on the path is not writable. Nothing
        is created by the check.
    """

    def __init__(self, path: Path, option: str) -> None:
        self.path = path
        existing = path
        while not existing.exists() and existing != existing.parent:
            existing = existing.parent
        if not existing.is_dir():
            where = "" if existing == path else f": {existing}"
            raise CommandError(f"{option} {path}{where} is a file, not a folder")
        try:
            with tempfile.TemporaryFile(dir=existing):
                pass
        except OSError as error:
            reason = error.strerror or str(error)
            raise CommandError(f"{option} {path}: cannot write in {existing} ({reason})") from None

    def file(self, name: str) -> Path:
        """The path of the file ``name`` in the folder, which is created if needed."""
        self.path.mkdir(parents=True, exist_ok=True)
        return self.path / name


def write_json(path: Path, payload: dict[str, Any]) -> Path:
    """Write ``payload`` as indented JSON; return ``path``."""
    path.write_text(json.dumps(payload, indent=1), encoding="utf-8")
    return path


def load_benchmark(name: str, data: Path | None = None) -> Any:
    """Load a benchmark by its command-line name, from ``--data`` or the data folders."""
    from skassess import datasets

    family, _, dataset = name.partition(":")
    if family == "nasbench-graph":
        if data is not None:
            raise UsageError("--data: NAS-Bench-Graph needs no file (its data ship with it)")
        return datasets.load_nasbench_graph(dataset)
    if data is not None and not data.exists():
        raise CommandError(f"--data {data}: no such file or folder")
    loader = datasets.load_nasbench101 if family == "nasbench101" else datasets.load_nasbench201
    return loader(data)


def metric_values(benchmark: Any, metric: str | None) -> tuple[str, Any]:
    """The name and values of ``metric`` (default: the benchmark's target)."""
    import numpy as np

    if metric is None:
        return benchmark.target, np.asarray(benchmark.y, dtype=float)
    if metric not in benchmark.metrics:
        raise CommandError(
            f"--metric {metric}: {benchmark.name} has no such metric; it has "
            + ", ".join(sorted(benchmark.metrics))
        )
    return metric, np.asarray(benchmark.metrics[metric], dtype=float)


def build_predictor(name: str, seed: int, max_iter: int | None = None, space: Any = None) -> Any:
    """A fresh predictor of :func:`skassess.baselines.get_predictor`, seeded with ``seed``.

    ``max_iter`` and ``space`` are set wherever the predictor has such a
    parameter (epochs of the neural ones, boosting rounds of gradient
    boosting; the op vocabulary of encoders and embedders), and left out
    where it has none.
    """
    from skassess.baselines import get_predictor

    shared = {"max_iter": max_iter, "space": space}
    shared = {key: value for key, value in shared.items() if value is not None}
    return get_predictor(name, random_state=seed, shared_params=shared)


def describe_cell(cell: Any, space: Any = None) -> str:
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


def true_ranks(values: Any) -> Any:
    """Rank of each value in the space: 1 + number of strictly better values."""
    import numpy as np

    finite = np.sort(values[np.isfinite(values)])
    return finite.size - np.searchsorted(finite, values, side="right") + 1
