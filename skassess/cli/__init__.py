"""The ``skassess`` command: demo, evaluation, search and data conversion.

Run ``skassess --help`` (or ``python -m skassess --help``) for the commands and
``skassess COMMAND --help`` for each one's options and examples.

One module per command (``_demo``, ``_evaluate``, ``_search``, ``_convert``),
each a short function over library calls; the parser (``_parser``,
``_arguments``) and what the commands share (``_common``: the output folder,
checked before any work, the data lookup, progress and errors) once.

The package imports only the standard library at start-up, so that ``--help``
answers at once; numpy, torch, matplotlib and the estimators are imported by
the command that needs them. Expected failures (a missing file, an unknown
benchmark, a bad value) end with one line on stderr and exit status 1, usage
errors with exit status 2; ``--debug`` shows the full traceback instead.
"""

from skassess.cli._main import main
from skassess.cli._parser import build_parser

__all__ = ["build_parser", "main"]
