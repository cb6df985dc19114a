"""Every Python code block of the README and the guides runs, so that none can drift from the code.

A page's ``python`` blocks run in order, in one namespace, as a reader would type
them, in a fresh folder. Before them runs the *prelude*, the block of
``docs/concepts.md`` marked ``<!-- docs-test: prelude -->``: it defines the names the
guides use for a reader's own data (``cells``, ``accuracy``, ``labeled``, ``y``,
``new_cells``), and the page shows it, so that a reader knows what they are.

An HTML comment on the line before a block (invisible on the site) changes how it runs:

- ``<!-- docs-test: needs nasbench101 -->`` (or ``nasbench201``): the block loads that
  table from the data folder, ``$SKASSESS_DATA``, which is set to the folder of the
  table found by ``tests/conftest.py``. Where the table is absent, the page stops there
  and the test is skipped with conftest's reason; the blocks before it have run.
- ``<!-- docs-test: skip REASON -->``: the block cannot run here (it needs a file or a
  package that CI does not have); it is not run, and ``test_blocks_not_run`` reports it as
  a skipped test with REASON.
- ``<!-- docs-test: replace OLD => NEW; OLD2 => NEW2 -->``: run the block with these
  literal replacements, to shorten a long computation (a budget, a pool size); each
  ``OLD`` must be in the block, or the test fails.

Blocks that include a runnable example (``--8<-- "docs/examples/..."``) are left to
``tests/test_docs_examples.py``.
"""

from __future__ import annotations

import os
import re
import sys
import types
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted(
    [ROOT / "README.md", *(ROOT / "docs").glob("*.md"), *(ROOT / "docs" / "guide").glob("*.md")]
)
FENCE = re.compile(r"^```\s*(?:\{\s*\.?)?(\w*)")
MARKER = re.compile(r"^<!--\s*docs-test:\s*(\w+)\s*(.*?)\s*-->\s*$")
TABLES = {"nasbench101": "nb101_path", "nasbench201": "nb201_path"}  # conftest's fixtures


@dataclass
class Block:
    """One fenced code block of a page: its language, first line, code and markers."""

    language: str
    line: int
    code: str
    markers: dict[str, str] = field(default_factory=dict)


def read_blocks(page: Path) -> list[Block]:
    """The fenced blocks of a Markdown page, each with the markers just above it."""
    blocks, lines = [], page.read_text(encoding="utf-8").splitlines()
    markers: dict[str, str] = {}
    index = 0
    while index < len(lines):
        line = lines[index].strip()
        marker, fence = MARKER.match(line), FENCE.match(line)
        if marker:
            markers[marker.group(1)] = marker.group(2)
        elif fence:
            end = next(j for j in range(index + 1, len(lines)) if lines[j].strip() == "```")
            code = "\n".join(lines[index + 1 : end])
            blocks.append(Block(fence.group(1), index + 2, code, markers))
            markers, index = {}, end
        elif line:
            markers = {}
        index += 1
    return blocks


def python_blocks(page: Path) -> list[Block]:
    """The blocks of a page that the test runs: Python, and not an included example."""
    return [
        block
        for block in read_blocks(page)
        if block.language in ("python", "py") and "--8<--" not in block.code
    ]


def apply_replacements(block: Block, where: str) -> str:
    """The block's code with its ``replace`` marker applied; a missing ``OLD`` fails."""
    code = block.code
    pairs = [part.strip() for part in block.markers.get("replace", "").split(";")]
    for pair in filter(None, pairs):
        old, new = (side.strip() for side in pair.split("=>"))
        assert old in code, f"{where}: the replace marker's {old!r} is not in the block"
        code = code.replace(old, new)
    return code


def prelude() -> Block:
    """The block of docs/concepts.md that defines the reader's data for every page."""
    found = [
        block
        for block in python_blocks(ROOT / "docs" / "concepts.md")
        if "prelude" in block.markers
    ]
    assert len(found) == 1, "docs/concepts.md has one block marked <!-- docs-test: prelude -->"
    return found[0]


def run_page(page: Path, find_table: Callable[[str], Path]) -> int:
    """Run the prelude then every Python block of ``page``; return the number run.

    ``find_table(name)`` gives the path of a table a block needs, or skips.
    """
    name = page.relative_to(ROOT).as_posix()
    setup = prelude()
    namespace: dict = {"__name__": "__docs__"}
    exec(compile(setup.code, f"docs/concepts.md:{setup.line}", "exec"), namespace)
    blocks = [
        block
        for block in python_blocks(page)
        if "prelude" not in block.markers and "skip" not in block.markers
    ]
    for block in blocks:
        where = f"{name}:{block.line}"
        table = block.markers.get("needs")
        if table is not None:
            assert table in TABLES, f"{where}: unknown table {table!r} (one of {list(TABLES)})"
            os.environ["SKASSESS_DATA"] = str(find_table(table).parent)
        exec(compile(apply_replacements(block, where), where, "exec"), namespace)
    return len(blocks)


def test_the_markers_are_read():
    text = (
        "<!-- docs-test: replace a => b; c => d -->\n```python\nx = 'a c'\n```\n\n"
        '```python\ny = 1\n```\n``` {.python}\n--8<-- "docs/examples/cells.py"\n```\n'
    )
    page = Path(__file__).with_name("_docs_marker_page.md")
    try:
        page.write_text(text, encoding="utf-8")
        first, second = python_blocks(page)
    finally:
        page.unlink()
    assert first.markers == {"replace": "a => b; c => d"} and second.markers == {}
    assert apply_replacements(first, "page") == "x = 'b d'"
    assert (first.line, second.line) == (3, 7)
    with pytest.raises(AssertionError, match="'z' is not in the block"):
        apply_replacements(Block("python", 1, "x", {"replace": "z => y"}), "page")


@pytest.mark.slow
@pytest.mark.parametrize("page", PAGES, ids=lambda path: path.relative_to(ROOT).as_posix())
def test_code_blocks_run(page, tmp_path, monkeypatch, request):
    monkeypatch.chdir(tmp_path)  # files a block writes land here
    monkeypatch.setenv("SKASSESS_DATA", str(tmp_path))  # no table until a block needs one
    monkeypatch.setenv("MPLBACKEND", "Agg")
    if not python_blocks(page):
        pytest.skip(f"{page.name} has no Python block")
    assert run_page(page, lambda table: request.getfixturevalue(TABLES[table])) > 0


NOT_RUN = [
    (page, block) for page in PAGES for block in python_blocks(page) if "skip" in block.markers
]


@pytest.mark.parametrize(
    ("page", "block"),
    NOT_RUN,
    ids=[f"{page.relative_to(ROOT).as_posix()}:{block.line}" for page, block in NOT_RUN],
)
def test_blocks_not_run(page, block):
    reason = block.markers["skip"]
    assert reason, f"{page.name}:{block.line}: a skip marker says why"
    pytest.skip(f"{page.relative_to(ROOT).as_posix()}:{block.line} is not run: {reason}")


def test_the_nasbench201_recipe_writes_a_table_the_loader_reads(tmp_path, monkeypatch):
    """The recipe of the Datasets guide, run against a stand-in for the official package."""
    from skassess.datasets import load_nasbench201
    from skassess.spaces import NASBench201

    (recipe,) = [
        block
        for block in python_blocks(ROOT / "docs" / "guide" / "datasets.md")
        if "nas_201_api" in block.code
    ]
    space = NASBench201()
    arch_strings = [space.arch_str(cell) for cell in space.sample(30, random_state=0)]
    asked = set()

    class StandIn:
        """The part of ``nas_201_api.NASBench201API`` the recipe uses."""

        def __init__(self, path, verbose):
            assert path.endswith(".pth") and verbose is False

        def __len__(self):
            return len(arch_strings)

        def arch(self, index):
            return arch_strings[index]

        def get_more_info(self, index, dataset, hp, is_random):
            assert is_random is False, "the recipe keeps the mean over seeds"
            asked.add((dataset, hp))
            info = {"train-accuracy": 99.0, "valid-accuracy": 50.0 + index}
            if dataset == "cifar10-valid" or hp == "200":
                info["test-accuracy"] = 40.0 + index
            return info

    package = types.ModuleType("nas_201_api")
    package.NASBench201API = StandIn
    monkeypatch.setitem(sys.modules, "nas_201_api", package)
    monkeypatch.chdir(tmp_path)
    exec(compile(recipe.code, f"docs/guide/datasets.md:{recipe.line}", "exec"), {})

    bench = load_nasbench201(tmp_path / "nasbench201.npz")
    assert [space.arch_str(cell) for cell in bench.cells] == arch_strings
    assert bench.target == "cifar10_valid_val"
    np.testing.assert_array_equal(bench.y, 50.0 + np.arange(30))
    np.testing.assert_array_equal(bench.metrics["cifar100_test"], 40.0 + np.arange(30))
    assert np.isnan(bench.metrics["imagenet16_test_12ep"]).all()  # a key the info lacks: NaN
    assert asked == {
        (d, hp) for d in ("cifar10-valid", "cifar100", "ImageNet16-120") for hp in ("200", "12")
    }
