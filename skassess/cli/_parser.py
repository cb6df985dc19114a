"""The argument parser of the ``skassess`` command: one sub-parser per command module."""

from __future__ import annotations

import argparse

from skassess.cli import _convert, _demo, _evaluate, _search
from skassess.cli._arguments import PROG, Formatter, Parser

DESCRIPTION = """\
Predict how good a neural architecture is before training it.

skassess fits performance predictors (the semi-supervised assessor of Tang et
al., CVPR 2020, and baselines) on a few trained architectures of a tabular NAS
benchmark and ranks all the others; it also runs budgeted searches guided by
them.
"""

EPILOG = """\
examples:
  skassess demo                          # assessor vs random forest on NAS-Bench-Graph Cora
  skassess evaluate -b nasbench201 --labeled 100 300
  skassess search -b nasbench201 --method evolution --budget 300
  skassess convert nasbench_only108.tfrecord -o nasbench101.npz

Run 'skassess COMMAND --help' for the options of a command.
"""

#: The command modules, in the order of ``--help``: each has ``add_parser``
#: (which sets the namespace's ``run``) and ``run``.
COMMANDS = (_demo, _evaluate, _search, _convert)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``skassess`` command.

    Returns
    -------
    argparse.ArgumentParser
        Its namespaces hold the options of the command and, as ``run``, the
        function that runs it.

    Examples
    --------
    >>> args = build_parser().parse_args(["search", "--method", "random"])
    >>> args.command, args.budget
    ('search', 100)
    """
    parser = Parser(prog=PROG, description=DESCRIPTION, epilog=EPILOG, formatter_class=Formatter)
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for command in COMMANDS:
        command.add_parser(commands)
    return parser


def _version() -> str:
    from skassess import __version__

    return __version__
