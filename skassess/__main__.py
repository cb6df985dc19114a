"""``python -m skassess``: the same as the ``skassess`` command."""

import sys

from skassess.cli import main

if __name__ == "__main__":
    sys.exit(main())
