"""load_nasbench201 on the shared table."""

import numpy as np
import pytest

from skassess.datasets import load_nasbench201
from skassess.spaces import NASBench201


@pytest.fixture(scope="module")
def bench(nb201_path):
    return load_nasbench201(nb201_path)


def test_size_target_and_known_maxima(bench):
    assert len(bench) == 15_625 and bench.target == "cifar10_valid_val"
    assert round(float(np.nanmax(bench.y)), 2) == 91.61
    assert round(float(np.nanmax(bench.metrics["cifar100_test"])), 2) == 73.51
    assert round(float(np.nanmax(bench.metrics["imagenet16_test"])), 2) == 47.31
    for name in ("cifar10_valid_test", "cifar100_val", "imagenet16_val", "cifar10_valid_val_12ep"):
        assert name in bench.metrics
    assert not {"index", "arch_str", "ops", "op_names"} & set(bench.metrics)


def test_official_index_and_strings_kept(bench, nb201_path):
    with np.load(nb201_path) as data:
        np.testing.assert_array_equal(bench.info["index"], data["index"])
        np.testing.assert_array_equal(bench.info["arch_str"], data["arch_str"].astype(str))
        np.testing.assert_array_equal(bench.metrics["cifar100_test"], data["cifar100_test"])


def test_cells_are_valid_and_match_their_strings(bench):
    space = NASBench201()
    assert len(space.hash_many(bench.cells)) == len(bench)  # raises for an invalid cell
    for row in (0, 1, 777, 15_624):
        assert bench.cells[row] == space.cell_from_arch_str(bench.info["arch_str"][row])


def test_query_by_arch_string_cells(bench):
    space = NASBench201()
    rows = np.random.default_rng(0).choice(len(bench), 200, replace=False)
    cells = [space.cell_from_arch_str(bench.info["arch_str"][row]) for row in rows]
    # Each entry is found exactly, even where isomorphic entries share a hash.
    np.testing.assert_array_equal(bench.query(cells), bench.y[rows])
    np.testing.assert_array_equal(bench.locate(cells), rows)


def test_best_cell_by_its_string(bench):
    best = int(np.nanargmax(bench.y))
    cell = NASBench201().cell_from_arch_str(bench.info["arch_str"][best])
    assert bench.query([cell], metric="cifar10_valid_val")[0] == bench.y[best]


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="no file at"):
        load_nasbench201(tmp_path / "absent.npz")


def test_table_without_strings(tmp_path):
    path = tmp_path / "bad.npz"
    np.savez(path, cifar10_valid_val=np.zeros(3))
    with pytest.raises(ValueError, match="no 'arch_str' array"):
        load_nasbench201(path)
