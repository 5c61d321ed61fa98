"""The bundled SpamAssassin corpus works wherever a bundled corpus name is accepted."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Cli = Callable[..., Any]


def test_scan_spamassassin_json(cli: Cli) -> None:
    # Every detector on 6,046 e-mails: about 7 s on 2 idle cores, so not marked slow.
    document = cli("scan", "spamassassin", "--json").json()
    assert document["n_rows"] == 6046
    assert document["counts"] == {"ham": 4150, "spam": 1896}
    assert document["verdict"]
    assert {run["name"] for run in document["detectors"]} | {s["name"] for s in document["skipped"]} >= {
        "duplicate_flood",
        "nb_influence",
    }
    assert all(row_id.count("/") == 1 and row_id.endswith(".txt") for row_id in document["ids"])


def test_spamassassin_in_the_data_help(cli: Cli) -> None:
    for command in (("scan",), ("attack", "label-flip"), ("train",), ("manifest", "create")):
        run = cli(*command, "--help")
        assert run.code == 0 and "spamassassin" in run.out, command
