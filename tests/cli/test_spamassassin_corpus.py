"""The bundled SpamAssassin corpus works wherever a bundled corpus name is accepted."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

Cli = Callable[..., Any]


def _check_scan(document: dict[str, Any]) -> None:
    assert document["n_rows"] == 6046
    assert document["counts"] == {"ham": 4150, "spam": 1896}
    assert document["verdict"]
    assert all(row_id.count("/") == 1 and row_id.endswith(".txt") for row_id in document["ids"])


def test_scan_spamassassin_json_with_two_detectors(cli: Cli) -> None:
    document = cli(
        "scan", "spamassassin", "--detector", "duplicate_flood", "--detector", "nb_influence", "--json"
    )
    _check_scan(document.json())


@pytest.mark.slow  # every detector on 6,046 e-mails: 10-16 s on a 2-core machine
def test_scan_spamassassin_json(cli: Cli) -> None:
    _check_scan(cli("scan", "spamassassin", "--json").json())


def test_spamassassin_in_the_data_help(cli: Cli) -> None:
    for command in (("scan",), ("attack", "label-flip"), ("train",), ("manifest", "create")):
        run = cli(*command, "--help")
        assert run.code == 0 and "spamassassin" in run.out, command
