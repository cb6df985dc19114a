"""End-to-end tests of the ``skassess`` command, run as ``python -m skassess`` in a subprocess."""

import csv
import importlib
import json
import os
import subprocess
import sys

import numpy as np
import pytest

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def skassess(*args, cwd=None, timeout=120):
    env = dict(os.environ, OMP_NUM_THREADS="1", MPLBACKEND="Agg")
    return subprocess.run(
        [sys.executable, "-m", "skassess", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=timeout,
    )


def needs(module, *names):
    """Skip when a dependency of the command (another part of skassess) is not there yet."""
    try:
        imported = importlib.import_module(module)
    except ImportError as exc:
        pytest.skip(f"{module} is not available: {exc}")
    for name in names:
        try:
            getattr(imported, name)
        except (AttributeError, ImportError) as exc:
            pytest.skip(f"{module}.{name} is not available: {exc}")


def assert_png(path):
    assert path.is_file(), f"{path} was not written"
    data = path.read_bytes()
    assert data.startswith(PNG_SIGNATURE) and len(data) > 2000


def run_main(capsys, *args):
    """Run the command in this process (no interpreter start-up): a CompletedProcess."""
    from skassess.cli import main

    args = [str(arg) for arg in args]
    returned = main(args)
    captured = capsys.readouterr()
    return subprocess.CompletedProcess(args, returned, captured.out, captured.err)


def assert_clean_failure(completed, status=None):
    assert completed.returncode != 0
    if status is not None:
        assert completed.returncode == status
    assert "Traceback" not in completed.stderr
    lines = completed.stderr.strip().splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got: {completed.stderr!r}"
    assert lines[0].startswith("skassess")
    return lines[0]


# -- help and start-up --------------------------------------------------------------------


def test_help_lists_the_commands():
    completed = skassess("--help")
    assert completed.returncode == 0
    for command in ("demo", "evaluate", "search", "convert"):
        assert command in completed.stdout
    assert "examples:" in completed.stdout


@pytest.mark.parametrize("command", ["demo", "evaluate", "search", "convert"])
def test_each_command_has_help_with_examples(command):
    completed = skassess(command, "--help")
    assert completed.returncode == 0
    assert f"usage: skassess {command}" in completed.stdout
    assert "example" in completed.stdout


def test_help_imports_no_heavy_module():
    code = (
        "import sys, skassess.cli as cli\n"
        "try:\n    cli.main(['--help'])\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in ('torch', 'matplotlib', 'numpy', 'sklearn') if m in sys.modules))"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert completed.stdout.strip().splitlines()[-1] == "[]"


def test_version():
    completed = skassess("--version")
    assert completed.returncode == 0
    assert completed.stdout.startswith("skassess ")


# -- bad arguments: one line on stderr, non-zero status, no traceback -----------------------


@pytest.mark.parametrize(
    "args, status, words",
    [
        (["frobnicate"], 2, "invalid choice"),
        (["search", "--budget", "0"], 2, "--budget"),
        (["search", "--budget", "ten"], 2, "--budget"),
        (["search", "--benchmark", "nasbench999"], 2, "unknown benchmark"),
        (["search", "--benchmark", "nasbench201:cora"], 2, "nasbench201"),
        (["search", "--method", "annealing"], 2, "--method"),
        (["search", "--seed", "-4"], 2, "seed"),
        (["evaluate", "--predictors", "oracle"], 2, "unknown predictor"),
        (["evaluate", "--labeled"], 2, "--labeled"),
        (["demo", "--labeled", "-1"], 2, "--labeled"),
        (["demo", "--unknown-option"], 2, "unrecognized"),
        (["evaluate", "--folds", "1"], 1, "at least 2 folds"),
        (["evaluate", "--labeled", "3", "--folds", "5"], 1, "fewer than --folds"),
        (["search", "--method", "evolution", "--population-size", "5"], 1, "--sample-size"),
        (["search", "--predictor", "mlp,random-forest"], 1, "one predictor"),
        (["demo", "--dataset", "imagenet"], 2, "unknown NAS-Bench-Graph data set"),
        (["search", "-b", "nasbench-graph:mnist"], 2, "unknown NAS-Bench-Graph data set"),
        (["convert"], 2, "TFRECORD"),
        (["convert", "/no/such/file.tfrecord"], 1, "does not exist"),
        (["search", "-b", "nasbench201", "--data", "/no/such/folder"], 1, "no such file"),
    ],
)
def test_bad_arguments_fail_cleanly(args, status, words, capsys):
    # In-process, for speed; the subprocess test below checks the real command.
    line = assert_clean_failure(run_main(capsys, *args), status)
    assert words in line


@pytest.mark.parametrize(
    "args, status",
    [(["search", "--budget", "-1"], 2), (["convert", "/no/such/file.tfrecord"], 1)],
)
def test_bad_arguments_fail_cleanly_in_a_real_process(args, status):
    assert_clean_failure(skassess(*args), status)


def test_data_folder_without_the_file_fails_cleanly(tmp_path, capsys):
    completed = run_main(capsys, "search", "-b", "nasbench201", "--data", tmp_path)
    assert "nasbench201.npz" in assert_clean_failure(completed, 1)


def test_corrupt_data_file_fails_cleanly(tmp_path, capsys):
    needs("skassess.datasets", "load_nasbench201")
    needs("skassess.spaces", "NASBench201")
    bad = tmp_path / "nasbench201.npz"
    bad.write_bytes(b"this is not a zip file")
    assert_clean_failure(run_main(capsys, "search", "-b", "nasbench201", "--data", bad), 1)


def test_corrupt_tfrecord_fails_cleanly(tmp_path, capsys):
    needs("skassess.datasets", "convert_nasbench101")
    bad = tmp_path / "broken.tfrecord"
    bad.write_bytes(b"\x01\x02\x03 certainly not a TFRecord frame" * 10)
    assert_clean_failure(run_main(capsys, "convert", bad, "-o", tmp_path / "out.npz"), 1)
    assert not (tmp_path / "out.npz").exists()


# -- search ---------------------------------------------------------------------------------


def read_log(folder):
    with open(folder / "search.csv", newline="") as stream:
        return list(csv.DictReader(stream))


def run_search(nb201_path, out, *method_args):
    completed = skassess(
        "search", "-b", "nasbench201", "--data", nb201_path, *method_args,
        "--budget", 40, "--seed", 3, "--output-dir", out, "--quiet",
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    return completed


@pytest.mark.slow
def test_search_writes_log_and_curve(nb201_path, tmp_path):
    needs("skassess.datasets", "load_nasbench201")
    needs("skassess.spaces", "NASBench201")
    completed = run_search(nb201_path, tmp_path, "--method", "random")
    assert completed.stderr == "", "--quiet shows no progress bar"
    assert str(tmp_path / "search.csv") in completed.stdout
    assert "best found" in completed.stdout
    rows = read_log(tmp_path)
    assert len(rows) == 40
    assert len({row["index"] for row in rows}) == 40
    best = [float(row["best_so_far"]) for row in rows]
    assert best == sorted(best)
    assert_png(tmp_path / "search.png")
    log = json.loads((tmp_path / "search.json").read_text())
    assert log["n_queries"] == 40 and log["best_so_far"] == best


@pytest.mark.slow
def test_search_is_reproducible(nb201_path, tmp_path):
    needs("skassess.datasets", "load_nasbench201")
    needs("skassess.spaces", "NASBench201")
    evolution = ["--method", "evolution", "--population-size", "10", "--sample-size", "3"]
    runs = []
    for name in ("a", "b"):
        run_search(nb201_path, tmp_path / name, *evolution)
        runs.append([row["index"] for row in read_log(tmp_path / name)])
    assert len(runs[0]) == 40 and runs[0] == runs[1]


@pytest.mark.slow
def test_guided_search_with_a_forest(nb201_path, tmp_path):
    needs("skassess.datasets", "load_nasbench201")
    needs("skassess.spaces", "NASBench201")
    needs("skassess.encoders", "AdjacencyOpsEncoder")
    completed = skassess(
        "search", "-b", "nasbench201", "--data", nb201_path, "--method", "guided",
        "--predictor", "random-forest", "--budget", 30, "--initial-size", 10,
        "--batch-size", 10, "--pool-size", 300, "--output-dir", tmp_path,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    assert "best found" in completed.stdout
    assert len(read_log(tmp_path)) == 30


def test_search_unknown_metric_fails_cleanly(nb201_path, capsys):
    needs("skassess.datasets", "load_nasbench201")
    needs("skassess.spaces", "NASBench201")
    completed = run_main(
        capsys, "search", "-b", "nasbench201", "--data", nb201_path, "--metric", "nope"
    )
    assert "no such metric" in assert_clean_failure(completed, 1)


# -- convert --------------------------------------------------------------------------------


def write_tiny_tfrecord(path):
    """Five NAS-Bench-101 cells in the official format; returns the cells."""
    from skassess.datasets.nasbench101_tfrecord import make_record, write_records
    from skassess.spaces import NASBench101

    cells = NASBench101().sample(5, random_state=0)
    records = [
        make_record(cell, 108, [100.0, 0.99, 0.9, 0.8 + i / 100]) for i, cell in enumerate(cells)
    ]
    write_records(path, records)
    return cells


def test_convert_a_small_tfrecord(tmp_path):
    needs("skassess.datasets", "convert_nasbench101", "load_nasbench101")
    needs("skassess.spaces", "NASBench101")
    source = tmp_path / "tiny.tfrecord"
    cells = write_tiny_tfrecord(source)
    completed = skassess("convert", source, "--quiet")
    assert completed.returncode == 0, completed.stderr
    output = tmp_path / "tiny.npz"
    assert str(output) in completed.stdout
    from skassess.datasets import load_nasbench101

    benchmark = load_nasbench101(output)
    assert len(benchmark) == 5
    order = [benchmark.cells.index(cell) for cell in cells]
    np.testing.assert_allclose(benchmark.y[order], [0.8, 0.81, 0.82, 0.83, 0.84])


# -- demo and evaluate (reduced settings) ---------------------------------------------------


@pytest.mark.slow
def test_demo_reduced(tmp_path):
    needs("skassess.datasets", "load_nasbench_graph")
    needs("skassess.spaces", "NASBenchGraph")
    needs("skassess.assessor", "SemiSupervisedAssessor")
    needs("skassess.metrics", "kendall_tau")
    completed = skassess(
        "demo", "--pool-size", 400, "--labeled", 40, "--max-iter", 3,
        "--output-dir", tmp_path, "--quiet",
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    assert "Kendall tau" in completed.stdout and "random forest" in completed.stdout
    assert "Top 10" in completed.stdout
    assert_png(tmp_path / "demo_scatter.png")
    summary = json.loads((tmp_path / "demo.json").read_text())
    assert len(summary["top10"]) == 10
    assert -1 <= summary["kendall_tau"]["assessor"] <= 1


def test_demo_rejects_more_labels_than_architectures(tmp_path, capsys):
    needs("skassess.datasets", "load_nasbench_graph")
    needs("skassess.spaces", "NASBenchGraph")
    completed = run_main(
        capsys, "demo", "--pool-size", 50, "--labeled", 50, "--output-dir", tmp_path, "--quiet"
    )
    assert "--labeled 50" in assert_clean_failure(completed, 1)


@pytest.mark.slow
def test_evaluate_reduced(nb201_path, tmp_path):
    needs("skassess.datasets", "load_nasbench201")
    needs("skassess.spaces", "NASBench201")
    needs("skassess.model_selection", "SemiSupervisedKFold")
    needs("skassess.metrics", "kendall_tau", "spearman_rho")
    completed = skassess(
        "evaluate", "-b", "nasbench201", "--data", nb201_path, "--predictors",
        "random-forest", "--labeled", 30, 60, "--pool-size", 50, "--folds", 3,
        "--output-dir", tmp_path, "--quiet",
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    results = json.loads((tmp_path / "evaluate.json").read_text())["results"]
    assert set(results["random-forest"]) == {"30", "60"}
    assert len(results["random-forest"]["30"]["tau"]) == 3
    assert_png(tmp_path / "evaluate.png")


# -- the output folder is checked before the work ---------------------------------------------


def fail_if_called(*args, **kwargs):
    raise AssertionError("the work started before the output folder was checked")


@pytest.mark.parametrize(
    "args, loader",
    [
        (["demo"], "load_nasbench_graph"),
        (["search", "-b", "nasbench201", "--method", "random"], "load_nasbench201"),
        (["evaluate", "-b", "nasbench201", "--predictors", "random-forest"], "load_nasbench201"),
    ],
)
def test_an_unwritable_output_folder_fails_before_the_work(
    args, loader, tmp_path, capsys, monkeypatch
):
    import skassess.datasets

    monkeypatch.setattr(skassess.datasets, loader, fail_if_called)
    blocker = tmp_path / "a-file"
    blocker.write_text("in the way")
    data = ["--data", blocker] if "-b" in args else []
    completed = run_main(capsys, *args, *data, "--output-dir", blocker / "results", "--quiet")
    line = assert_clean_failure(completed, 1)
    assert "--output-dir" in line and "is a file, not a folder" in line
    assert not (blocker / "results").exists()


def test_convert_creates_its_output_folder(tmp_path):
    needs("skassess.datasets", "convert_nasbench101", "load_nasbench101")
    source = tmp_path / "tiny.tfrecord"
    write_tiny_tfrecord(source)
    output = tmp_path / "new" / "folder" / "tiny.npz"
    completed = skassess("convert", source, "-o", output, "--quiet")
    assert completed.returncode == 0, completed.stderr
    from skassess.datasets import load_nasbench101

    assert len(load_nasbench101(output)) == 5


def test_convert_checks_its_output_folder_before_parsing(tmp_path, capsys, monkeypatch):
    import skassess.datasets

    monkeypatch.setattr(skassess.datasets, "convert_nasbench101", fail_if_called)
    source = tmp_path / "tiny.tfrecord"
    source.write_bytes(b"not parsed")
    output = source / "out.npz"  # under a file
    line = assert_clean_failure(run_main(capsys, "convert", source, "-o", output), 1)
    assert "--output" in line and "not a folder" in line


# -- data files: found as the loaders find them, damaged ones named ---------------------------


def write_nb201_table(path, n=12):
    from skassess.spaces import NASBench201

    space = NASBench201()
    cells = space.sample(n, random_state=0)
    path.parent.mkdir(parents=True, exist_ok=True)
    values = np.linspace(50.0, 90.0, n)
    np.savez(path, arch_str=np.array([space.arch_str(c) for c in cells]), cifar10_valid_val=values)
    return path


def test_the_command_finds_data_where_the_loaders_do(tmp_path, capsys, monkeypatch):
    needs("skassess.datasets", "data_folders")
    monkeypatch.delenv("SKASSESS_DATA", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (tmp_path / "project").mkdir()
    monkeypatch.chdir(tmp_path / "project")
    write_nb201_table(tmp_path / "shared" / "data" / "nasbench201.npz")
    from skassess.datasets import load_nasbench201

    assert len(load_nasbench201()) == 12
    completed = run_main(
        capsys, "search", "-b", "nasbench201", "--method", "random", "--budget", 5,
        "--output-dir", tmp_path / "out", "--quiet",
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    assert len(read_log(tmp_path / "out")) == 5


def test_a_truncated_table_is_one_line_naming_the_file(tmp_path, capsys):
    table = write_nb201_table(tmp_path / "nasbench201.npz", n=200)
    table.write_bytes(table.read_bytes()[:-100])
    completed = run_main(
        capsys, "search", "-b", "nasbench201", "--data", table, "--output-dir", tmp_path / "out"
    )
    line = assert_clean_failure(completed, 1)
    assert str(table) in line and "truncated" in line


# -- options that would do nothing are refused ------------------------------------------------


@pytest.mark.parametrize(
    "args, status, words",
    [
        (["--method", "random", "--population-size", "5"], 2, "--population-size is an option of"),
        (["--method", "random", "--predictor", "mlp"], 2, "--predictor is an option of"),
        (["--method", "evolution", "--initial-size", "5"], 2, "--initial-size is an option of"),
        (["--method", "guided", "--sample-size", "5"], 2, "--sample-size is an option of"),
        (["--budget", "20", "--initial-size", "20"], 1, "--initial-size 20 is not below"),
    ],
)
def test_options_that_do_nothing_are_refused(args, status, words, tmp_path, capsys):
    # A missing data file would be the next error: the options are checked before anything.
    completed = run_main(
        capsys, "search", "-b", "nasbench201", "--data", tmp_path / "absent.npz", *args,
        "--output-dir", tmp_path / "out",
    )  # fmt: skip
    assert words in assert_clean_failure(completed, status)


def test_data_for_nasbench_graph_is_refused(tmp_path, capsys):
    completed = run_main(
        capsys, "search", "--method", "random", "--data", tmp_path, "--output-dir", tmp_path
    )
    assert "NAS-Bench-Graph needs no file" in assert_clean_failure(completed, 2)
