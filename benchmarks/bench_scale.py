"""Scale benchmark: the assessors on pools of 10k, 50k, 100k and all 423,624 NAS-Bench-101 cells.

Every pool holds the same 1,000 labeled cells (targets: test accuracy) and is
otherwise unlabeled; pools are nested (each one contains the smaller ones).
For each pool size, in a fresh process (so that its peak memory is its own):

* the two-stage pipeline ``ArchitectureEmbedder -> TransductiveGCNRegressor``,
  stage by stage: embedder training, embedding of the pool, GCN fit (of which
  the relation graph), and ``predict`` on new cells;
* the end-to-end :class:`~skassess.assessor.SemiSupervisedAssessor`: ``fit``
  (of which encoding the pool and building graphs) and ``predict``.

Reported per stage: wall time, CPU time and peak resident memory (sampled
every 10 ms), each counting the joblib workers of ``n_jobs`` with the process;
the overall peak also counts the process's ``ru_maxrss``. Quality: Kendall's tau of the
transductive predictions on the same 9,000 unlabeled cells, which are in every
pool, so the column answers "does a bigger unlabeled pool help?". Prediction
speed: cells per second of ``predict`` on 20,000 cells outside the pools (for
the full space, 20,000 random cells of it).

Targets (from the scale issue): full space fit + transduction under 5 minutes
and under 8 GiB; ``predict`` at least 20,000 cells/s after a 10k-pool fit.

Writes ``<name>.json`` (rewritten after every pool) and ``<name>.md`` (``--name``,
default ``scale``) into
``benchmarks/results/``. The machine's load average is recorded with the
figures: on a shared machine wall times are only comparable at equal load.

    python benchmarks/bench_scale.py                        # pools 10k 50k 100k all
    python benchmarks/bench_scale.py --quick                # 10k and 50k, small budgets
    python benchmarks/bench_scale.py --pools 10000 all --models assessor
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
SHARED_DATA = Path(os.environ.get("SKASSESS_SHARED_DATA", ROOT.parent / "shared" / "data"))
MODELS = ("pipeline", "assessor")
N_EVALUATION = 9_000  # unlabeled cells shared by every pool, for Kendall's tau
N_NEW = 20_000  # cells passed to predict
ASSESSOR_PARTS = ("pretrain", "encode_pool", "labeled_knn", "full_knn")


# ------------------------------------------------------------------ measuring


class StageRecorder:
    """Wall time, CPU time and peak resident memory of named stages of one process.

    A daemon thread samples the resident set size every ``interval`` seconds;
    each stage reports the highest sample taken while it ran. Memory and CPU
    time count the process's children too (the joblib workers of
    ``n_jobs``), as long as they run. The list of children is looked up only
    every ``children_interval`` seconds: scanning the process table every 10 ms
    costs a tenth of a core.
    """

    def __init__(self, interval: float = 0.01, children_interval: float = 0.5) -> None:
        import psutil

        self._process = psutil.Process()
        self._interval = interval
        self._children_interval = children_interval
        self._children: list = []
        self._children_checked = -np.inf
        self._peak = 0
        self._lock = threading.Lock()
        self.stages: dict[str, dict[str, float]] = {}
        thread = threading.Thread(target=self._sample, daemon=True)
        thread.start()

    def _rss(self) -> int:
        now = time.perf_counter()
        if now - self._children_checked > self._children_interval:
            self._children = self._process.children(recursive=True)
            self._children_checked = now
        total = self._process.memory_info().rss
        for child in self._children:
            with contextlib.suppress(Exception):  # a child may end meanwhile
                total += child.memory_info().rss
        return total

    def _cpu(self) -> float:
        """CPU seconds of this process, its live children and its finished ones."""
        own = self._process.cpu_times()
        total = own.user + own.system + own.children_user + own.children_system
        for child in self._process.children(recursive=True):
            with contextlib.suppress(Exception):
                times = child.cpu_times()
                total += times.user + times.system
        return total

    def _sample(self) -> None:
        while True:
            rss = self._rss()
            with self._lock:
                self._peak = max(self._peak, rss)
            time.sleep(self._interval)

    @contextlib.contextmanager
    def stage(self, name: str):
        with self._lock:
            self._peak = self._rss()
        start, cpu_start = time.perf_counter(), self._cpu()
        try:
            yield
        finally:
            seconds = time.perf_counter() - start
            with self._lock:
                peak = max(self._peak, self._rss())
            self.stages[name] = {
                "seconds": seconds,
                "cpu_seconds": self._cpu() - cpu_start,
                "peak_rss_gib": peak / 2**30,
            }


class CallTimer:
    """Accumulated wall time of module-level functions, by name.

    Replaces ``module.name`` by a timing wrapper for the duration of the
    ``with`` block, so the time an estimator spends inside a helper (the kNN
    search, the pool encoding) is measured without running it twice.
    """

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)

    @contextlib.contextmanager
    def watching(self, targets: dict[str, list[tuple[object, str]]]):
        saved = []
        for label, places in targets.items():
            for module, name in places:
                if not hasattr(module, name):
                    continue
                original = getattr(module, name)
                saved.append((module, name, original))
                setattr(module, name, self._wrap(label, original))
        try:
            yield self
        finally:
            for module, name, original in reversed(saved):
                setattr(module, name, original)

    def _wrap(self, label: str, function):
        def timed(*args, **kwargs):
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.seconds[label] += time.perf_counter() - start
                self.calls[label] += 1

        return timed

    def reset(self) -> None:
        self.seconds.clear()
        self.calls.clear()


def load_average() -> float:
    return float(os.getloadavg()[0])


# ------------------------------------------------------------------ one pool


def split_indices(n_cells: int, pool: int, n_labeled: int, seed: int) -> dict[str, np.ndarray]:
    """Nested pools: labeled cells first, then the evaluation cells, then the rest."""
    order = np.random.RandomState(seed).permutation(n_cells)
    pool_cells = order[:pool]
    labeled = order[:n_labeled]
    evaluation = order[n_labeled : n_labeled + N_EVALUATION]
    new = order[-N_NEW:] if pool < n_cells else order[:N_NEW]
    if pool < n_cells and pool + N_NEW > n_cells:
        raise ValueError(f"pool {pool} leaves fewer than {N_NEW} cells to predict")
    return {"pool": pool_cells, "labeled": labeled, "evaluation": evaluation, "new": new}


def run_pool(args: argparse.Namespace) -> dict:
    import resource

    import torch
    from scipy.stats import kendalltau

    from skassess.assessor import _assessor, _embedder
    from skassess.datasets import load_nasbench101
    from skassess.nn import _relation_graph

    torch.set_num_threads(args.threads)
    recorder, timer = StageRecorder(), CallTimer()
    result: dict = {"load_average_start": load_average(), "threads": args.threads}

    with recorder.stage("load"):
        benchmark = load_nasbench101(args.data / "nasbench101.npz")
    n_cells = len(benchmark)
    pool = n_cells if args.pool == "all" else int(args.pool)
    parts = split_indices(n_cells, pool, args.labels, args.seed)
    cells = [benchmark.cells[i] for i in parts["pool"]]
    truth = benchmark.y[parts["pool"]]
    y = np.full(pool, np.nan)
    y[: args.labels] = truth[: args.labels]  # the pool starts with the labeled cells
    evaluation = slice(args.labels, args.labels + N_EVALUATION)
    new_cells = [benchmark.cells[i] for i in parts["new"]]
    result.update(pool=pool, labeled=args.labels, n_new=len(new_cells))
    result["neighbors"] = {"algorithm": args.neighbors}
    watched = {
        "pretrain": [(_embedder.ArchitectureEmbedder, "fit")],
        "encode_pool": [(_assessor, "encode_in_batches"), (_embedder, "encode_in_batches")],
        "labeled_knn": [(_relation_graph, "knn_graph")],
        "full_knn": [(_relation_graph, "neighbor_index")],
        "gcn_graph": [(_relation_graph.RelationGraph, "fit")],
    }

    def tau(predictions: np.ndarray) -> float:
        return float(kendalltau(predictions[evaluation], truth[evaluation]).statistic)

    if "pipeline" in args.models:
        from skassess.assessor import ArchitectureEmbedder, TransductiveGCNRegressor

        embedder = ArchitectureEmbedder(
            space=benchmark.space,
            max_iter=max(1, round(args.embedder_cells / pool)),
            batch_size=args.embedder_batch_size,
            random_state=args.seed,
        )
        regressor = TransductiveGCNRegressor(
            n_neighbors=10,
            kernel_width=0.25,
            loss="pairwise_logistic",
            max_iter=args.gcn_max_iter,
            algorithm=args.neighbors,
            random_state=args.seed,
        )
        with recorder.stage("pipeline: embedder training"):
            embedder.fit(cells)
        with recorder.stage("pipeline: embedding"):
            embeddings = embedder.transform(cells)
        timer.reset()
        with recorder.stage("pipeline: GCN fit"), timer.watching(watched):
            regressor.fit(embeddings, y)
        graph_seconds = timer.seconds["gcn_graph"]
        with recorder.stage("pipeline: predict"):
            embedder.transform(new_cells[:100])  # warm-up excluded from the rate below
            start = time.perf_counter()
            regressor.predict(embedder.transform(new_cells))
            predict_seconds = time.perf_counter() - start
        result["pipeline"] = {
            "embedder_epochs": embedder.n_iter_,
            "graph_seconds": graph_seconds,
            "gcn_epochs": regressor.n_iter_,
            "predict_cells_per_second": len(new_cells) / predict_seconds,
            "kendall_tau": tau(regressor.transduction_),
        }
        del embedder, regressor, embeddings

    if "assessor" in args.models:
        from skassess.assessor import (
            ArchitectureEmbedder,
            SemiSupervisedAssessor,
            TransductiveGCNRegressor,
        )

        assessor = SemiSupervisedAssessor(
            embedder=ArchitectureEmbedder(space=benchmark.space),
            regressor=TransductiveGCNRegressor(kernel_width=0.25, algorithm=args.neighbors),
            random_state=args.seed,
            **json.loads(args.assessor_params),
        )
        timer.reset()
        with recorder.stage("assessor: fit"), timer.watching(watched):
            assessor.fit(cells, y)
        inside = {name: timer.seconds[name] for name in ASSESSOR_PARTS}
        calls = {name: timer.calls[name] for name in ASSESSOR_PARTS}
        with recorder.stage("assessor: predict"):
            assessor.predict(new_cells[:100])
            start = time.perf_counter()
            assessor.predict(new_cells)
            predict_seconds = time.perf_counter() - start
        result["assessor"] = {
            "params": json.loads(args.assessor_params),
            "fit_inside_seconds": inside,
            "fit_inside_calls": calls,
            "epochs": assessor.n_iter_,
            "predict_cells_per_second": len(new_cells) / predict_seconds,
            "kendall_tau": tau(assessor.transduction_),
        }
    result["stages"] = recorder.stages
    own_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    sampled_peak = max(stage["peak_rss_gib"] for stage in recorder.stages.values())
    result["peak_rss_gib"] = max(own_peak, sampled_peak)  # the sample counts the workers
    result["load_average_end"] = load_average()
    return result


# ------------------------------------------------------------------ report


def end_to_end(result: dict, model: str, clock: str = "seconds") -> float | None:
    """Load + fit + transduction (predictions for every pool cell), wall or CPU seconds."""
    stages = result["stages"]
    names = {
        "pipeline": ["pipeline: embedder training", "pipeline: embedding", "pipeline: GCN fit"],
        "assessor": ["assessor: fit"],
    }[model]
    if not all(name in stages for name in names):
        return None
    return stages["load"][clock] + sum(stages[name][clock] for name in names)


def predict_rate_per_cpu_second(result: dict, model: str) -> float:
    """Cells per CPU second of the predict stage (its 100 warm-up cells included)."""
    return (result["n_new"] + 100) / result["stages"][f"{model}: predict"]["cpu_seconds"]


def markdown(report: dict) -> str:
    lines = [
        "# Scale benchmark (NAS-Bench-101)",
        "",
        f"{report['command']}",
        "",
        f"{report['machine']}; torch threads {report['threads']}; kNN "
        f"{report['neighbors']}; {report['labels']} labeled cells in every pool; tau on "
        f"the same {N_EVALUATION:,} unlabeled cells; predict on {N_NEW:,} new cells. "
        "The machine is shared: wall seconds grow with the load average (listed), "
        "CPU seconds of one thread much less so.",
        "",
        "| pool | stage | seconds | CPU seconds | peak RSS (GiB) |",
        "|---:|---|---:|---:|---:|",
    ]
    for result in report["pools"]:
        for name, stage in result["stages"].items():
            extra = ""
            if name == "pipeline: GCN fit":
                extra = f" (graph {result['pipeline']['graph_seconds']:.1f} s)"
            if name == "assessor: fit":
                inside = result["assessor"]["fit_inside_seconds"]
                calls = result["assessor"]["fit_inside_calls"]
                extra = (
                    f" (pretraining {inside['pretrain']:.1f} s; members in joblib workers, "
                    "their stages untimed)"
                    if calls["encode_pool"] == 0
                    else f" (pretraining {inside['pretrain']:.1f} s; encoding the pool "
                    f"{inside['encode_pool']:.1f} s in {calls['encode_pool']} passes; "
                    f"labeled cells' kNN {inside['labeled_knn']:.1f} s in "
                    f"{calls['labeled_knn']} searches; all cells' kNN "
                    f"{inside['full_knn']:.1f} s in {calls['full_knn']} graphs)"
                )
            lines.append(
                f"| {result['pool']:,} | {name}{extra} | {stage['seconds']:.1f} | "
                f"{stage['cpu_seconds']:.1f} | {stage['peak_rss_gib']:.2f} |"
            )
    lines += [
        "",
        "| pool | model | end to end (s) | end to end (CPU s) | process peak (GiB) | "
        "predict (cells/s) | predict (cells/CPU s) | Kendall tau | load avg |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for result in report["pools"]:
        for model in MODELS:
            if model not in result:
                continue
            lines.append(
                f"| {result['pool']:,} | {model} | {end_to_end(result, model):.1f} | "
                f"{end_to_end(result, model, 'cpu_seconds'):.1f} | "
                f"{result['peak_rss_gib']:.2f} | "
                f"{result[model]['predict_cells_per_second']:,.0f} | "
                f"{predict_rate_per_cpu_second(result, model):,.0f} | "
                f"{result[model]['kendall_tau']:.3f} | "
                f"{result['load_average_start']:.1f}-{result['load_average_end']:.1f} |"
            )
    lines += ["", *growth_lines(report["pools"])]
    return "\n".join(lines) + "\n"


def growth_lines(pools: list[dict]) -> list[str]:
    """CPU cost per 1,000 pool cells between consecutive pools: constant means linear."""
    lines = []
    for model in MODELS:
        points = [(r["pool"], end_to_end(r, model, "cpu_seconds")) for r in pools if model in r]
        points = [(n, t) for n, t in points if t is not None]
        if len(points) < 2:
            continue
        slopes = ", ".join(
            f"{n0:,}->{n1:,}: {1000 * (t1 - t0) / (n1 - n0):.2f} s"
            for (n0, t0), (n1, t1) in itertools.pairwise(points)
        )
        lines.append(f"- {model}: extra CPU seconds per 1,000 extra pool cells: {slopes}")
    return lines


def regenerate(folder: Path, name: str) -> None:
    """Rewrite ``<name>.md`` from ``<name>.json`` (after editing the report's layout)."""
    report = json.loads((folder / f"{name}.json").read_text())
    (folder / f"{name}.md").write_text(markdown(report))


# ------------------------------------------------------------------ main


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pools", nargs="+", default=None)
    parser.add_argument("--models", nargs="+", choices=MODELS, default=list(MODELS))
    parser.add_argument("--labels", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument(
        "--embedder-cells",
        type=int,
        default=400_000,
        help="cells visited while training the embedder: epochs = this / pool (at least 1)",
    )
    parser.add_argument("--embedder-batch-size", type=int, default=256)
    parser.add_argument("--gcn-max-iter", type=int, default=200)
    parser.add_argument(
        "--assessor-params",
        default="{}",
        help="JSON of SemiSupervisedAssessor parameters, e.g. '{\"n_ensemble\": 1}'",
    )
    parser.add_argument(
        "--neighbors",
        choices=("auto", "exact", "ivf"),
        default="auto",
        help="the graphs' kNN search (the estimators' algorithm): auto is exact up to "
        "50,000 cells and an inverted file beyond",
    )
    parser.add_argument(
        "--quick", action="store_true", help="pools 10k and 50k by default, small budgets"
    )
    parser.add_argument("--data", type=Path, default=SHARED_DATA)
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--name", default="scale", help="file stem of the results in --out")
    parser.add_argument(
        "--regenerate", action="store_true", help="rewrite <name>.md from <name>.json in --out"
    )
    parser.add_argument("--pool", help=argparse.SUPPRESS)  # child process: one pool
    parser.add_argument("--child-output", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.pools is None:
        args.pools = ["10000", "50000"] if args.quick else ["10000", "50000", "100000", "all"]
    if args.quick:
        args.embedder_cells = 50_000
        args.gcn_max_iter = 50
        if args.assessor_params == "{}":
            args.assessor_params = json.dumps({"max_iter": 20, "n_ensemble": 1})
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.pool is not None:
        args.child_output.write_text(json.dumps(run_pool(args)))
        return
    if args.regenerate:
        regenerate(args.out, args.name)
        return
    args.out.mkdir(parents=True, exist_ok=True)
    report = {
        "command": "python benchmarks/bench_scale.py " + " ".join(sys.argv[1:]),
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs",
        "threads": args.threads,
        "neighbors": f"algorithm={args.neighbors!r}",
        "labels": args.labels,
        "pools": [],
    }
    child_args = [arg for arg in sys.argv[1:] if arg != "--quick"]
    if args.quick:  # pass the quick budgets on explicitly
        child_args += [
            "--embedder-cells", str(args.embedder_cells),
            "--gcn-max-iter", str(args.gcn_max_iter),
            "--assessor-params", args.assessor_params,
        ]  # fmt: skip
    for pool in args.pools:
        with tempfile.TemporaryDirectory() as folder:
            output = Path(folder) / "result.json"
            command = [sys.executable, __file__, *child_args, "--pool", pool]
            command += ["--child-output", str(output)]
            print(f"pool {pool}: running", flush=True)
            subprocess.run(command, check=True)
            result = json.loads(output.read_text())
        report["pools"].append(result)
        print(json.dumps(result, indent=1), flush=True)
        (args.out / f"{args.name}.json").write_text(json.dumps(report, indent=1))
        (args.out / f"{args.name}.md").write_text(markdown(report))
    print(markdown(report))


if __name__ == "__main__":
    main()
