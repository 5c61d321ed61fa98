"""``poisonlab manifest create|verify|keygen``, run in-process."""

from __future__ import annotations

import csv
import json
import sys
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

CliRun = Callable[..., Any]

ROWS = [
    ("m1", "hello there", "ham"),
    ("m2", "WIN cash now", "spam"),
    ("m3", "Café menu:\nsoup", "ham"),
    ("m4", "cheap pills", "spam"),
    ("m5", "see you at lunch", "ham"),
]


def data_file(path: Path, rows: list[tuple[str, str, str]] = ROWS) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(("id", "text", "label"))
        writer.writerows(rows)
    return path


@pytest.fixture
def made(tmp_path: Path, cli: CliRun) -> tuple[Path, Path]:
    """A data file and its manifest."""
    data, manifest = data_file(tmp_path / "train.csv"), tmp_path / "train.manifest.jsonl"
    assert cli("manifest", "create", str(data), "-o", str(manifest)).code == 0
    return data, manifest


def verify(cli: CliRun, data: Path | str, manifest: Path, *extra: str) -> Any:
    return cli("manifest", "verify", str(data), "--manifest", str(manifest), *extra)


def test_create_then_verify_identical(cli: CliRun, made: tuple[Path, Path]) -> None:
    data, manifest = made
    run = verify(cli, data, manifest)
    assert run.code == 0, run.err
    assert "Verdict: identical" in run.out
    document = verify(cli, data, manifest, "--json").json()
    assert document["identical"] is True and document["file"]["matches"] is True
    assert document["counts"] == {"added": 0, "removed": 0, "relabelled": 0, "modified": 0}


def test_create_json_and_bundled_corpus(cli: CliRun, tmp_path: Path) -> None:
    manifest = tmp_path / "article.jsonl"
    document = cli("manifest", "create", "article", "-o", str(manifest), "--json").json()
    assert document["header"]["rows"] == 14 and document["header"]["source"]["name"] == "article"
    assert document["header"] == json.loads(manifest.read_text().splitlines()[0])
    assert verify(cli, "article", manifest).code == 0


def test_same_input_byte_identical(cli: CliRun, tmp_path: Path) -> None:
    data = data_file(tmp_path / "d.csv")
    for name in ("a.jsonl", "b.jsonl"):
        assert cli("manifest", "create", str(data), "-o", str(tmp_path / name)).code == 0
    assert (tmp_path / "a.jsonl").read_bytes() == (tmp_path / "b.jsonl").read_bytes()
    assert cli("manifest", "create", str(data), "-o", str(tmp_path / "c.jsonl"), "--created", "now").code == 0
    assert json.loads((tmp_path / "c.jsonl").read_text().splitlines()[0])["created"]


def test_each_change_is_listed_with_counts(cli: CliRun, made: tuple[Path, Path], tmp_path: Path) -> None:
    _, manifest = made
    rows = [list(row) for row in ROWS]
    rows[0][2] = "spam"  # m1 relabelled
    rows[1][1] = "WIN cash now!!!"  # m2 modified
    del rows[3]  # m4 removed
    rows.append(["p1", "PROMO2026 hi", "ham"])  # p1 added
    changed = data_file(tmp_path / "changed.csv", [tuple(r) for r in rows])  # type: ignore[misc]
    run = verify(cli, changed, manifest)
    assert run.code == 1, run.err
    assert "Verdict: CHANGED: 1 added, 1 removed, 1 relabelled, 1 modified." in run.out
    assert "ham -> spam" in run.out
    document = json.loads(verify(cli, changed, manifest, "--json").out)
    assert document["identical"] is False
    assert document["counts"] == {"added": 1, "removed": 1, "relabelled": 1, "modified": 1}
    assert [c["id"] for c in document["added"]] == ["p1"]
    assert [c["id"] for c in document["removed"]] == ["m4"]
    assert [(c["id"], c["label_before"], c["label_after"]) for c in document["relabelled"]] == [
        ("m1", "ham", "spam")
    ]
    assert [c["id"] for c in document["modified"]] == ["m2"]
    listed = verify(cli, changed, manifest, "--limit", "0")
    assert listed.code == 1 and "PROMO2026" not in listed.out and "p1" not in listed.out


def test_crlf_and_nfd_copy_is_identical(cli: CliRun, made: tuple[Path, Path], tmp_path: Path) -> None:
    data, manifest = made
    copy = tmp_path / "copy.csv"
    text = unicodedata.normalize("NFD", data.read_text(encoding="utf-8"))
    copy.write_bytes(text.replace("\r\n", "\n").replace("\n", "\r\n").encode("utf-8"))
    assert copy.read_bytes() != data.read_bytes()
    run = verify(cli, copy, manifest)
    assert run.code == 0, run.out
    assert "File bytes: differ" in run.out and "same after normalisation" in run.out


def test_tampered_manifest_fails_with_a_reason(cli: CliRun, made: tuple[Path, Path], tmp_path: Path) -> None:
    data, manifest = made
    lines = manifest.read_text().splitlines()
    row = json.loads(lines[2])
    row["text_sha256"] = "0" * 64
    manifest.write_text("\n".join([lines[0], lines[1], json.dumps(row), *lines[3:]]) + "\n")
    run = verify(cli, data, manifest)
    assert run.code == 1
    assert "Problem: The manifest's rows do not hash to the Merkle root" in " ".join(run.out.split())
    assert "Verdict: FAILED" in run.out
    header = json.loads(lines[0])
    header["merkle_root"] = "f" * 64
    manifest.write_text("\n".join([json.dumps(header), *lines[1:]]) + "\n")
    document = json.loads(verify(cli, data, manifest, "--json").out)
    assert document["identical"] is False and "Merkle root" in document["problems"][0]


def test_signed_flow_and_wrong_key(cli: CliRun, tmp_path: Path) -> None:
    data = data_file(tmp_path / "d.csv")
    key, other = tmp_path / "team.key", tmp_path / "other.key"
    made = cli("manifest", "keygen", "-o", str(key), "--json").json()
    assert Path(made["public_key"]) == tmp_path / "team.key.pub"
    assert key.stat().st_mode & 0o777 == 0o600
    assert cli("manifest", "keygen", "-o", str(other)).code == 0
    manifest = tmp_path / "m.jsonl"
    created = cli("manifest", "create", str(data), "-o", str(manifest), "--sign", str(key), "--json").json()
    assert created["header"]["signature"]["key"] == made["fingerprint"]
    good = verify(cli, data, manifest, "--verify-key", f"{key}.pub")
    assert good.code == 0 and "Signature: valid" in good.out
    wrong = verify(cli, data, manifest, "--verify-key", f"{other}.pub", "--json")
    assert wrong.code == 1
    document = json.loads(wrong.out)
    assert document["signature"]["status"] == "invalid"
    assert f"signed by key {made['fingerprint']}" in document["problems"][0]
    lines = manifest.read_text().splitlines()
    header = json.loads(lines[0])
    header["counts"] = {"ham": 2, "spam": 3}  # an edited header, its counts made up
    manifest.write_text("\n".join([json.dumps(header), *lines[1:]]) + "\n")
    edited = verify(cli, data, manifest, "--verify-key", f"{key}.pub")
    assert edited.code == 1 and "edited after signing" in " ".join(edited.out.split())


def test_keygen_refuses_to_replace_a_key(
    cli: CliRun, check_error: Callable[..., str], tmp_path: Path
) -> None:
    key = tmp_path / "k.key"
    assert cli("manifest", "keygen", "-o", str(key)).code == 0
    before = key.read_bytes()
    assert "already exists" in check_error(cli("manifest", "keygen", "-o", str(key)))
    assert key.read_bytes() == before
    assert cli("manifest", "keygen", "-o", str(key), "--force").code == 0
    assert key.read_bytes() != before


def test_bad_input_exits_2_with_one_sentence(
    cli: CliRun, check_error: Callable[..., str], made: tuple[Path, Path], tmp_path: Path
) -> None:
    data, manifest = made
    broken = tmp_path / "broken.jsonl"
    broken.write_text(manifest.read_text()[:-30] + "\n")
    assert "is not valid JSON" in check_error(verify(cli, data, broken))
    broken.write_text('{"hello": 1}\n')
    assert "not a poisonlab manifest" in check_error(verify(cli, data, broken))
    assert "No such manifest" in check_error(verify(cli, data, tmp_path / "none.jsonl"))
    assert "No such file" in check_error(verify(cli, tmp_path / "none.csv", manifest))
    assert "No such verify key" in check_error(verify(cli, data, manifest, "--verify-key", "nokey.pub"))
    out = tmp_path / "new.jsonl"
    assert "No such signing key" in check_error(
        cli("manifest", "create", str(data), "-o", str(out), "--sign", str(tmp_path / "nokey"))
    )
    assert "ISO 8601" in check_error(
        cli("manifest", "create", str(data), "-o", str(out), "--created", "soon")
    )
    assert "is the data file itself" in check_error(cli("manifest", "create", str(data), "-o", str(data)))
    assert "does not exist" in check_error(
        cli("manifest", "create", str(data), "-o", str(tmp_path / "x" / "m"))
    )
    assert not out.exists()
    check_error(cli("manifest", "verify", str(data)), usage=True)
    check_error(verify(cli, data, manifest, "--limit", "-1"), usage=True)


def test_missing_cryptography_is_explained(
    cli: CliRun, check_error: Callable[..., str], monkeypatch: pytest.MonkeyPatch, made: tuple[Path, Path]
) -> None:
    data, manifest = made
    for name in [m for m in sys.modules if m == "cryptography" or m.startswith("cryptography.")]:
        monkeypatch.setitem(sys.modules, name, None)
    line = check_error(verify(cli, data, manifest, "--verify-key", str(manifest)))
    assert "pip install 'poisonlab[manifest]'" in line
    assert verify(cli, data, manifest).code == 0  # creating and checking rows needs no cryptography


def test_help_teaches(cli: CliRun) -> None:
    for action in ("create", "verify", "keygen"):
        run = cli("manifest", action, "--help")
        assert run.code == 0 and "poisonlab manifest" in run.out
    assert "exit codes" in cli("manifest", "verify", "--help").out
