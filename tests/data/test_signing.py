"""Ed25519 keys and signatures: key files, fingerprints, signing, and signed manifests."""

from __future__ import annotations

import base64
import hashlib
import json
import struct
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from poisonlab import DataError
from poisonlab.data import Dataset, signing
from poisonlab.data.manifest import SIGNING_CONTEXT, canonical_json, create_manifest, verify_manifest

ZERO_KEY = ed25519.Ed25519PrivateKey.from_private_bytes(bytes(32))


def ssh_string(data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + data


def test_fingerprint_is_the_openssh_one() -> None:
    public = ZERO_KEY.public_key()
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    blob = ssh_string(b"ssh-ed25519") + ssh_string(raw)  # RFC 8709 wire format, built by hand
    expected = "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")
    assert signing.fingerprint(public) == expected
    # What `ssh-keygen -lf` prints for this key (checked once with OpenSSH 9).
    assert expected == "SHA256:tAXFyTXI8xtDaujAEcwJslAYc9/6FKcUkd2Lw0xDhPo"


def test_generate_key_writes_a_private_file_only_its_owner_reads(tmp_path: Path) -> None:
    keys = signing.generate_key(tmp_path / "team.key")
    assert keys.private == tmp_path / "team.key" and keys.public == tmp_path / "team.key.pub"
    assert keys.private.stat().st_mode & 0o777 == 0o600
    assert keys.private.read_text().startswith("-----BEGIN PRIVATE KEY-----")
    assert keys.public.read_text().startswith("-----BEGIN PUBLIC KEY-----")
    private, public = signing.load_private_key(keys.private), signing.load_public_key(keys.public)
    assert signing.fingerprint(private.public_key()) == signing.fingerprint(public) == keys.fingerprint
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temporary left


def test_generate_key_never_replaces_a_key_unless_forced(tmp_path: Path) -> None:
    first = signing.generate_key(tmp_path / "team.key")
    with pytest.raises(DataError, match="already exists; pass --force"):
        signing.generate_key(tmp_path / "team.key")
    assert signing.fingerprint(signing.load_public_key(first.public)) == first.fingerprint
    second = signing.generate_key(tmp_path / "team.key", overwrite=True)
    assert second.fingerprint != first.fingerprint
    assert second.private.stat().st_mode & 0o777 == 0o600
    with pytest.raises(DataError, match="is a folder"):
        signing.generate_key(tmp_path)
    with pytest.raises(DataError, match="does not exist"):
        signing.generate_key(tmp_path / "missing" / "k.key")


def test_openssh_keys_are_read(tmp_path: Path) -> None:
    private = tmp_path / "id_ed25519"
    private.write_bytes(
        ZERO_KEY.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()
        )
    )
    public = tmp_path / "id_ed25519.pub"
    public.write_bytes(
        ZERO_KEY.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
        + b" me@example\n"
    )
    loaded = signing.load_private_key(private)
    assert signing.fingerprint(loaded.public_key()) == signing.fingerprint(signing.load_public_key(public))


def test_unusable_keys_are_explained(tmp_path: Path) -> None:
    encrypted = tmp_path / "locked.key"
    encrypted.write_bytes(
        ZERO_KEY.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"secret"),
        )
    )
    with pytest.raises(DataError, match="protected by a passphrase"):
        signing.load_private_key(encrypted)
    other = ec.generate_private_key(ec.SECP256R1())
    ec_private = tmp_path / "ec.key"
    ec_private.write_bytes(
        other.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    with pytest.raises(DataError, match="not an Ed25519 key"):
        signing.load_private_key(ec_private)
    ec_public = tmp_path / "ec.pub"
    ec_public.write_bytes(
        other.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    with pytest.raises(DataError, match="not an Ed25519 key"):
        signing.load_public_key(ec_public)
    with pytest.raises(DataError, match="is a private key; pass its public key"):
        signing.load_public_key(ec_private)
    garbage = tmp_path / "garbage"
    garbage.write_text("hello")
    with pytest.raises(DataError, match="not a PEM or OpenSSH private key"):
        signing.load_private_key(garbage)
    with pytest.raises(DataError, match="not a PEM or OpenSSH public key"):
        signing.load_public_key(garbage)
    with pytest.raises(DataError, match="No such signing key"):
        signing.load_private_key(tmp_path / "missing")
    with pytest.raises(DataError, match="No such verify key"):
        signing.load_public_key(tmp_path / "missing")


def test_signatures_check_message_and_key() -> None:
    other = ed25519.Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
    signature = signing.sign(ZERO_KEY, b"header")
    assert len(base64.b64decode(signature)) == 64
    assert signing.is_valid_signature(ZERO_KEY.public_key(), b"header", signature)
    assert not signing.is_valid_signature(ZERO_KEY.public_key(), b"header!", signature)
    assert not signing.is_valid_signature(other.public_key(), b"header", signature)
    assert not signing.is_valid_signature(ZERO_KEY.public_key(), b"header", "not base64!")
    assert not signing.is_valid_signature(ZERO_KEY.public_key(), b"header", "é")


def test_missing_cryptography_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in [m for m in sys.modules if m == "cryptography" or m.startswith("cryptography.")]:
        monkeypatch.setitem(sys.modules, name, None)
    with pytest.raises(
        DataError, match=r"needs the cryptography package: pip install 'poisonlab\[manifest\]'"
    ):
        signing.generate_key(tmp_path / "k.key")


# -- signed manifests --------------------------------------------------------------------------


@pytest.fixture
def data() -> Dataset:
    return Dataset(["hello", "WIN cash", "lunch?"], [0, 1, 0], ("ham", "spam"), ["a", "b", "c"], "mail.csv")


def test_signature_covers_the_canonical_header(tmp_path: Path, data: Dataset) -> None:
    path = tmp_path / "m.jsonl"
    header = create_manifest(data, path, signing_key=ZERO_KEY)
    document = json.loads(path.read_text().splitlines()[0])
    block = document.pop("signature")
    assert block["algorithm"] == "ed25519" and block["key"] == signing.fingerprint(ZERO_KEY.public_key())
    message = SIGNING_CONTEXT + canonical_json(document).encode()
    assert message == header.signed_bytes()
    assert signing.is_valid_signature(ZERO_KEY.public_key(), message, block["value"])
    assert "merkle_root" in document


def test_signed_manifest_statuses(tmp_path: Path, data: Dataset) -> None:
    path = tmp_path / "m.jsonl"
    create_manifest(data, path, signing_key=ZERO_KEY)
    checked = verify_manifest(data, path, public_key=ZERO_KEY.public_key())
    assert checked.is_identical and checked.signature == "valid"
    assert checked.verify_key == checked.header.signed_by
    unchecked = verify_manifest(data, path)
    assert unchecked.is_identical and unchecked.signature == "not checked"


def test_wrong_key_fails_naming_both_keys(tmp_path: Path, data: Dataset) -> None:
    path = tmp_path / "m.jsonl"
    create_manifest(data, path, signing_key=ZERO_KEY)
    other = ed25519.Ed25519PrivateKey.from_private_bytes(bytes(range(32))).public_key()
    result = verify_manifest(data, path, public_key=other)
    assert result.signature == "invalid" and not result.is_identical and result.diff.is_empty
    (problem,) = result.problems
    assert signing.fingerprint(ZERO_KEY.public_key()) in problem and signing.fingerprint(other) in problem


@pytest.mark.parametrize(
    "change",
    [
        {"counts": {"ham": 1, "spam": 2}},
        {"tool": "poisonlab 9"},
        {"source": {"name": "other.csv", "sha256": None, "size": None}},
        {"created": "2020-01-01"},
    ],
)
def test_any_header_edit_breaks_the_signature(
    tmp_path: Path, data: Dataset, change: dict[str, object]
) -> None:
    path = tmp_path / "m.jsonl"
    create_manifest(data, path, signing_key=ZERO_KEY)
    lines = path.read_text().splitlines()
    document = json.loads(lines[0])
    document.update(change)
    path.write_text("\n".join([json.dumps(document), *lines[1:]]) + "\n")
    result = verify_manifest(data, path, public_key=ZERO_KEY.public_key())
    assert result.signature == "invalid"
    assert any("edited after signing" in problem for problem in result.problems)


def test_resigned_edited_root_fails_with_the_rows(tmp_path: Path, data: Dataset) -> None:
    """Editing a row and the root, then re-signing with another key, is caught by the verify key."""
    path = tmp_path / "m.jsonl"
    create_manifest(data, path, signing_key=ZERO_KEY)
    forged = data.with_labels([0, 0, 0])
    forger = ed25519.Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
    create_manifest(forged, path, signing_key=forger)
    result = verify_manifest(forged, path, public_key=ZERO_KEY.public_key())
    assert result.signature == "invalid" and not result.is_identical


def test_verify_key_on_an_unsigned_manifest_fails(tmp_path: Path, data: Dataset) -> None:
    path = tmp_path / "m.jsonl"
    create_manifest(data, path)
    result = verify_manifest(data, path, public_key=ZERO_KEY.public_key())
    assert result.problems == ("The manifest is not signed, but a verify key was given.",)
