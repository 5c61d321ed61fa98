"""Reports: Markdown and HTML from a real results store, and the page rendered in headless Chromium."""

from __future__ import annotations

import re

import pytest

from poisonlab.cli import main
from poisonlab.experiments.runner import run_sweep
from poisonlab.experiments.spec import parse_spec
from poisonlab.experiments.store import ResultStore
from poisonlab.reports import render_html, render_markdown

SPEC = {
    "name": "report",
    "data": "sms_spam",
    "seeds": [0, 1],
    "victim": [{"name": "nb"}],
    "attack": [
        {"name": "label_flip", "strategy": "targeted", "rate": [0.02, 0.1]},
        {"name": "backdoor", "trigger": "PROMO2026", "rate": [0.005, 0.01]},
    ],
}


@pytest.fixture(scope="module")
def store_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("report") / "results.sqlite"
    with ResultStore(path) as store:
        run_sweep(parse_spec(SPEC), store, workers=1)
    return path


def rows_of(path):
    with ResultStore(path) as store:
        return store.rows(), store.errors()


def test_markdown_lists_every_setting(store_path):
    rows, errors = rows_of(store_path)
    text = render_markdown(rows, errors)
    table = [line for line in text.splitlines() if line.startswith("| nb")]
    assert len(table) == 4
    assert "8 finished cells" in text
    assert all(re.search(r"\d+\.\d% ± \d+\.\d", line) for line in table)


def test_html_is_self_contained_and_deterministic(store_path):
    rows, errors = rows_of(store_path)
    page = render_html(rows, errors)
    assert page == render_html(rows, errors)
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)
    for key in ("figure-cacc", "figure-asr", "figure-spam-leak"):
        assert f'id="{key}"' in page
    assert page.count("<svg") == 3
    assert page.count("<tr>") == 1 + 4


def test_cli_report_writes_html_atomically_and_md_to_stdout(store_path, tmp_path, capsys):
    out = tmp_path / "report.html"
    assert main(["report", str(store_path), "-o", str(out)]) == 0
    assert out.read_text().startswith("<!DOCTYPE html>")
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]
    capsys.readouterr()
    assert main(["report", str(store_path), "--format", "md"]) == 0
    assert capsys.readouterr().out.startswith("# poisonlab report")
    assert main(["report", str(tmp_path / "missing.sqlite")]) == 2
    assert "No such results store" in capsys.readouterr().err


def test_report_renders_in_headless_chromium(store_path, tmp_path, headless_chromium):
    page = tmp_path / "report.html"
    assert main(["report", str(store_path), "-o", str(page)]) == 0
    dom = headless_chromium(page, "--virtual-time-budget=2000", "--dump-dom")
    html = dom.stdout
    assert 'data-report="ready"' in html, "the page's script did not run to its end"
    for key in ("figure-cacc", "figure-asr", "figure-spam-leak"):
        figure = re.search(rf'<figure id="{key}"[^>]*>(.*?)</figure>', html, re.S)
        assert figure is not None and "<svg" in figure.group(1)
    console = [line for line in dom.stderr.splitlines() if "CONSOLE" in line]
    assert not [line for line in console if "Uncaught" in line or "Error" in line], console
    shot = tmp_path / "report.png"
    headless_chromium(page, "--window-size=1200,2400", f"--screenshot={shot}")
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000
