"""What ``make demo`` and ``make test`` would install (``make -n``: nothing is run)."""

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def planned_commands(target, tmp_path):
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    completed = subprocess.run(
        ["make", "-n", "-B", target, f"VENV={tmp_path / 'venv'}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert completed.returncode == 0, completed.stderr
    return [line for line in completed.stdout.splitlines() if "pip install" in line]


def test_demo_installs_the_package_without_extras(tmp_path):
    installs = planned_commands("demo", tmp_path)
    assert any("install" in line and "-e ." in line for line in installs)
    assert not any("[test" in line or "dask" in line for line in installs)


def test_test_installs_the_test_extras(tmp_path):
    installs = planned_commands("test", tmp_path)
    assert any("[test," in line for line in installs)
