"""``python -m tcfaceid``: the command-line interface (tcfaceid.cli, docs/cli.md)."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
