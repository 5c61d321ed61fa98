"""Sweeps: spec validation, cell expansion, the resumable store, aggregation, Dask equality."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from poisonlab import ParameterError
from poisonlab.cli import main
from poisonlab.experiments.aggregate import aggregate, summarize
from poisonlab.experiments.runner import run_sweep
from poisonlab.experiments.spec import load_spec, parse_spec
from poisonlab.experiments.store import ResultStore

SMALL = {
    "name": "small",
    "data": "article",
    "seeds": [0, 1],
    "victim": [{"name": "nb"}],
    "attack": [{"name": "label_flip", "strategy": "targeted", "n": [1, 2]}],
}


def write_spec(folder: Path, text: str) -> Path:
    path = folder / "spec.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_cells_are_the_product_of_grids_and_seeds():
    spec = parse_spec(
        {
            "data": "article",
            "seeds": [0, 1, 2],
            "victim": [{"name": ["nb", "logreg"]}],
            "attack": [
                {"name": "label_flip", "n": [1, 2]},
                {"name": "backdoor", "n": 1, "position": ["start", "end"]},
            ],
        }
    )
    cells = spec.cells()
    assert len(cells) == 2 * 4 * 1 * 3
    assert {cell.defense["name"] for cell in cells} == {"none"}
    assert len({json.dumps(c.describe(), sort_keys=True) for c in cells}) == len(cells)


def test_list_valued_parameters_are_written_as_a_list_of_one_list():
    spec = parse_spec(
        {
            **SMALL,
            "attack": [
                {"name": "backdoor", "mode": "inject", "n": 2, "carriers": [["free prize", "win now"]]}
            ],
        }
    )
    assert [cell.attack["carriers"] for cell in spec.cells()] == [["free prize", "win now"]] * 2


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"colour": "red"}, "Unknown key(s) in the spec: colour"),
        ({"attack": [{"name": "laser"}]}, "Unknown attack 'laser'"),
        ({"victim": [{"name": "nb", "depth": 3}]}, "A victim takes only 'name' and 'features'"),
        ({"victim": [{"name": "tree"}]}, "Unknown victim 'tree'"),
        ({"attack": [{"name": "label_flip", "rate": 1.5}]}, "The 'rate' parameter of LabelFlip"),
        (
            {"attack": [{"name": "label_flip", "n": 1, "colour": "red"}]},
            "Bad parameters for attack 'label_flip'",
        ),
        ({"attack": [{"name": "label_flip", "n": []}]}, "is empty"),
        ({"attack": []}, "needs at least one [[attack]]"),
        ({"seeds": []}, "'seeds' must be a non-empty list"),
        ({"seeds": [-1]}, "Every seed must be an integer"),
        ({"data": ""}, "The spec needs 'data'"),
        ({"defense": [{"name": "none", "k": 3}]}, "takes no parameters"),
        ({"detector": [{"name": "no_such_detector"}]}, "Unknown detector"),
    ],
)
def test_bad_specs_fail_before_anything_runs(change, message):
    with pytest.raises(ParameterError) as caught:
        parse_spec({**SMALL, **change})
    assert message in str(caught.value)


def test_load_spec_errors(tmp_path):
    with pytest.raises(ParameterError, match="No such spec file"):
        load_spec(tmp_path / "missing.toml")
    with pytest.raises(ParameterError, match="is not valid TOML"):
        load_spec(write_spec(tmp_path, "name = [unclosed"))


def test_relative_data_paths_resolve_against_the_spec(tmp_path):
    (tmp_path / "mail.csv").write_text("text,label\na,ham\nb,spam\n")
    spec = load_spec(
        write_spec(
            tmp_path, 'data = "mail.csv"\n[[victim]]\nname = "nb"\n[[attack]]\nname = "label_flip"\nn = 1\n'
        )
    )
    assert spec.data == os.fspath(tmp_path / "mail.csv")


def test_store_skips_finished_cells_and_results_are_deterministic(tmp_path):
    spec = parse_spec(SMALL)
    with ResultStore(tmp_path / "a.sqlite") as store:
        first = run_sweep(spec, store, workers=1)
        again = run_sweep(spec, store, workers=1)
        rows_a = store.rows()
    assert (first.ran, first.skipped, again.ran, again.skipped) == (4, 0, 0, 4)
    with ResultStore(tmp_path / "b.sqlite") as store:
        run_sweep(spec, store, workers=2)
        rows_b = store.rows()
    strip = [{k: v for k, v in row.items() if k != "timings"} for row in rows_a]
    assert strip == [{k: v for k, v in row.items() if k != "timings"} for row in rows_b]
    assert all(row["versions"]["poisonlab"] for row in rows_a)
    assert len({row["fingerprint"] for row in rows_a}) == 1


def test_a_failing_cell_is_recorded_and_retried_not_stored(tmp_path):
    spec = parse_spec({**SMALL, "attack": [{"name": "label_flip", "strategy": "targeted", "n": [2, 50]}]})
    with ResultStore(tmp_path / "r.sqlite") as store:
        summary = run_sweep(spec, store, workers=1)
        assert (summary.ran, summary.failed) == (2, 2)
        assert len(store.errors()) == 2
        assert "budget" in store.errors()[0]["error"]
        assert run_sweep(spec, store, workers=1).failed == 2  # failed cells are not finished


def test_aggregate_gives_mean_and_t_interval(tmp_path):
    spec = parse_spec(SMALL)
    with ResultStore(tmp_path / "r.sqlite") as store:
        run_sweep(spec, store, workers=1)
        groups = aggregate(store.rows())
    assert len(groups) == 2
    assert all(group["seeds"] == [0, 1] for group in groups)
    flips = {group["cell"]["attack"]["n"]: group["metrics"]["n_poison"] for group in groups}
    assert flips[1].mean == 1 and flips[2].mean == 2 and flips[2].ci95 == 0


def test_summarize_matches_scipy():
    from scipy import stats

    values = [0.91, 0.95, 0.88, 0.97]
    low, high = stats.t.interval(0.95, len(values) - 1, loc=sum(values) / 4, scale=stats.sem(values))
    summary = summarize(values)
    assert summary.low == pytest.approx(low) and summary.high == pytest.approx(high)
    assert summarize([float("nan")]).n == 0 and summarize([0.5]).ci95 != summarize([0.5]).ci95


def test_sweep_on_a_dask_cluster_equals_the_local_run(tmp_path):
    distributed = pytest.importorskip("distributed", reason="the dask extra is not installed")
    spec = parse_spec(SMALL)
    with ResultStore(tmp_path / "local.sqlite") as store:
        run_sweep(spec, store, workers=1)
        local = store.rows()
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            local_directory=tmp_path,
        ) as cluster,
        ResultStore(tmp_path / "dask.sqlite") as store,
    ):
        summary = run_sweep(spec, store, scheduler=cluster.scheduler_address)
        remote = store.rows()
    assert summary.ran == 4
    assert [(r["key"], r["metrics"]) for r in remote] == [(r["key"], r["metrics"]) for r in local]


def test_killed_sweep_keeps_finished_cells_and_resumes(tmp_path):
    spec_path = write_spec(
        tmp_path,
        'name = "kill"\ndata = "sms_spam"\nseeds = [0, 1, 2, 3, 4, 5]\n'
        '[[victim]]\nname = "logreg"\n[[attack]]\nname = "label_flip"\nrate = [0.02, 0.05]\n',
    )
    store_path = tmp_path / "kill.sqlite"
    command = [
        sys.executable,
        "-m",
        "poisonlab",
        "sweep",
        str(spec_path),
        "--store",
        str(store_path),
        "--workers",
        "1",
    ]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    finished = 0
    while time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.2)
        if store_path.exists():
            try:
                with sqlite3.connect(store_path) as probe:
                    finished = probe.execute("SELECT COUNT(*) FROM cells").fetchone()[0]
            except sqlite3.OperationalError:
                continue
            if finished >= 2:
                break
    process.send_signal(signal.SIGKILL)
    process.wait()
    with sqlite3.connect(store_path) as probe:
        assert probe.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        kept = probe.execute("SELECT COUNT(*) FROM cells").fetchone()[0]
    assert 2 <= kept < 12
    with ResultStore(store_path) as store:
        rows = store.rows()
        assert all(row["metrics"]["n_poison"] > 0 for row in rows)
        summary = run_sweep(load_spec(spec_path), store, workers=1)
    assert (summary.skipped, summary.ran) == (kept, 12 - kept)


def test_cli_sweep_dry_run_json_and_resume(tmp_path, capsys):
    spec_path = write_spec(
        tmp_path,
        'name = "cli"\ndata = "article"\nseeds = [0]\n[[victim]]\nname = "nb"\n'
        '[[attack]]\nname = "label_flip"\nn = [1, 2]\n',
    )
    store = str(tmp_path / "cli.sqlite")
    assert main(["sweep", str(spec_path), "--store", store, "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "2 cells." in out and not Path(store).exists()
    assert main(["sweep", str(spec_path), "--store", store, "--json", "--workers", "1"]) == 0
    first = json.loads(capsys.readouterr().out)
    assert (first["ran"], first["skipped"], len(first["aggregates"])) == (2, 0, 2)
    assert main(["sweep", str(spec_path), "--store", store, "--workers", "1"]) == 0
    captured = capsys.readouterr()
    assert "0 run, 2 already stored" in captured.out


def test_cli_sweep_bad_spec_is_one_sentence(tmp_path, capsys):
    spec_path = write_spec(tmp_path, 'data = "article"\nwhat = 1\n[[victim]]\nname = "nb"\n')
    assert main(["sweep", str(spec_path), "--store", str(tmp_path / "x.sqlite")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("poisonlab: error: Unknown key(s) in the spec: what.") and err.count("\n") == 1
    assert not (tmp_path / "x.sqlite").exists()


def test_store_refuses_a_file_that_is_not_a_store(tmp_path):
    bogus = tmp_path / "bogus.sqlite"
    bogus.write_bytes(b"this is not sqlite" * 100)
    from poisonlab import DataError

    with pytest.raises(DataError, match="is not a poisonlab results store"):
        ResultStore(bogus)


@pytest.mark.parametrize("name", ["quick.toml", "study.toml"])
def test_shipped_example_specs_are_valid(name):
    spec = load_spec(Path(__file__).resolve().parents[2] / "examples" / name)
    assert spec.cells()


def test_bundled_corpus_names_are_not_paths(tmp_path):
    for name in ("sms_spam", "spamassassin", "article"):
        assert parse_spec({**SMALL, "data": name}, base=tmp_path).data == name
