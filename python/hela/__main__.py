"""``python -m hela ARGS``: the ``hela`` command line, from the installed package."""

import sys

from .connection import command

if __name__ == "__main__":
    sys.exit(command(*sys.argv[1:]))
