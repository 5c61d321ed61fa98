"""``poisonlab search``: answer the article's "try it yourself" questions by search."""

from __future__ import annotations

import argparse
import importlib
from typing import Any

SEARCHES: tuple[str, ...] = ("search_triggers", "search_min_poison")
"""Modules under ``poisonlab.cli`` that each add one ``search`` subcommand via ``add_parser``."""

DESCRIPTION = """\
Search for the cheapest successful poison: the fewest poison rows that change a prediction or
reach a target attack success rate, and the triggers that work best against a victim.
"""


def add_parser(commands: Any) -> None:
    """Register ``search`` and its subcommands."""
    parser = commands.add_parser(
        "search",
        help="find the minimum poison or the best trigger",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    kinds = parser.add_subparsers(dest="search", metavar="SEARCH", required=True)
    for module in SEARCHES:
        importlib.import_module(f"poisonlab.cli.{module}").add_parser(kinds)
