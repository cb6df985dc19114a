"""load_nasbench_graph: NAS-Bench-Graph from the nas-bench-graph package."""

import numpy as np
import pytest
from nas_bench_graph import Arch, light_read

from skassess.datasets import load_nasbench_graph
from skassess.spaces import NASBenchGraph

DATASETS = [
    "arxiv",
    "citeseer",
    "computers",
    "cora",
    "cs",
    "photo",
    "physics",
    "proteins",
    "pubmed",
]


@pytest.fixture(scope="module")
def cora():
    return load_nasbench_graph("cora")


def test_cora_size_validity_and_values(cora):
    assert len(cora) == 26_206 and cora.target == "valid_perf"
    assert cora.name == "NAS-Bench-Graph (cora)"
    assert set(cora.metrics) == {"valid_perf", "perf", "latency", "para"}
    for values in cora.metrics.values():
        assert np.isfinite(values).all()
    assert 0 < cora.y.min() and cora.y.max() <= 1
    assert len(NASBenchGraph().hash_many(cora.cells)) == len(cora)  # raises for an invalid cell


def test_values_joined_by_the_package_hash(cora):
    results = light_read("cora")
    assert sorted(cora.info["arch_hash"].tolist()) == sorted(results)
    rows = np.random.default_rng(0).choice(len(cora), 100, replace=False)
    for row in rows.tolist():
        entry = results[int(cora.info["arch_hash"][row])]
        assert cora.metrics["valid_perf"][row] == entry["valid_perf"]
        assert cora.metrics["perf"][row] == entry["perf"]


def test_query_an_architecture_by_link_and_ops(cora):
    # Architectures given in any link/ops spelling, including non-canonical ones.
    results = light_read("cora")
    space = NASBenchGraph()
    for link, ops in [
        ([0, 1, 2, 3], ["skip", "skip", "gcn", "gcn"]),
        ([0, 0, 1, 2], ["gat", "gin", "sage", "fc"]),
        ([0, 0, 0, 2], ["gcn", "gat", "cheb", "arma"]),  # regularised by the package
    ]:
        expected = results[Arch(link, ops).valid_hash()]["valid_perf"]
        assert cora.query([space.cell_from_arch(link, ops)])[0] == expected


def test_stored_hashes_are_the_space_hashes(cora):
    rows = np.random.default_rng(1).choice(len(cora), 2000, replace=False)
    computed = NASBenchGraph().hash_many([cora.cells[row] for row in rows])
    np.testing.assert_array_equal(np.asarray(computed).astype(str), cora.hashes[rows])


def test_query_own_cells(cora):
    np.testing.assert_array_equal(cora.query(cora.cells[:500]), cora.y[:500])


def test_every_dataset_name_and_proteins(capsys):
    proteins = load_nasbench_graph("proteins")
    assert len(proteins) == 2_021 and np.isfinite(proteins.y).all()
    assert capsys.readouterr().out == ""  # nothing printed
    with pytest.raises(ValueError, match="unknown NAS-Bench-Graph data set 'mnist'") as err:
        load_nasbench_graph("mnist")
    for name in DATASETS:
        assert repr(name) in str(err.value)


@pytest.mark.slow
@pytest.mark.parametrize("name", [d for d in DATASETS if d not in ("cora", "proteins")])
def test_other_datasets_load(name):
    bench = load_nasbench_graph(name)
    assert len(bench) == 26_206 and np.isfinite(bench.y).all()
