"""Manifests: normalisation, the RFC 6962 Merkle root, the file format, and exact row diffs."""

from __future__ import annotations

import hashlib
import json
import unicodedata
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from poisonlab import DataError
from poisonlab.attacks import Backdoor, LabelFlip
from poisonlab.data import Dataset, load_dataset
from poisonlab.data.manifest import (
    MerkleTree,
    Source,
    canonical_json,
    create_manifest,
    describe_source,
    diff_rows,
    iter_rows,
    label_sha256,
    merkle_root,
    merkle_tree_hash,
    normalise_text,
    parse_created,
    read_manifest_header,
    read_manifest_rows,
    text_sha256,
    verify_manifest,
)

CLASSES = ("ham", "spam")

# Certificate Transparency's reference inputs and tree heads for RFC 6962 (the same vectors
# appear in transparency-dev/merkle and google/certificate-transparency): root of the first n leaves.
CT_LEAVES = [bytes.fromhex(h) for h in ("", "00", "10", "2021", "3031", "40414243", "5051525354555657")]
CT_LEAVES.append(bytes.fromhex("606162636465666768696a6b6c6d6e6f"))
CT_ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]


def rfc6962_root(leaves: list[bytes]) -> bytes:
    """RFC 6962 section 2.1, written as the RFC states it (recursive split at a power of two)."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return hashlib.sha256(b"\x00" + leaves[0]).digest()
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return hashlib.sha256(b"\x01" + rfc6962_root(leaves[:k]) + rfc6962_root(leaves[k:])).digest()


def dataset(texts: list[str], labels: list[int], ids: list[str] | None = None) -> Dataset:
    return Dataset(texts, labels, CLASSES, ids, name="mail.csv")


@pytest.fixture
def base() -> Dataset:
    texts = ["hello there", "WIN cash now", "lunch at 1?", "cheap pills", "see you", "free prize"]
    return dataset(texts, [0, 1, 0, 1, 0, 1], [f"m{i}" for i in range(6)])


# -- normalisation -----------------------------------------------------------------------------


def test_line_endings_and_unicode_form_are_normalised() -> None:
    assert text_sha256("a\r\nb\rc\n") == text_sha256("a\nb\nc\n")
    nfd = unicodedata.normalize("NFD", "Café crème")
    assert nfd != "Café crème"
    assert text_sha256(nfd) == text_sha256("Café crème")
    assert text_sha256("x") == hashlib.sha256(b"x").hexdigest()


def test_whitespace_case_and_lookalikes_are_kept() -> None:
    assert text_sha256("win cash") != text_sha256("win cash ")
    assert text_sha256("win cash") != text_sha256("win  cash")
    assert text_sha256("win cash") != text_sha256("WIN cash")
    assert text_sha256("FREE") != text_sha256("ＦＲＥＥ")  # full-width: NFKC would fold it, NFC must not
    assert normalise_text("\r\n\r") == "\n\n"


def test_label_hash_is_the_class_name() -> None:
    assert label_sha256("spam") == hashlib.sha256(b"spam").hexdigest()
    assert label_sha256(unicodedata.normalize("NFD", "négatif")) == label_sha256("négatif")


# -- Merkle tree -------------------------------------------------------------------------------


def test_merkle_root_matches_certificate_transparency_vectors() -> None:
    for n, expected in enumerate(CT_ROOTS):
        assert merkle_tree_hash(CT_LEAVES[:n]) == expected


@given(st.lists(st.binary(max_size=8), max_size=70))
def test_streaming_root_equals_the_recursive_definition(leaves: list[bytes]) -> None:
    tree = MerkleTree()
    for count, leaf in enumerate(leaves, start=1):
        tree.add(leaf)
        assert tree.size == count
    assert tree.root() == rfc6962_root(leaves).hex()


def test_odd_node_is_promoted_not_duplicated() -> None:
    leaves = [b"a", b"b", b"c"]
    assert merkle_tree_hash(leaves) != merkle_tree_hash([*leaves, b"c"])
    assert merkle_tree_hash(leaves) != merkle_tree_hash([b"c", b"b", b"a"])


# -- the file ----------------------------------------------------------------------------------


@given(st.text(max_size=20), st.text(max_size=10), st.integers(0, 10**12))
def test_row_line_is_canonical_json(row_id: str, source: str, position: int) -> None:
    row = next(iter_rows(Dataset(["t"], [1], CLASSES, [row_id]), source))._replace(row=position)
    line = row.line()
    assert line == canonical_json(row.to_dict())
    assert line.isascii() and "\n" not in line
    assert json.loads(line) == row.to_dict()


def test_manifest_layout(tmp_path: Path, base: Dataset) -> None:
    path = tmp_path / "m.jsonl"
    header = create_manifest(base, path, source=Source("mail.csv", "ab" * 32, 99))
    raw = path.read_bytes()
    assert raw.isascii() and raw.endswith(b"\n") and b"\r" not in raw
    lines = raw.decode().splitlines()
    assert len(lines) == 1 + len(base)
    first = json.loads(lines[0])
    assert first == header.to_dict()
    assert lines[0] == canonical_json(first)
    assert first["counts"] == {"ham": 3, "spam": 3} and first["rows"] == len(base)
    assert first["source"] == {"name": "mail.csv", "sha256": "ab" * 32, "size": 99}
    assert "created" not in first and "signature" not in first
    assert header.merkle_root == merkle_tree_hash(line.encode() for line in lines[1:]) == merkle_root(base)
    rows = [json.loads(line) for line in lines[1:]]
    assert [r["id"] for r in rows] == list(base.ids)
    assert [r["row"] for r in rows] == list(range(len(base)))
    assert {r["source"] for r in rows} == {"mail.csv"}
    assert [r["text_sha256"] for r in rows] == [text_sha256(t) for t in base.texts]
    assert [r["label_sha256"] for r in rows] == [label_sha256(CLASSES[k]) for k in base.labels]
    assert read_manifest_header(path) == header
    assert list(read_manifest_rows(path)) == list(iter_rows(base))


@given(st.lists(st.text(max_size=6), min_size=1, max_size=8, unique=True), st.text(max_size=6))
def test_any_ids_round_trip(tmp_path_factory: pytest.TempPathFactory, ids: list[str], name: str) -> None:
    """Ids and names with quotes, backslashes, controls or non-ASCII read back exactly."""
    data = Dataset([f"t{i}" for i in range(len(ids))], [i % 2 for i in range(len(ids))], CLASSES, ids, name)
    path = tmp_path_factory.mktemp("ids") / "m.jsonl"
    create_manifest(data, path)
    assert list(read_manifest_rows(path)) == list(iter_rows(data))
    assert verify_manifest(data, path).is_identical


def test_same_input_gives_byte_identical_manifest(tmp_path: Path) -> None:
    data = load_dataset("article")
    first, second = tmp_path / "1.jsonl", tmp_path / "2.jsonl"
    create_manifest(data, first)
    create_manifest(load_dataset("article"), second)
    assert first.read_bytes() == second.read_bytes()


def test_created_is_recorded_only_when_given(tmp_path: Path, base: Dataset) -> None:
    path = tmp_path / "m.jsonl"
    header = create_manifest(base, path, created=parse_created("2026-03-04T05:06:07Z"))
    assert json.loads(path.read_text().splitlines()[0])["created"] == "2026-03-04T05:06:07+00:00"
    assert header.created == "2026-03-04T05:06:07+00:00"
    assert parse_created("now").endswith("+00:00")
    with pytest.raises(DataError, match="ISO 8601"):
        parse_created("yesterday")


def test_describe_source_hashes_the_stored_bytes(tmp_path: Path) -> None:
    file = tmp_path / "mail.csv"
    file.write_bytes(b"text,label\r\nhi,ham\r\n")
    assert describe_source(file) == Source("mail.csv", hashlib.sha256(file.read_bytes()).hexdigest(), 20)
    assert describe_source("article") == Source("article")
    assert describe_source(tmp_path) == Source(tmp_path.name)
    with pytest.raises(DataError, match="No such file"):
        describe_source(tmp_path / "missing.csv")


def test_writing_into_a_missing_folder_is_a_data_error(tmp_path: Path, base: Dataset) -> None:
    with pytest.raises(DataError, match="does not exist"):
        create_manifest(base, tmp_path / "nope" / "m.jsonl")
    with pytest.raises(DataError, match="folder"):
        create_manifest(base, tmp_path)


# -- verifying: exact differences --------------------------------------------------------------


def manifest_of(data: Dataset, tmp_path: Path) -> Path:
    path = tmp_path / "m.jsonl"
    create_manifest(data, path)
    return path


def test_identical_data_verifies(tmp_path: Path, base: Dataset) -> None:
    result = verify_manifest(base, manifest_of(base, tmp_path))
    assert result.is_identical and result.problems == () and result.signature == "unsigned"
    assert result.diff.counts() == {"added": 0, "removed": 0, "relabelled": 0, "modified": 0}


def test_reordered_rows_are_identical(tmp_path: Path, base: Dataset) -> None:
    path = manifest_of(base, tmp_path)
    assert verify_manifest(base.take(np.arange(len(base))[::-1]), path).is_identical


def test_each_kind_of_change_is_reported_exactly(tmp_path: Path, base: Dataset) -> None:
    path = manifest_of(base, tmp_path)
    texts, labels, ids = list(base.texts), base.labels.tolist(), list(base.ids)
    texts[1] = "WIN cash now!!"  # m1 modified
    labels[2] = 1  # m2 relabelled ham -> spam
    texts[4], labels[4] = "see you soon", 1  # m4 both
    del texts[5], labels[5], ids[5]  # m5 removed
    texts.append("new poison")
    labels.append(0)
    ids.append("x9")  # x9 added
    diff = verify_manifest(dataset(texts, labels, ids), path).diff
    assert diff.counts() == {"added": 1, "removed": 1, "relabelled": 2, "modified": 2}
    assert [c.id for c in diff.added] == ["x9"] and diff.added[0].label_after == "ham"
    assert diff.added[0].data_row == 5 and diff.added[0].manifest_row is None
    assert [(c.id, c.label_before, c.manifest_row, c.data_row) for c in diff.removed] == [
        ("m5", "spam", 5, None)
    ]
    assert [(c.id, c.label_before, c.label_after) for c in diff.relabelled] == [
        ("m2", "ham", "spam"),
        ("m4", "ham", "spam"),
    ]
    assert [c.id for c in diff.modified] == ["m1", "m4"]


def test_crlf_and_nfd_copies_verify_as_identical(tmp_path: Path) -> None:
    texts = ["Café\nmenu", "two\nlines\n", "plain"]
    path = manifest_of(dataset(texts, [0, 1, 0]), tmp_path)
    copy = [unicodedata.normalize("NFD", t).replace("\n", "\r\n") for t in texts]
    assert copy != texts
    assert verify_manifest(dataset(copy, [0, 1, 0]), path).is_identical
    assert not verify_manifest(dataset([t + " " for t in texts], [0, 1, 0]), path).is_identical


def test_labels_match_by_name_not_index(tmp_path: Path) -> None:
    path = manifest_of(Dataset(["a", "b"], [0, 1], ("neg", "pos")), tmp_path)
    swapped = Dataset(["a", "b"], [1, 0], ("pos", "neg"))
    assert verify_manifest(swapped, path).is_identical


def test_duplicate_ids_are_matched_in_order(tmp_path: Path) -> None:
    old = dataset(["a", "b", "c", "d"], [0, 0, 1, 1], ["7", "7", "7", "8"])
    path = manifest_of(old, tmp_path)
    new = dataset(["a", "B", "d"], [0, 0, 1], ["7", "7", "8"])
    result = verify_manifest(new, path)
    diff = result.diff
    assert [(c.id, c.manifest_row, c.data_row) for c in diff.modified] == [("7", 1, 1)]
    assert [(c.id, c.manifest_row) for c in diff.removed] == [("7", 2)]
    assert diff.added == () and diff.relabelled == () and diff.duplicate_ids == 1
    assert any("more than one row" in note for note in result.notes)


def test_row_number_ids_are_explained(tmp_path: Path) -> None:
    old = dataset(["a", "b", "c"], [0, 1, 0], ["1", "2", "3"])
    path = manifest_of(old, tmp_path)
    result = verify_manifest(dataset(["new", "a", "b", "c"], [0, 0, 1, 0], ["1", "2", "3", "4"]), path)
    assert result.diff.counts() == {"added": 1, "removed": 0, "relabelled": 2, "modified": 3}
    assert any("row numbers" in note for note in result.notes)


def test_attacks_show_up_as_exactly_their_poison_rows(sms_split: tuple[Dataset, Dataset]) -> None:
    train = sms_split[0]
    rows = list(iter_rows(train))
    flipped = LabelFlip(rate=0.05).apply(train, random_state=0)
    diff = diff_rows(rows, flipped.poisoned)
    poison_ids = {flipped.poisoned.ids[i] for i in np.flatnonzero(flipped.is_poison)}
    assert {c.id for c in diff.relabelled} == poison_ids
    assert (
        diff.counts()["relabelled"] == len(poison_ids) and diff.modified == diff.added == diff.removed == ()
    )
    inserted = Backdoor(trigger="PROMO2026", rate=0.01).apply(train, random_state=0)
    diff = diff_rows(rows, inserted.poisoned)
    poison_ids = {inserted.poisoned.ids[i] for i in np.flatnonzero(inserted.is_poison)}
    assert {c.id for c in diff.modified} == {c.id for c in diff.relabelled} == poison_ids
    injected = Backdoor(trigger="PROMO2026", n=7, mode="inject").apply(train, random_state=0)
    diff = diff_rows(rows, injected.poisoned)
    assert {c.id for c in diff.added} == {
        injected.poisoned.ids[i] for i in np.flatnonzero(injected.is_poison)
    }
    assert diff.counts() == {"added": 7, "removed": 0, "relabelled": 0, "modified": 0}


EDITS = st.lists(
    st.tuples(st.sampled_from(["add", "remove", "relabel", "modify"]), st.integers(0, 10**6)), max_size=25
)


@given(
    texts=st.lists(st.text(min_size=1, max_size=12), min_size=1, max_size=30),
    edits=EDITS,
    seed=st.integers(0, 2**16),
)
def test_random_edits_are_reported_exactly(
    tmp_path_factory: pytest.TempPathFactory, texts: list[str], edits: list[tuple[str, int]], seed: int
) -> None:
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, len(texts)).tolist()
    rows = {f"id{i}": (text, label) for i, (text, label) in enumerate(zip(texts, labels))}
    original = dict(rows)
    fresh = 0
    for kind, pick in edits:
        keys = sorted(rows)
        if kind == "add":
            rows[f"new{fresh}"] = (f"added {pick}", pick % 2)
            fresh += 1
        elif keys:
            key = keys[pick % len(keys)]
            text, label = rows[key]
            if kind == "remove":
                del rows[key]
            elif kind == "relabel":
                rows[key] = (text, 1 - label)
            else:
                rows[key] = (text + "\u2060x", label)  # a zero-width join then x: a real change
    path = tmp_path_factory.mktemp("edits") / "m.jsonl"
    create_manifest(dataset(texts, labels, list(original)), path)
    order = list(rows)
    rng.shuffle(order)
    new = dataset([rows[k][0] for k in order], [rows[k][1] for k in order], order)
    diff = verify_manifest(new, path).diff
    assert {c.id for c in diff.added} == set(rows) - set(original)
    assert {c.id for c in diff.removed} == set(original) - set(rows)
    common = set(rows) & set(original)
    assert {c.id for c in diff.relabelled} == {k for k in common if rows[k][1] != original[k][1]}
    assert {c.id for c in diff.modified} == {
        k for k in common if normalise_text(rows[k][0]) != normalise_text(original[k][0])
    }
    counts = diff.counts()
    assert counts == {kind: len(getattr(diff, kind)) for kind in counts}
    assert diff.is_empty == (rows == original)


def test_twenty_thousand_rows_diff_exactly(tmp_path: Path) -> None:
    n = 20_000
    rng = np.random.default_rng(1)
    texts = [f"message {i} {rng.integers(0, 10**9)}" for i in range(n)]
    labels = rng.integers(0, 2, n)
    ids = [f"r{i}" for i in range(n)]
    path = manifest_of(dataset(texts, labels.tolist(), ids), tmp_path)
    changed = rng.choice(n, 400, replace=False)
    relabel, modify, remove = changed[:100], changed[100:250], changed[250:]
    new_labels = labels.copy()
    new_labels[relabel] = 1 - new_labels[relabel]
    new_texts = list(texts)
    for i in modify:
        new_texts[i] += "!"
    keep = np.setdiff1d(np.arange(n), remove)
    new = dataset([new_texts[i] for i in keep], new_labels[keep].tolist(), [ids[i] for i in keep])
    diff = verify_manifest(new, path).diff
    assert diff.counts() == {"added": 0, "removed": 150, "relabelled": 100, "modified": 150}
    assert {c.id for c in diff.removed} == {ids[i] for i in remove}


# -- verifying: a damaged or edited manifest ---------------------------------------------------


def edit_line(path: Path, number: int, change: dict[str, object]) -> None:
    lines = path.read_text().splitlines()
    document = json.loads(lines[number])
    document.update(change)
    lines[number] = json.dumps(document)
    path.write_text("\n".join(lines) + "\n")


def test_edited_row_hash_breaks_the_root(tmp_path: Path, base: Dataset) -> None:
    path = manifest_of(base, tmp_path)
    edit_line(path, 2, {"text_sha256": text_sha256("WIN cash now!!")})  # hide a modification
    changed = base.with_texts(["hello there", "WIN cash now!!", *base.texts[2:]])
    result = verify_manifest(changed, path)
    assert result.diff.is_empty and not result.is_identical
    assert result.problems and "Merkle root" in result.problems[0]


def test_edited_root_or_counts_fail(tmp_path: Path, base: Dataset) -> None:
    path = manifest_of(base, tmp_path)
    edit_line(path, 0, {"merkle_root": "0" * 64})
    assert "Merkle root" in verify_manifest(base, path).problems[0]
    path = manifest_of(base, tmp_path)
    edit_line(path, 0, {"counts": {"ham": 4, "spam": 2}})
    (problem,) = verify_manifest(base, path).problems
    assert "header counts ham 4, spam 2 but its rows hold ham 3, spam 3" in problem
    path = manifest_of(base, tmp_path)
    edit_line(path, 0, {"rows": 7})
    assert "counts 7 rows but it lists 6" in verify_manifest(base, path).problems[0]


def test_reformatted_manifest_still_verifies(tmp_path: Path, base: Dataset) -> None:
    path = manifest_of(base, tmp_path)
    lines = [json.dumps(json.loads(line), indent=None) for line in path.read_text().splitlines()]
    path.write_bytes(("\r\n".join(lines) + "\r\n\r\n").encode())  # git autocrlf, spaces, a blank line
    assert verify_manifest(base, path).is_identical


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "is empty"),
        ("not json\n", "Line 1 .* is not valid JSON"),
        ('{"format": "other"}\n', "not a poisonlab manifest"),
        ("[1, 2]\n", "not a poisonlab manifest"),
    ],
)
def test_malformed_manifest_is_a_data_error(
    tmp_path: Path, base: Dataset, content: str, message: str
) -> None:
    path = tmp_path / "m.jsonl"
    path.write_text(content)
    with pytest.raises(DataError, match=message):
        verify_manifest(base, path)


@pytest.mark.parametrize(
    ("line", "change", "message"),
    [
        (0, {"format_version": 2}, "version 2 manifest"),
        (0, {"extra": 1}, "unknown fields extra"),
        (0, {"rows": "6"}, "malformed rows"),
        (0, {"merkle_root": "XYZ"}, "malformed root"),
        (0, {"normalisation": "nfkc"}, "normalisation this poisonlab does not know"),
        (0, {"signature": {"algorithm": "ed25519"}}, "malformed signature"),
        (3, {"text_sha256": "abc"}, "Line 4 .* 64 hex digits"),
        (3, {"row": -1}, "Line 4 .* wrong type"),
        (3, {"label": "spam"}, "Line 4 .* is not a manifest row"),
    ],
)
def test_malformed_fields_name_their_line(
    tmp_path: Path, base: Dataset, line: int, change: dict[str, object], message: str
) -> None:
    path = manifest_of(base, tmp_path)
    edit_line(path, line, change)
    with pytest.raises(DataError, match=message):
        verify_manifest(base, path)


def test_broken_json_mid_file_and_bad_bytes(tmp_path: Path, base: Dataset) -> None:
    path = manifest_of(base, tmp_path)
    lines = path.read_text().splitlines()
    path.write_text("\n".join([*lines[:3], lines[3][:-5], *lines[4:]]) + "\n")
    with pytest.raises(DataError, match=r"Line 4 .* not valid JSON"):
        verify_manifest(base, path)
    path.write_bytes("\n".join(lines[:3]).encode() + b"\n\xff\xfe\n")
    with pytest.raises(DataError, match=r"Line 4 .* not UTF-8"):
        verify_manifest(base, path)
    with pytest.raises(DataError, match="No such manifest"):
        verify_manifest(base, tmp_path / "missing.jsonl")
    with pytest.raises(DataError, match="is a folder"):
        verify_manifest(base, tmp_path)
