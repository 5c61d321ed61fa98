"""Every backdoor variant is reachable from ``poisonlab attack backdoor``."""

from __future__ import annotations

import json

import numpy as np
import pytest

CARRIERS = ("special offer buy now", "claim your free prize")


@pytest.mark.parametrize(
    ("argv", "text_of_poison"),
    [
        (["--trigger", "limited offer", "--n", "2"], lambda t: t.startswith("limited offer ")),
        (
            ["--trigger", "cf", "--repeat", "3", "--position", "end", "--n", "2"],
            lambda t: t.endswith(" cf cf cf"),
        ),
        (["--trigger", "ok", "--position", "random", "--n", "2"], lambda t: "ok" in t.split(" ")),
        (
            ["--mode", "inject", "--carrier", CARRIERS[0], "--carrier", CARRIERS[1], "--n", "3"],
            lambda t: t.removeprefix("PROMO2026 ") in CARRIERS,
        ),
        (["--mode", "inject", "--n", "2"], lambda t: t.startswith("PROMO2026 ")),
    ],
    ids=["phrase", "repeat-end", "common-random", "carriers", "inject-copies"],
)
def test_every_variant_from_the_command_line(cli, tmp_path, argv, text_of_poison) -> None:
    target = tmp_path / "poisoned.jsonl"
    doc = cli("attack", "backdoor", "--data", "article", *argv, "--out", str(target), "--json").json()
    rows = [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()]
    poison = [r for r in rows if r["is_poison"]]
    assert len(poison) == doc["n_poison"] and poison
    assert all(text_of_poison(r["text"]) and r["label"] == "not spam" for r in poison)
    is_inject = "inject" in argv
    assert all((r["source_row"] is None) == is_inject for r in poison)
    assert np.isfinite(doc["backdoor"]["asr"]) or doc["backdoor"]["eligible"] == 0
