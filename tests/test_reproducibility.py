"""Same inputs and seed give byte-identical outputs (timings aside), for every kind of output."""

from __future__ import annotations

import json
from typing import Any

import pytest

from poisonlab.cli import main

TIMING_KEYS = {"seconds", "secs", "timings", "elapsed"}


def without_timings(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: without_timings(v) for k, v in value.items() if k not in TIMING_KEYS}
    if isinstance(value, list):
        return [without_timings(v) for v in value]
    return value


@pytest.mark.parametrize("suffix", ["csv", "jsonl", "mbox"])
def test_attack_exports_are_byte_identical(tmp_path, capsys, suffix):
    outputs = []
    for run in ("a", "b"):
        path = tmp_path / f"{run}.{suffix}"
        argv = [
            "attack",
            "backdoor",
            "--rate",
            "0.01",
            "--seed",
            "3",
            "--position",
            "random",
            "--out",
            str(path),
        ]
        assert main(argv) == 0
        outputs.append(path.read_bytes())
    capsys.readouterr()
    assert outputs[0] == outputs[1] and len(outputs[0]) > 10_000


def test_scan_json_is_identical_apart_from_timings(tmp_path, capsys):
    data = tmp_path / "poisoned.csv"
    assert main(["attack", "label-flip", "--rate", "0.05", "--out", str(data)]) == 0
    capsys.readouterr()
    runs = []
    for _ in range(2):
        assert (
            main(["scan", str(data), "--json", "--detector", "knn_labels", "--detector", "trigger_mining"])
            == 0
        )
        runs.append(without_timings(json.loads(capsys.readouterr().out)))
    assert runs[0] == runs[1]


def test_a_different_seed_gives_a_different_export(tmp_path, capsys):
    paths = [tmp_path / "s1.csv", tmp_path / "s2.csv"]
    for seed, path in zip(("1", "2"), paths):
        assert main(["attack", "label-flip", "--rate", "0.05", "--seed", seed, "--out", str(path)]) == 0
    capsys.readouterr()
    assert paths[0].read_bytes() != paths[1].read_bytes()
