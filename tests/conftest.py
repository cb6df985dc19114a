"""Shared fixtures: the real benchmark tables from ``../shared/data``."""

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("SKASSESS_SHARED_DATA", ROOT.parent / "shared" / "data"))
NB101_NPZ = SHARED_DATA / "nasbench101.npz"
NB201_NPZ = SHARED_DATA / "nasbench201.npz"


def _require(path: Path) -> Path:
    if not path.is_file():
        pytest.skip(
            f"{path.name} not found in {SHARED_DATA} (set SKASSESS_SHARED_DATA to the "
            "folder holding the shared NAS-Bench tables)"
        )
    return path


@pytest.fixture(scope="session")
def nb101_path() -> Path:
    """Path of the shared NAS-Bench-101 table; skips when it is absent."""
    return _require(NB101_NPZ)


@pytest.fixture(scope="session")
def nb201_path() -> Path:
    """Path of the shared NAS-Bench-201 table; skips when it is absent."""
    return _require(NB201_NPZ)
