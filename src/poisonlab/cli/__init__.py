"""The ``poisonlab`` command: parse, call the library, render. The only code that prints or exits.

Exit codes
----------
0
    Success.
1
    A check ran and failed (used by commands that gate or verify).
2
    Bad usage or bad input: unknown option, missing or malformed file, invalid parameter.
70
    Internal error: a bug in poisonlab (run again with ``--traceback`` and report it).
130
    Interrupted (Ctrl-C); no partial output file is left behind.
"""

from __future__ import annotations

import sys
from typing import NoReturn

from poisonlab.cli.app import main

__all__ = ["main", "run"]


def run() -> NoReturn:
    """Console-script entry point."""
    sys.exit(main())
