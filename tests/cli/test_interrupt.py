"""Ctrl-C in the middle of every command that writes a file: exit 130, no partial file left behind.

Two ways in: the interrupt arrives while the output is being committed (``os.replace`` raises
KeyboardInterrupt), and a real SIGINT arrives in the middle of a long sweep.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from poisonlab.cli import main


def _interrupt(*args: object, **kwargs: object) -> None:
    raise KeyboardInterrupt


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    from poisonlab.experiments.runner import run_sweep
    from poisonlab.experiments.spec import parse_spec
    from poisonlab.experiments.store import ResultStore

    path = tmp_path_factory.mktemp("store") / "results.sqlite"
    spec = parse_spec(
        {
            "data": "article",
            "seeds": [0],
            "victim": [{"name": "nb"}],
            "attack": [{"name": "label_flip", "n": 1}],
        }
    )
    with ResultStore(path) as results:
        run_sweep(spec, results, workers=1)
    return path


def commands(folder: Path, store: Path) -> dict[str, list[str]]:
    out = folder / "out"
    return {
        "attack csv": ["attack", "label-flip", "--n", "5", "--out", f"{out}.csv"],
        "attack jsonl": ["attack", "backdoor", "--n", "5", "--out", f"{out}.jsonl"],
        "attack mbox": ["attack", "backdoor", "--n", "5", "--out", f"{out}.mbox"],
        "report html": ["report", str(store), "-o", f"{out}.html"],
        "manifest": ["manifest", "create", "article", "-o", f"{out}.jsonl"],
        "scan html": ["scan", "article", "--html", f"{out}.html"],
        "train": ["train", "--data", "article", "--out", f"{out}.skops"],
        "keygen": ["manifest", "keygen", "-o", f"{out}.key"],
    }


@pytest.mark.parametrize(
    "name",
    ["attack csv", "attack jsonl", "attack mbox", "report html", "manifest", "scan html", "train", "keygen"],
)
def test_interrupt_while_writing_leaves_nothing(name, tmp_path, store, monkeypatch, capsys):
    folder = tmp_path / "work"
    folder.mkdir()
    argv = commands(folder, store)[name]
    monkeypatch.setattr(os, "replace", _interrupt)
    code = main(argv)
    captured = capsys.readouterr()
    assert code == 130, captured.err
    assert "interrupted" in captured.err
    assert sorted(p.name for p in folder.iterdir()) == []


def test_sigint_in_the_middle_of_a_sweep_keeps_finished_cells(tmp_path):
    spec = tmp_path / "spec.toml"
    spec.write_text(
        'name = "int"\ndata = "sms_spam"\nseeds = [0, 1, 2, 3, 4, 5, 6, 7]\n'
        '[[victim]]\nname = "logreg"\n[[attack]]\nname = "label_flip"\nrate = [0.02, 0.05]\n',
        encoding="utf-8",
    )
    store_path = tmp_path / "int.sqlite"
    process = subprocess.Popen(
        [sys.executable, "-m", "poisonlab", "sweep", str(spec), "--store", str(store_path), "--workers", "1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.2)
        try:
            with sqlite3.connect(store_path) as probe:
                if probe.execute("SELECT COUNT(*) FROM cells").fetchone()[0] >= 1:
                    break
        except sqlite3.OperationalError:
            continue
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert "poisonlab: interrupted" in err and "Traceback" not in err
    with sqlite3.connect(store_path) as probe:
        assert probe.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert probe.execute("SELECT COUNT(*) FROM cells").fetchone()[0] >= 1
