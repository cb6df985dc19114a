"""NAS-Bench-Graph (Qin et al., NeurIPS 2022 Datasets and Benchmarks): GNN architectures.

The ``nas-bench-graph`` package ships, inside its wheel, the results of 26,206
graph-neural-network architectures on nine node-classification data sets. An
architecture is a DAG of four computing nodes, each reading one earlier node
(``link``), with one of nine operations each (``ops``); the package keys its
results by ``Arch(link, ops).valid_hash()``, an integer that is the same for
isomorphic architectures.
"""

from __future__ import annotations

import contextlib
import io
import itertools
from functools import cache

import numpy as np

from skassess.datasets._benchmark import Benchmark

__all__ = ["DATASETS", "load_nasbench_graph"]

#: The data sets of NAS-Bench-Graph.
DATASETS = (
    "arxiv",
    "citeseer",
    "computers",
    "cora",
    "cs",
    "photo",
    "physics",
    "proteins",
    "pubmed",
)
METRICS = ("valid_perf", "perf", "latency", "para")
TARGET = "valid_perf"


def load_nasbench_graph(dataset: str = "cora") -> Benchmark:
    """Load NAS-Bench-Graph's results on one data set as a :class:`Benchmark`.

    The data come with the ``nas-bench-graph`` package; nothing is downloaded.

    Parameters
    ----------
    dataset : str, default="cora"
        One of :data:`DATASETS`: ``"arxiv"``, ``"citeseer"``, ``"computers"``,
        ``"cora"``, ``"cs"``, ``"photo"``, ``"physics"``, ``"proteins"``,
        ``"pubmed"``.

    Returns
    -------
    Benchmark
        One cell per architecture of the package (26,206; 2,021 for
        ``proteins``, which used five operations), built with
        :meth:`skassess.spaces.NASBenchGraph.cell_from_arch`, in the package's
        enumeration order. Metrics: ``valid_perf`` (validation accuracy, the
        target), ``perf`` (test accuracy), ``latency`` (seconds) and ``para``
        (parameters, in millions). ``info["arch_hash"]`` is the package's key.

    Raises
    ------
    ValueError
        For an unknown data set name, listing the known ones.

    Examples
    --------
    >>> from skassess.datasets import load_nasbench_graph
    >>> bench = load_nasbench_graph("cora")  # doctest: +SKIP
    >>> len(bench), bench.target  # doctest: +SKIP
    (26206, 'valid_perf')
    """
    if dataset not in DATASETS:
        raise ValueError(
            f"unknown NAS-Bench-Graph data set {dataset!r}; choose one of {list(DATASETS)}"
        )
    from nas_bench_graph import light_read

    from skassess.spaces import NASBenchGraph

    with contextlib.redirect_stdout(io.StringIO()):
        results = light_read(dataset)
    architectures = [arch for arch in _architectures() if arch[0] in results]
    if len(architectures) != len(results):
        known = {key for key, _, _ in architectures}
        extra = sorted(set(results) - known)[:5]
        raise ValueError(
            f"NAS-Bench-Graph {dataset}: {len(results) - len(architectures)} result(s) match no "
            f"architecture of the package's space, e.g. hashes {extra}"
        )
    space = NASBenchGraph()
    cells = [space.cell_from_arch(list(link), list(ops)) for _, link, ops in architectures]
    metrics = {
        name: np.array([float(results[key][name]) for key, _, _ in architectures])
        for name in METRICS
    }
    keys = np.array([key for key, _, _ in architectures], dtype=np.int64)
    # The space's canonical hash is the package's key, as a string: no need to recompute it.
    return Benchmark(
        f"NAS-Bench-Graph ({dataset})",
        space,
        cells,
        metrics,
        TARGET,
        hashes=keys.astype(str),
        info={"arch_hash": keys},
    )


@cache
def _architectures() -> tuple[tuple[int, tuple[int, ...], tuple[str, ...]], ...]:
    """Every architecture of NAS-Bench-Graph as ``(hash, link, ops)``.

    The package's own rule: every choice of four operations (not all
    ``skip``) and of a link pattern in its canonical list, kept when it is the
    canonical form of its isomorphism class (``Arch.check_isomorph``).
    """
    from nas_bench_graph.architecture import Arch, gnn_list, link_list

    found = []
    for ops in itertools.product(gnn_list, repeat=4):
        if all(op == "skip" for op in ops):
            continue
        for link in link_list:
            if Arch(list(link), list(ops)).check_isomorph():
                key = Arch(list(link), list(ops)).valid_hash()
                found.append((key, tuple(link), tuple(ops)))
    return tuple(found)
