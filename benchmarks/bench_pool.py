"""What the unlabeled pool adds: the assessor with and without it, per method.

For each variant of :class:`skassess.SemiSupervisedAssessor` (``--variants``,
parameters set on the defaults) and each setting, the same estimator is fitted
twice on the same labeled cells: once with the unlabeled pool and once on the
labeled cells alone (its auto-encoder then pretrains on those only). The gain
of the pool is the difference of the two Kendall taus.

Variants: the auxiliary target of the embedder's pretraining (none; the log
trainable-parameter count, the default; the path encoding), no pretraining, one
embedder per ensemble member, and a wide relation-graph kernel (real edges); the
last two without an auxiliary target.

Settings:

- ``nb101-100`` and ``nb101-1000``: the protocol of ``bench_assessor.py``
  (20,000 held-out cells, 100 or 1,000 labeled cells and a pool of 10,000, target:
  the shared table's single-run CIFAR-10 test accuracy);
- ``nb201-78`` and ``nb201-156``: the TNASP protocol of ``bench_protocol.py``
  (train on ``cifar10_valid_val``, score ``cifar10_valid_test`` on all 15,625
  cells; the pool is every other cell of the space).

Usage::

    python benchmarks/bench_pool.py --seeds 0 1 2
    python benchmarks/bench_pool.py --variants auxiliary_none auxiliary_paths --settings nb201-78

Writes ``benchmarks/results/<output>.json`` and ``.md``.
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
sys.path.insert(0, str(ROOT / "benchmarks"))

import bench_assessor  # noqa: E402  (the NB101 split)
import bench_protocol  # noqa: E402  (the NB201 protocol)

RESULTS = ROOT / "benchmarks" / "results"
SETTINGS = ("nb101-100", "nb101-1000", "nb201-78", "nb201-156")


def variants(setting):
    """Named parameter sets of the assessor (built fresh for every fit)."""
    from skassess.encoders import ParameterCountEncoder, PathEncoder
    from skassess.spaces import NASBench101, NASBench201

    space = NASBench101() if setting.startswith("nb101") else NASBench201()
    none = {"embedder__auxiliary": None}
    return {
        "auxiliary_none": none,
        "auxiliary_parameters": {"embedder__auxiliary": ParameterCountEncoder(space, log=True)},
        "auxiliary_paths": {"embedder__auxiliary": PathEncoder()},
        "no_pretraining": {"embedder__max_iter": 0},
        "embedder_per_member": {"share_embedder": False, **none},
        "wide_kernel": {"regressor__kernel_width": 1.0, **none},
    }


def load(setting):
    """(cells, training target, scoring target) of a setting's benchmark."""
    if setting.startswith("nb101"):
        ((_, cells, y),) = bench_assessor.load_benchmarks(["nb101"])
        return cells, y, y
    from skassess.datasets import load_nasbench201

    bench = load_nasbench201(bench_protocol.SHARED / "nasbench201.npz")
    train, test = bench_protocol.DATASETS["cifar10"]
    return (
        bench.cells,
        np.asarray(bench.metrics[train], dtype=np.float64),
        np.asarray(bench.metrics[test], dtype=np.float64),
    )


def rows_of(setting, n_cells, seed):
    """Labeled, pool and scored rows of one seed."""
    n_labeled = int(setting.split("-")[1])
    if setting.startswith("nb101"):
        return bench_assessor.split(n_cells, 20000, n_labeled, 10000, seed)
    labeled = bench_protocol.labeled_rows(n_cells, n_labeled, seed)
    return labeled, np.setdiff1d(np.arange(n_cells), labeled), np.arange(n_cells)


def fit_and_score(params, cells, y_train, y_test, labeled, pool, scored, seed):
    from scipy.stats import kendalltau

    from skassess import SemiSupervisedAssessor

    model = SemiSupervisedAssessor(random_state=seed).set_params(**params)
    rows = np.concatenate([labeled, pool])
    target = np.concatenate([y_train[labeled], np.full(len(pool), np.nan)])
    start = time.process_time()
    model.fit([cells[i] for i in rows], target)
    cpu = time.process_time() - start
    prediction = model.predict([cells[i] for i in scored])
    return float(kendalltau(prediction, y_test[scored]).statistic), cpu


def markdown(records, settings):
    groups: dict = {}
    for record in records:
        key = (record["variant"], record["setting"])
        groups.setdefault(key, {"pool": [], "labeled_only": [], "cpu": []})
        groups[key]["pool"].append(record["tau_pool"])
        groups[key]["labeled_only"].append(record["tau_labeled_only"])
        groups[key]["cpu"].append(record["fit_cpu_seconds_pool"])
    lines = [
        "# What the unlabeled pool adds, per method",
        "",
        "Kendall tau of `SemiSupervisedAssessor` (defaults, plus the variant's parameters) fitted "
        "with the unlabeled pool and on the labeled cells alone, same labeled cells; gain = "
        "pool - labeled only, per seed, then mean ± sd. NB101: `bench_assessor.py` protocol "
        "(held-out cells). NB201: TNASP protocol (all 15,625 cells scored, pool = the rest of "
        "the space).",
        "",
        bench_protocol._provenance(settings),
        f"Machine: {settings['machine']}; fit CPU seconds of the "
        "fit with the pool (one thread; the machine was shared, so wall-clock is not given).",
        "",
        "| variant | setting | with pool | labeled only | gain of the pool | fit CPU (s) | seeds |",
        "|---|---|---|---|---|---|---|",
    ]
    order = list(variants("nb101-100"))
    for (variant, setting), group in sorted(
        groups.items(), key=lambda item: (item[0][1], order.index(item[0][0]))
    ):
        pool, alone = np.array(group["pool"]), np.array(group["labeled_only"])
        lines.append(
            f"| {variant} | {setting} | {pool.mean():.3f} ± {pool.std():.3f} | "
            f"{alone.mean():.3f} ± {alone.std():.3f} | {np.mean(pool - alone):+.3f} ± "
            f"{np.std(pool - alone):.3f} | {np.mean(group['cpu']):.1f} | {len(pool)} |"
        )
    return "\n".join(lines) + "\n"


def merge(paths, stem):
    """One table from the records of several runs, with each run's command and commit.

    A (variant, setting, seed) measured twice keeps the later run's record.
    """
    latest, runs = {}, []
    for path in paths:
        payload = json.loads(Path(path).read_text())
        for record in payload["records"]:
            latest[(record["variant"], record["setting"], record["seed"])] = record
        run = payload["settings"]
        note = f"; {run['note']}" if run.get("note") else ""
        runs.append(f"`{run['command']}` (commit {run['commit']}{note})")
    settings = {**payload["settings"], "runs": runs}
    records = list(latest.values())
    write(records, settings, stem)
    return records


def write(records, settings, stem):
    RESULTS.mkdir(parents=True, exist_ok=True)
    payload = {"settings": settings, "records": records}
    (RESULTS / f"{stem}.json").write_text(json.dumps(payload, indent=1))
    (RESULTS / f"{stem}.md").write_text(markdown(records, settings))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--settings", nargs="+", default=list(SETTINGS), choices=SETTINGS)
    parser.add_argument("--variants", nargs="+", default=None, help="default: all")
    parser.add_argument("--output", default="bench_pool", help="file stem in results/")
    parser.add_argument("--merge", nargs="+", metavar="JSON", help="only merge earlier runs")
    args = parser.parse_args(argv)
    if args.merge:
        return merge(args.merge, args.output)
    names = args.variants or list(variants(args.settings[0]))
    import torch

    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    settings = {
        "command": "python benchmarks/bench_pool.py " + " ".join(argv or sys.argv[1:]),
        "commit": bench_protocol._commit(),
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs",
        "args": vars(args),
    }
    records = []
    for setting in args.settings:
        cells, y_train, y_test = load(setting)
        for seed in args.seeds:
            labeled, pool, scored = rows_of(setting, len(cells), seed)
            for name in names:
                with_pool, cpu = fit_and_score(
                    variants(setting)[name], cells, y_train, y_test, labeled, pool, scored, seed
                )
                alone, _ = fit_and_score(
                    variants(setting)[name], cells, y_train, y_test, labeled, pool[:0], scored, seed
                )
                record = {
                    "variant": name,
                    "setting": setting,
                    "seed": seed,
                    "tau_pool": with_pool,
                    "tau_labeled_only": alone,
                    "fit_cpu_seconds_pool": cpu,
                }
                records.append(record)
                print(json.dumps(record), flush=True)
                write(records, settings, args.output)
    return records


if __name__ == "__main__":
    main()
