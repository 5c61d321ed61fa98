"""Ed25519 keys and signatures for manifests, from the ``cryptography`` package.

Keys are files: a private key in PEM (PKCS #8, unencrypted, file mode 0600) and its public key
beside it in PEM (SubjectPublicKeyInfo). OpenSSH Ed25519 keys (``ssh-ed25519 AAAA...`` and
``-----BEGIN OPENSSH PRIVATE KEY-----``) are read too. A key is named by its fingerprint,
``SHA256:`` and the unpadded base64 SHA-256 of its OpenSSH public key blob: the same text
``ssh-keygen -l`` prints, so a key can be checked by eye against a published fingerprint.

``cryptography`` is an optional dependency (``pip install 'poisonlab[manifest]'``); everything
here raises a `DataError` that says so when it is missing.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import hashlib
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from poisonlab._errors import DataError
from poisonlab._io import atomic_text_writer

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

ALGORITHM = "ed25519"
PUBLIC_SUFFIX = ".pub"
"""The public key is written beside the private key, at its path plus this suffix."""


def _crypto() -> Any:
    """The ``cryptography`` modules this file uses, or a clear error when it is not installed."""
    try:
        from cryptography import exceptions
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ed25519
    except ImportError:
        raise DataError(
            "Signing and checking manifests needs the cryptography package: "
            "pip install 'poisonlab[manifest]'."
        ) from None
    return exceptions, serialization, ed25519


@dataclasses.dataclass(frozen=True)
class KeyFiles:
    """Where `generate_key` wrote a key pair, and the key's fingerprint."""

    private: Path
    public: Path
    fingerprint: str


def generate_key(path: str | os.PathLike[str], *, overwrite: bool = False) -> KeyFiles:
    """Make an Ed25519 key pair: the private key at `path` (mode 0600), the public at ``path.pub``.

    The private key never exists on disk with wider permissions: it is written to a new
    0600 temporary file beside `path` and renamed into place (``atomic_text_writer`` keeps the
    usual mode, which would expose it). An existing key is kept unless `overwrite` is true.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> keys = generate_key(pathlib.Path(tempfile.mkdtemp()) / "signing.key")
    >>> oct(keys.private.stat().st_mode & 0o777), keys.public.name, keys.fingerprint[:7]
    ('0o600', 'signing.key.pub', 'SHA256:')
    """
    _, serialization, ed25519 = _crypto()
    private_path = Path(path)
    public_path = private_path.with_name(private_path.name + PUBLIC_SUFFIX)
    if private_path.is_dir():
        raise DataError(f"{private_path} is a folder; name the key file to write.")
    if not private_path.resolve().parent.is_dir():
        raise DataError(f"The folder for the key file {str(private_path)!r} does not exist.")
    if not overwrite:
        for existing in (private_path, public_path):
            if existing.exists():
                raise DataError(f"{existing} already exists; pass --force to replace the key pair.")
    key = ed25519.Ed25519PrivateKey.generate()
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    try:
        _write_private(private_path, private_pem)
        with atomic_text_writer(public_path) as handle:
            handle.write(public_pem.decode("ascii"))
    except OSError as error:
        raise DataError(f"Cannot write the key pair at {private_path}: {error.strerror or error}.") from None
    return KeyFiles(private_path, public_path, fingerprint(key.public_key()))


def _write_private(path: Path, data: bytes) -> None:
    """Write `data` to `path` atomically through a file that is 0600 from its creation."""
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        if hasattr(os, "fchmod"):  # mkstemp already made it 0600 on POSIX; say so explicitly there
            os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def _read_key_file(path: str | os.PathLike[str], role: str) -> bytes:
    file = Path(path)
    if file.is_dir():
        raise DataError(f"The {role} {file} is a folder, not a key file.")
    try:
        return file.read_bytes()
    except FileNotFoundError:
        raise DataError(f"No such {role}: {file}.") from None
    except OSError as error:
        raise DataError(f"Cannot read the {role} {file}: {error.strerror or error}.") from None


def load_private_key(path: str | os.PathLike[str]) -> Ed25519PrivateKey:
    """Read an Ed25519 private key: PEM (PKCS #8) or OpenSSH, unencrypted."""
    exceptions, serialization, ed25519 = _crypto()
    data = _read_key_file(path, "signing key")
    try:
        if data.lstrip().startswith(b"-----BEGIN OPENSSH PRIVATE KEY-----"):
            key = serialization.load_ssh_private_key(data, password=None)
        else:
            key = serialization.load_pem_private_key(data, password=None)
    except TypeError:  # raised by cryptography for a passphrase-protected key
        raise DataError(
            f"The signing key {path} is protected by a passphrase; poisonlab reads unencrypted keys "
            "(keep the file mode 0600, or make one with: poisonlab manifest keygen)."
        ) from None
    except (ValueError, exceptions.UnsupportedAlgorithm):
        raise DataError(
            f"The signing key {path} is not a PEM or OpenSSH private key "
            "(make one with: poisonlab manifest keygen)."
        ) from None
    if not isinstance(key, ed25519.Ed25519PrivateKey):
        raise DataError(
            f"The signing key {path} is not an Ed25519 key; poisonlab signs with Ed25519 "
            "(make one with: poisonlab manifest keygen)."
        )
    return cast("Ed25519PrivateKey", key)


def load_public_key(path: str | os.PathLike[str]) -> Ed25519PublicKey:
    """Read an Ed25519 public key: PEM (SubjectPublicKeyInfo) or an OpenSSH ``ssh-ed25519`` line."""
    exceptions, serialization, ed25519 = _crypto()
    data = _read_key_file(path, "verify key")
    if b"PRIVATE KEY-----" in data:
        raise DataError(
            f"The verify key {path} is a private key; pass its public key (the .pub file beside it)."
        )
    try:
        if data.lstrip().startswith(b"ssh-"):
            key = serialization.load_ssh_public_key(data.strip())
        else:
            key = serialization.load_pem_public_key(data)
    except (ValueError, exceptions.UnsupportedAlgorithm):
        raise DataError(
            f"The verify key {path} is not a PEM or OpenSSH public key (poisonlab manifest keygen "
            "writes one beside the private key, ending in .pub)."
        ) from None
    if not isinstance(key, ed25519.Ed25519PublicKey):
        raise DataError(f"The verify key {path} is not an Ed25519 key; manifests are signed with Ed25519.")
    return cast("Ed25519PublicKey", key)


def fingerprint(public_key: Ed25519PublicKey) -> str:
    """``SHA256:`` and the unpadded base64 SHA-256 of the OpenSSH key blob, as ``ssh-keygen -l`` shows.

    Examples
    --------
    >>> from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    >>> key = Ed25519PrivateKey.from_private_bytes(bytes(32)).public_key()
    >>> fingerprint(key)
    'SHA256:...'
    """
    _, serialization, _ = _crypto()
    line = public_key.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    blob = base64.b64decode(line.split()[1])
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode("ascii").rstrip("=")


def sign(private_key: Ed25519PrivateKey, message: bytes) -> str:
    """The Ed25519 signature of `message`, base64-encoded (64 bytes, 88 characters)."""
    return base64.b64encode(private_key.sign(message)).decode("ascii")


def is_valid_signature(public_key: Ed25519PublicKey, message: bytes, signature: str) -> bool:
    """Whether `signature` (base64) is `public_key`'s Ed25519 signature of `message`.

    Examples
    --------
    >>> from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    >>> key = Ed25519PrivateKey.from_private_bytes(bytes(32))
    >>> signature = sign(key, b"rows")
    >>> is_valid_signature(key.public_key(), b"rows", signature)
    True
    >>> is_valid_signature(key.public_key(), b"rowz", signature)
    False
    """
    exceptions, _, _ = _crypto()
    try:
        raw = base64.b64decode(signature.encode("ascii"), validate=True)
    except (ValueError, UnicodeEncodeError):
        return False
    try:
        public_key.verify(raw, message)
    except exceptions.InvalidSignature:
        return False
    return True
