"""Where the loaders look for a benchmark file, and what they say about a damaged one."""

import numpy as np
import pytest

from skassess.datasets import data_folders, load_nasbench101, load_nasbench201
from skassess.spaces import NASBench201


def write_nb201_table(path, n=6):
    """A small table in the format of the shared ``nasbench201.npz``."""
    space = NASBench201()
    cells = space.sample(n, random_state=0)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(
        path,
        arch_str=np.array([space.arch_str(cell) for cell in cells]),
        cifar10_valid_val=np.linspace(50.0, 90.0, n),
    )
    return path


@pytest.fixture
def no_data_home(tmp_path, monkeypatch):
    """No $SKASSESS_DATA and an empty home: only ../shared/data is left to look in."""
    monkeypatch.delenv("SKASSESS_DATA", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    project = tmp_path / "project"
    project.mkdir()
    monkeypatch.chdir(project)
    return tmp_path


# -- where -----------------------------------------------------------------------------


def test_without_a_path_the_shared_folder_beside_the_project_is_searched(no_data_home):
    write_nb201_table(no_data_home / "shared" / "data" / "nasbench201.npz")
    assert len(load_nasbench201()) == 6
    assert data_folders()[-1].resolve() == (no_data_home / "shared" / "data").resolve()


def test_the_data_home_variable_is_the_only_folder_when_set(no_data_home, monkeypatch):
    write_nb201_table(no_data_home / "shared" / "data" / "nasbench201.npz")
    chosen = no_data_home / "chosen"
    chosen.mkdir()
    monkeypatch.setenv("SKASSESS_DATA", str(chosen))
    assert data_folders() == [chosen]
    with pytest.raises(FileNotFoundError, match=r"none of nasbench201\.npz is in") as error:
        load_nasbench201()
    assert str(chosen) in str(error.value)
    assert str(no_data_home / "shared") not in str(error.value)


def test_a_folder_holding_the_file_is_a_path(tmp_path):
    write_nb201_table(tmp_path / "nasbench201.npz")
    assert len(load_nasbench201(tmp_path)) == 6
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(FileNotFoundError, match=r"empty holds none of nasbench201\.npz"):
        load_nasbench201(empty)


# -- damaged files -----------------------------------------------------------------------


def test_truncated_table_names_the_file(tmp_path):
    path = write_nb201_table(tmp_path / "nasbench201.npz", n=200)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(ValueError, match="truncated or damaged") as error:
        load_nasbench201(path)
    assert str(path) in str(error.value)


def test_damaged_array_names_the_file(tmp_path):
    path = write_nb201_table(tmp_path / "nasbench201.npz", n=200)
    data = bytearray(path.read_bytes())
    data[len(data) // 3] ^= 0xFF  # inside the first array: its CRC no longer matches
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="truncated or damaged") as error:
        load_nasbench201(path)
    assert str(path) in str(error.value)


@pytest.mark.parametrize("loader", [load_nasbench101, load_nasbench201])
def test_random_bytes_are_not_a_table(tmp_path, loader):
    path = tmp_path / "table.npz"
    path.write_bytes(np.random.default_rng(0).bytes(4096))
    with pytest.raises(ValueError, match=r"is not an \.npz file") as error:
        loader(path)
    message = str(error.value)
    assert str(path) in message
    assert "pickle" not in message and "TFRecord" not in message


def test_object_arrays_are_refused_without_unpickling(tmp_path):
    path = tmp_path / "nasbench201.npz"
    np.savez(path, arch_str=np.array([{"not": "a string"}], dtype=object))
    with pytest.raises(ValueError, match="is not a NAS-Bench-201 table") as error:
        load_nasbench201(path)
    assert str(path) in str(error.value)
