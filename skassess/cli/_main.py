"""``main``: parse, run the command, and turn expected failures into one line on stderr."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from skassess.cli._arguments import PROG
from skassess.cli._common import CommandError, UsageError
from skassess.cli._parser import build_parser

#: Exceptions that mean bad input or a broken environment rather than a bug.
_EXPECTED = (CommandError, OSError, ValueError, KeyError, ImportError, MemoryError)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``skassess`` command with ``argv`` (default ``sys.argv[1:]``).

    Returns
    -------
    int
        The exit status: 0 on success, 1 for a failure (reported as one line on
        stderr), 2 for a usage error, 130 when interrupted.
    """
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        return int(exit_.code or 0) if not isinstance(exit_.code, str) else 2
    if args.command is None:
        parser.print_help()
        return 2
    os.environ.setdefault("MPLBACKEND", "Agg")
    try:
        return args.run(args)
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except _EXPECTED as error:
        if args.debug:
            raise
        print(_report(args.command, error), file=sys.stderr)
        return getattr(error, "status", 1)


def _report(command: str, error: BaseException) -> str:
    """The one line that reports ``error``."""
    line = f"{PROG} {command}: error: {_one_line(error)}"
    if isinstance(error, UsageError):
        line += f" (see '{PROG} {command} --help')"
    return line


def _one_line(error: BaseException) -> str:
    if isinstance(error, ModuleNotFoundError) and (error.name or "").startswith("skassess"):
        text = f"this command needs {error.name}, which is not installed in this version"
    elif isinstance(error, KeyError) and type(error).__str__ is KeyError.__str__:
        text = f"not found: {error.args[0] if error.args else error}"
    else:
        text = str(error) or type(error).__name__
    return " ".join(text.split())
