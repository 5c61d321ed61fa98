"""Provenance manifests: a hash per row, a Merkle root over all rows, an optional Ed25519 signature.

A manifest records what a dataset held when it was made, so a later copy can be checked row by
row: which rows were added, removed, relabelled (label changed) or modified (text changed).

The file (JSON Lines, UTF-8, pure ASCII, ``\\n`` line ends)
------------------------------------------------------------
Line 1 is the header, one JSON object::

    {"classes": [...], "counts": {"ham": 4827, ...}, "format": "poisonlab-manifest",
     "format_version": 1, "hash": "sha256", "merkle": "rfc6962", "merkle_root": "<hex>",
     "normalisation": "nfc-lf", "rows": 5574, "source": {"name": ..., "sha256": ..., "size": ...},
     "tool": "poisonlab 0.1.0"}

plus ``"created"`` only when asked for (so the same input gives the same bytes), and
``"signature"`` when signed. Every further line is one row, in the order of the data::

    {"id": "17", "label_sha256": "<hex>", "row": 16, "source": "sms_spam", "text_sha256": "<hex>"}

``row`` is the 0-based position of the row in the data; ``source`` the name of the file or
corpus it came from. Every line is canonical JSON: keys sorted, no spaces, non-ASCII escaped
(``json.dumps(obj, sort_keys=True, separators=(",", ":"))``).

Normalisation (``nfc-lf``)
--------------------------
``text_sha256`` is the SHA-256 of the UTF-8 bytes of the text after: Unicode NFC, then line
endings ``\\r\\n`` and ``\\r`` to ``\\n``. Nothing else: whitespace is **not** trimmed or
collapsed and case is kept, because those are changes a tokenizer or a person can see; NFC
(not NFKC) keeps look-alike and full-width characters distinct, because swapping them is a
known way to hide a trigger. ``label_sha256`` is the SHA-256 of the UTF-8 class name (NFC), so
``1`` and ``spam`` in two files that both load as class ``spam`` hash the same.

Merkle tree (``rfc6962``)
-------------------------
The Merkle Tree Hash of RFC 6962 section 2.1, over the rows in file order: leaf = SHA-256(0x00 ||
the row's canonical line), inner node = SHA-256(0x01 || left || right); a node left without a
partner at the end of a level is promoted unchanged (never paired with a copy of itself, which
would let two different row lists share a root); no rows: SHA-256 of the empty string. The
prefixes keep a leaf from passing for an inner node. The root is in the header, and an
Ed25519 signature covers the header, so the signature covers every byte of every row.

What is signed
--------------
``SIGNING_CONTEXT`` followed by the canonical JSON of the header without its ``signature``
member. The signature member is ``{"algorithm": "ed25519", "key": "SHA256:...", "value":
"<base64>"}``, ``key`` being the signing key's fingerprint.

Matching rows
-------------
Rows are matched across versions by id, so reordered rows verify as identical (though a
manifest made from the reordered file has another root: the root covers order too). Ids come
from the data (a file's ``id`` column; the line number in a UCI file) or are row numbers when
the file has none; with row numbers, an inserted or deleted row shifts every later id, so the
later rows show as modified or relabelled. An id used by several rows is matched by order of
appearance: the second row with id ``7`` in the manifest is compared with the second row with
id ``7`` in the data.

Cost: creating makes two streaming passes over the rows and holds O(log n) hashes; verifying
reads the manifest once, line by line, beside a hash map from id to row and 32 bytes of digest
per row of the current data; of the manifest it keeps only the changes found. Time and memory
grow linearly (no pairwise comparison).
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import json
import os
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from json.encoder import encode_basestring_ascii
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from poisonlab._errors import DataError
from poisonlab._io import atomic_text_writer
from poisonlab.data.dataset import Dataset

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

FORMAT = "poisonlab-manifest"
FORMAT_VERSION = 1
NORMALISATION = "nfc-lf"
MERKLE = "rfc6962"
SIGNING_CONTEXT = b"poisonlab-manifest-v1\n"
"""Prefixed to the signed header bytes, so a manifest signature cannot pass for any other message."""

_HEX64 = re.compile(r"[0-9a-f]{64}")
_PLAIN = r'"([ !#-\[\]-~]*)"'  # a JSON string of printable ASCII without " or \: canonical as it stands
_CANONICAL_ROW = re.compile(
    rf'\{{"id":{_PLAIN},"label_sha256":"([0-9a-f]{{64}})","row":(0|[1-9][0-9]{{0,17}}),'
    rf'"source":{_PLAIN},"text_sha256":"([0-9a-f]{{64}})"\}}'
)
"""A row line exactly as `ManifestRow.line` writes it; others take the slower full parse."""
_ROW_KEYS = frozenset({"id", "label_sha256", "row", "source", "text_sha256"})
_HEADER_KEYS = frozenset(
    {
        "classes",
        "counts",
        "format",
        "format_version",
        "hash",
        "merkle",
        "merkle_root",
        "normalisation",
        "rows",
        "source",
        "tool",
    }
)
_OPTIONAL_HEADER_KEYS = frozenset({"created", "signature"})
_CHUNK = 1 << 20


def normalise_text(text: str) -> str:
    """The text a manifest hashes: Unicode NFC, with ``\\r\\n`` and ``\\r`` turned into ``\\n``.

    Examples
    --------
    >>> normalise_text("Cafe\\u0301\\r\\nbye\\r") == "Caf\\u00e9\\nbye\\n"
    True
    >>> normalise_text("  spaces kept  ")
    '  spaces kept  '
    """
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return unicodedata.normalize("NFC", text)


def text_sha256(text: str) -> str:
    """SHA-256 (hex) of the normalised text's UTF-8 bytes.

    Examples
    --------
    >>> text_sha256("a\\r\\nb") == text_sha256("a\\nb") == hashlib.sha256(b"a\\nb").hexdigest()
    True
    """
    return hashlib.sha256(normalise_text(text).encode("utf-8", "surrogatepass")).hexdigest()


def label_sha256(name: str) -> str:
    """SHA-256 (hex) of a class name's UTF-8 bytes (NFC).

    Examples
    --------
    >>> label_sha256("spam") == hashlib.sha256(b"spam").hexdigest()
    True
    """
    return hashlib.sha256(unicodedata.normalize("NFC", name).encode("utf-8", "surrogatepass")).hexdigest()


def canonical_json(value: Any) -> str:
    """The one JSON text of `value` that manifests hash and sign: sorted keys, no spaces, ASCII."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


class ManifestRow(NamedTuple):
    """One row of a manifest (a named tuple: millions of them must be cheap)."""

    id: str
    row: int
    source: str
    text_sha256: str
    label_sha256: str

    def line(self) -> str:
        """The row's canonical JSON line, without the line end: what its Merkle leaf hashes.

        Written out by hand for speed; equal to ``canonical_json(self.to_dict())``.

        Examples
        --------
        >>> r = ManifestRow("7", 6, "mail.csv", "a" * 64, "b" * 64)
        >>> r.line() == canonical_json(r.to_dict())
        True
        """
        return (
            f'{{"id":{encode_basestring_ascii(self.id)},"label_sha256":"{self.label_sha256}",'
            f'"row":{self.row},"source":{encode_basestring_ascii(self.source)},'
            f'"text_sha256":"{self.text_sha256}"}}'
        )

    def to_dict(self) -> dict[str, Any]:
        """The row as a JSON object."""
        return self._asdict()


class MerkleTree:
    """The RFC 6962 Merkle Tree Hash of a stream of leaves, in O(log n) memory.

    Leaves are added in order; `root` may be read at any time. Hand-written because the Python
    Merkle libraries keep the whole tree (or a database of it), and the root of a million-row
    manifest needs only the ~20 hashes of the perfect subtrees seen so far.

    Examples
    --------
    >>> tree = MerkleTree()
    >>> for leaf in (b"a", b"b", b"c"):
    ...     tree.add(leaf)
    >>> tree.root() == merkle_tree_hash([b"a", b"b", b"c"])
    True
    >>> MerkleTree().root() == hashlib.sha256(b"").hexdigest()
    True
    """

    def __init__(self) -> None:
        self._stack: list[bytes] = []  # roots of perfect subtrees, largest first: the 1-bits of size
        self.size = 0

    def add(self, leaf: bytes) -> None:
        """Append one leaf (its data, not its hash)."""
        node = hashlib.sha256(b"\x00" + leaf).digest()
        carry = self.size
        while carry & 1:
            node = hashlib.sha256(b"\x01" + self._stack.pop() + node).digest()
            carry >>= 1
        self._stack.append(node)
        self.size += 1

    def root(self) -> str:
        """The Merkle root (hex) of the leaves added so far."""
        if not self._stack:
            return hashlib.sha256(b"").hexdigest()
        node = self._stack[-1]
        for left in reversed(self._stack[:-1]):
            node = hashlib.sha256(b"\x01" + left + node).digest()
        return node.hex()


def merkle_tree_hash(leaves: Iterable[bytes]) -> str:
    """The RFC 6962 Merkle Tree Hash (hex) of `leaves`, each the bytes of one leaf.

    Examples
    --------
    >>> merkle_tree_hash([]) == hashlib.sha256(b"").hexdigest()
    True
    """
    tree = MerkleTree()
    for leaf in leaves:
        tree.add(leaf)
    return tree.root()


@dataclasses.dataclass(frozen=True)
class Source:
    """Where the data came from: a name, and the SHA-256 and size of its bytes when it is one file."""

    name: str
    sha256: str | None = None
    size: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """The source as a JSON object."""
        return dataclasses.asdict(self)


def describe_source(name_or_path: str | os.PathLike[str]) -> Source:
    """The `Source` of a bundled corpus name or a data path, hashing the file's bytes as stored.

    A bundled ``sms_spam`` is described by its original file's bytes and ``spamassassin`` by its
    archive's (as published); ``article`` and a folder (of e-mail) have no single file, so no
    hash: their rows' hashes still cover the content.

    Examples
    --------
    >>> describe_source("sms_spam").sha256[:12]
    '7d039a24a608'
    """
    from poisonlab.data.corpora import CORPORA
    from poisonlab.data.corpora.sms_spam import read_sms_spam_bytes
    from poisonlab.data.corpora.spamassassin import read_spamassassin_bytes

    name = str(name_or_path)
    if name in ("sms_spam", "spamassassin"):
        raw = read_sms_spam_bytes() if name == "sms_spam" else read_spamassassin_bytes()
        return Source(name, hashlib.sha256(raw).hexdigest(), len(raw))
    if name in CORPORA:
        return Source(name)
    path = Path(name_or_path)
    if path.is_dir():
        return Source(path.name)
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as handle:
            while chunk := handle.read(_CHUNK):
                digest.update(chunk)
            size = handle.tell()
    except FileNotFoundError:
        raise DataError(f"No such file: {path}.") from None
    except OSError as error:
        raise DataError(f"Cannot read {path}: {error.strerror or error}.") from None
    return Source(path.name, digest.hexdigest(), size)


def iter_rows(dataset: Dataset, source: str | None = None) -> Iterator[ManifestRow]:
    """The manifest rows of `dataset`, in order; `source` defaults to the dataset's name.

    Examples
    --------
    >>> ds = Dataset(["hi", "WIN"], [0, 1], ("ham", "spam"), ids=["a", "b"], name="mail.csv")
    >>> first = next(iter_rows(ds))
    >>> first.id, first.row, first.source, first.label_sha256 == label_sha256("ham")
    ('a', 0, 'mail.csv', True)
    """
    name = dataset.name if source is None else source
    class_hashes = [label_sha256(c) for c in dataset.classes]
    for position, (row_id, text, label) in enumerate(
        zip(dataset.ids, dataset.texts, dataset.labels.tolist())
    ):
        yield ManifestRow(row_id, position, name, text_sha256(text), class_hashes[label])


def merkle_root(dataset: Dataset, source: str | None = None) -> str:
    """The Merkle root a manifest of `dataset` records: a fingerprint of its rows, ids and order.

    `source` is the name recorded per row (the dataset's name by default), as in `iter_rows`.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from poisonlab.data import load_dataset
    >>> data = load_dataset("article")
    >>> header = create_manifest(data, pathlib.Path(tempfile.mkdtemp()) / "m.jsonl")
    >>> merkle_root(data) == header.merkle_root
    True
    """
    return merkle_tree_hash(row.line().encode("ascii") for row in iter_rows(dataset, source))


@dataclasses.dataclass(frozen=True)
class ManifestHeader:
    """The first line of a manifest: what the data was, as a whole, and the Merkle root of its rows."""

    source: Source
    rows: int
    classes: tuple[str, ...]
    counts: dict[str, int]
    merkle_root: str
    tool: str
    created: str | None = None
    signature: dict[str, str] | None = None

    def to_dict(self) -> dict[str, Any]:
        """The header as the JSON object written on line 1."""
        document: dict[str, Any] = {
            "classes": list(self.classes),
            "counts": dict(self.counts),
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "hash": "sha256",
            "merkle": MERKLE,
            "merkle_root": self.merkle_root,
            "normalisation": NORMALISATION,
            "rows": self.rows,
            "source": self.source.to_dict(),
            "tool": self.tool,
        }
        if self.created is not None:
            document["created"] = self.created
        if self.signature is not None:
            document["signature"] = dict(self.signature)
        return document

    def signed_bytes(self) -> bytes:
        """What the signature covers: `SIGNING_CONTEXT` and the canonical header without its signature."""
        unsigned = dataclasses.replace(self, signature=None)
        return SIGNING_CONTEXT + canonical_json(unsigned.to_dict()).encode("ascii")

    @property
    def signed_by(self) -> str | None:
        """Fingerprint of the key that signed the manifest, if signed."""
        return None if self.signature is None else self.signature["key"]


def parse_created(value: str) -> str:
    """Check an ISO 8601 date or time (``now`` means the current UTC second); return it normalised.

    Examples
    --------
    >>> parse_created("2026-01-31"), parse_created("2026-01-31T12:00:00Z")
    ('2026-01-31', '2026-01-31T12:00:00+00:00')
    """
    if value == "now":
        return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    try:
        if len(value) == 10:
            return datetime.date.fromisoformat(value).isoformat()
        return datetime.datetime.fromisoformat(value.replace("Z", "+00:00")).isoformat()
    except ValueError:
        raise DataError(
            f"--created must be an ISO 8601 date or time such as 2026-01-31 or "
            f"2026-01-31T12:00:00Z, or 'now'. Got {value!r}."
        ) from None


def create_manifest(
    dataset: Dataset,
    path: str | os.PathLike[str],
    *,
    source: Source | None = None,
    created: str | None = None,
    signing_key: Ed25519PrivateKey | None = None,
) -> ManifestHeader:
    """Write the manifest of `dataset` to `path` (atomically) and return its header.

    Two streaming passes over the rows: the first computes the Merkle root for the header,
    the second writes the rows; memory does not grow with the number of rows.

    Parameters
    ----------
    dataset : Dataset
        The rows to record.
    path : path-like
        The manifest file to write (JSON Lines).
    source : Source, optional
        Name and file hash of the input (see `describe_source`); the dataset's name otherwise.
    created : str, optional
        An ISO 8601 time to record. Left out by default, so the same data gives the same bytes.
    signing_key : Ed25519PrivateKey, optional
        Signs the header (see `poisonlab.data.signing.load_private_key`).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from poisonlab.data import load_dataset
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "article.manifest.jsonl"
    >>> header = create_manifest(load_dataset("article"), target)
    >>> header.rows, header.counts, len(target.read_text().splitlines())
    (14, {'not spam': 7, 'spam': 7}, 15)
    """
    from poisonlab import __version__

    source = source or Source(dataset.name)
    header = ManifestHeader(
        source=source,
        rows=len(dataset),
        classes=dataset.classes,
        counts=dataset.counts(),
        merkle_root=merkle_root(dataset, source.name),
        tool=f"poisonlab {__version__}",
        created=created,
    )
    if signing_key is not None:
        from poisonlab.data import signing

        signature = {
            "algorithm": signing.ALGORITHM,
            "key": signing.fingerprint(signing_key.public_key()),
            "value": signing.sign(signing_key, header.signed_bytes()),
        }
        header = dataclasses.replace(header, signature=signature)
    target = Path(path)
    if target.is_dir():
        raise DataError(f"{target} is a folder; name the manifest file to write.")
    if not target.resolve().parent.is_dir():
        raise DataError(f"The folder for the manifest {str(target)!r} does not exist.")
    try:
        with atomic_text_writer(target, newline="\n") as handle:
            handle.write(canonical_json(header.to_dict()) + "\n")
            handle.writelines(row.line() + "\n" for row in iter_rows(dataset, source.name))
    except OSError as error:
        raise DataError(f"Cannot write the manifest {target}: {error.strerror or error}.") from None
    return header


# ---------------------------------------------------------------------------------------------
# Reading


def _damaged(path: Path, line: int, what: str) -> DataError:
    return DataError(f"Line {line} of the manifest {path} {what}; the manifest is damaged or not a manifest.")


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _parse_line(text: str, path: Path, number: int) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError):  # JSONDecodeError, or an absurd number or nesting
        raise _damaged(path, number, "is not valid JSON") from None


def _header_from(document: Any, path: Path) -> ManifestHeader:
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise DataError(f'{path} is not a poisonlab manifest: its first line lacks "format": "{FORMAT}".')
    if document.get("format_version") != FORMAT_VERSION:
        raise DataError(
            f"{path} is a version {document.get('format_version')!r} manifest; this poisonlab reads "
            f"version {FORMAT_VERSION}."
        )
    keys = set(document)
    missing = sorted(_HEADER_KEYS - keys)
    unknown = sorted(keys - _HEADER_KEYS - _OPTIONAL_HEADER_KEYS)
    if missing or unknown:
        detail = f"lacks {', '.join(missing)}" if missing else f"has unknown fields {', '.join(unknown)}"
        raise _damaged(path, 1, f"(the header) {detail}")
    if (document["hash"], document["merkle"], document["normalisation"]) != ("sha256", MERKLE, NORMALISATION):
        raise _damaged(path, 1, "names a hash, Merkle tree or normalisation this poisonlab does not know")
    classes, counts, source = document["classes"], document["counts"], document["source"]
    signature, created = document.get("signature"), document.get("created")
    problems = [
        (
            not isinstance(classes, list)
            or len(classes) < 2
            or not all(isinstance(c, str) for c in classes)
            or len(set(classes)) != len(classes),
            "classes",
        ),
        (
            not isinstance(counts, dict)
            or set(counts) != set(classes if isinstance(classes, list) else [])
            or not all(_is_int(v) for v in counts.values()),
            "counts",
        ),
        (not _is_int(document["rows"]), "rows"),
        (
            not isinstance(document["merkle_root"], str) or not _HEX64.fullmatch(document["merkle_root"]),
            "root",
        ),
        (not isinstance(document["tool"], str), "tool"),
        (created is not None and not isinstance(created, str), "created"),
        (
            not isinstance(source, dict)
            or set(source) != {"name", "sha256", "size"}
            or not isinstance(source["name"], str)
            or not (source["sha256"] is None or (isinstance(source["sha256"], str)))
            or not (source["size"] is None or _is_int(source["size"])),
            "source",
        ),
        (
            signature is not None
            and (
                not isinstance(signature, dict)
                or set(signature) != {"algorithm", "key", "value"}
                or not all(isinstance(v, str) for v in signature.values())
            ),
            "signature",
        ),
    ]
    bad = [name for is_bad, name in problems if is_bad]
    if bad:
        raise _damaged(path, 1, f"(the header) has a malformed {', '.join(bad)} field")
    return ManifestHeader(
        source=Source(source["name"], source["sha256"], source["size"]),
        rows=document["rows"],
        classes=tuple(classes),
        counts=dict(counts),
        merkle_root=document["merkle_root"],
        tool=document["tool"],
        created=created,
        signature=signature,
    )


def _row_from(document: Any, path: Path, number: int) -> ManifestRow:
    if not isinstance(document, dict) or document.keys() != _ROW_KEYS:
        raise _damaged(path, number, "is not a manifest row (id, row, source, text_sha256, label_sha256)")
    row_id, position, source = document["id"], document["row"], document["source"]
    text_hash, label_hash = document["text_sha256"], document["label_sha256"]
    if not (
        isinstance(row_id, str)
        and _is_int(position)
        and isinstance(source, str)
        and isinstance(text_hash, str)
        and isinstance(label_hash, str)
        and _HEX64.fullmatch(text_hash)
        and _HEX64.fullmatch(label_hash)
    ):
        raise _damaged(path, number, "has a field of the wrong type or a hash that is not 64 hex digits")
    return ManifestRow(row_id, position, source, text_hash, label_hash)


class _ManifestReader:
    """Reads a manifest file line by line: the header first, then the rows, each checked."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        if self.path.is_dir():
            raise DataError(f"The manifest {self.path} is a folder, not a file.")
        try:
            self._handle = open(self.path, "rb")  # noqa: SIM115 (closed in close())
        except FileNotFoundError:
            raise DataError(f"No such manifest: {self.path}.") from None
        except OSError as error:
            raise DataError(f"Cannot read the manifest {self.path}: {error.strerror or error}.") from None
        self._number = 0
        try:
            first = self._next_line()
        except BaseException:
            self.close()
            raise
        if first is None:
            self.close()
            raise DataError(f"The manifest {self.path} is empty.")
        try:
            self.header = _header_from(_parse_line(first, self.path, self._number), self.path)
        except BaseException:
            self.close()
            raise

    def _next_line(self) -> str | None:
        for raw in self._handle:  # bytes, decoded line by line, so an error names its line
            self._number += 1
            try:
                stripped = raw.decode("utf-8").strip()
            except UnicodeDecodeError:
                raise _damaged(self.path, self._number, "is not UTF-8 text") from None
            if stripped:
                return stripped
        return None

    def rows(self) -> Iterator[ManifestRow]:
        """The rows, each validated; a malformed line raises `DataError` naming its line number."""
        for row, _ in self.rows_with_lines():
            yield row

    def rows_with_lines(self) -> Iterator[tuple[ManifestRow, str]]:
        """Each row with its canonical line (what its Merkle leaf hashes)."""
        fast = _CANONICAL_ROW.fullmatch
        try:
            while (line := self._next_line()) is not None:
                match = fast(line)
                if match:  # already canonical: skip the JSON parse and the re-encoding
                    yield ManifestRow(match[1], int(match[3]), match[4], match[5], match[2]), line
                else:
                    row = _row_from(_parse_line(line, self.path, self._number), self.path, self._number)
                    yield row, row.line()
        finally:
            self.close()

    def close(self) -> None:
        self._handle.close()


def read_manifest_header(path: str | os.PathLike[str]) -> ManifestHeader:
    """The header of the manifest at `path` (only its first line is read)."""
    reader = _ManifestReader(path)
    reader.close()
    return reader.header


def read_manifest_rows(path: str | os.PathLike[str]) -> Iterator[ManifestRow]:
    """Stream the rows of the manifest at `path`, each checked; the header is checked first."""
    return _ManifestReader(path).rows()


# ---------------------------------------------------------------------------------------------
# Comparing


class RowChange(NamedTuple):
    """One row that differs: its id, its positions (manifest, data; None where absent) and labels."""

    id: str
    manifest_row: int | None
    data_row: int | None
    label_before: str | None
    label_after: str | None

    def to_dict(self) -> dict[str, Any]:
        """The change as a JSON object."""
        return self._asdict()


CHANGE_KINDS = ("added", "removed", "relabelled", "modified")


@dataclasses.dataclass(frozen=True)
class Diff:
    """Rows added, removed, relabelled (label changed) and modified (text changed), matched by id.

    A row whose text and label both changed is in `relabelled` and in `modified`.
    """

    added: tuple[RowChange, ...]
    removed: tuple[RowChange, ...]
    relabelled: tuple[RowChange, ...]
    modified: tuple[RowChange, ...]
    duplicate_ids: int
    """Distinct ids held by several rows of the manifest or the data (matched by order of appearance)."""

    @property
    def is_empty(self) -> bool:
        """True when no row was added, removed, relabelled or modified."""
        return not (self.added or self.removed or self.relabelled or self.modified)

    def counts(self) -> dict[str, int]:
        """Rows of each kind of change."""
        return {kind: len(getattr(self, kind)) for kind in CHANGE_KINDS}

    def to_dict(self) -> dict[str, Any]:
        """Counts and every change, as JSON."""
        return {
            "counts": self.counts(),
            "duplicate_ids": self.duplicate_ids,
            **{kind: [c.to_dict() for c in getattr(self, kind)] for kind in CHANGE_KINDS},
        }


def _match_keys(ids: Iterable[str]) -> Iterator[str | tuple[str, int]]:
    """The id of each row, or (id, k) for the k-th repeat of an id (k >= 1)."""
    seen: dict[str, int] = {}
    for row_id in ids:
        k = seen.get(row_id, 0)
        seen[row_id] = k + 1
        yield row_id if k == 0 else (row_id, k)


def diff_rows(rows: Iterable[ManifestRow], dataset: Dataset, *, classes: Sequence[str] = ()) -> Diff:
    """Compare manifest `rows` (the old version) with `dataset` (the new one), matching by id.

    One pass over `rows` against a hash map of the dataset's ids: O(rows + dataset) time, and
    memory for the dataset's index and digests only, so `rows` may stream from a file.
    `classes` are extra class names to recognise in `rows`' label hashes (the manifest's).

    Examples
    --------
    >>> old = Dataset(["hi", "WIN cash", "lunch?"], [0, 1, 0], ("ham", "spam"))
    >>> new = Dataset(["hi", "WIN cash!", "lunch?"], [0, 1, 1], ("ham", "spam"))
    >>> diff_rows(iter_rows(old), new).counts()
    {'added': 0, 'removed': 0, 'relabelled': 1, 'modified': 1}
    """
    n = len(dataset)
    digests = bytearray(32 * n)
    for i, text in enumerate(dataset.texts):
        digests[32 * i : 32 * i + 32] = hashlib.sha256(
            normalise_text(text).encode("utf-8", "surrogatepass")
        ).digest()
    labels = dataset.labels.tolist()
    index: dict[str | tuple[str, int], int] = {}
    repeated: set[str] = set()
    for i, key in enumerate(_match_keys(dataset.ids)):
        index[key] = i
        if isinstance(key, tuple):
            repeated.add(key[0])
    data_hashes = [label_sha256(c) for c in dataset.classes]
    names = {label_sha256(c): c for c in (*classes, *dataset.classes)}
    seen = bytearray(n)
    removed: list[RowChange] = []
    relabelled: list[RowChange] = []
    modified: list[RowChange] = []
    removed_ids: set[str] = set()
    repeats: dict[str, int] = {}  # next k for ids met again: memory for repeats, not for every id
    for row in rows:
        at = index.get(row.id)
        if (at is not None and seen[at]) or (at is None and row.id in removed_ids):
            k = repeats.get(row.id, 1)
            repeats[row.id] = k + 1
            repeated.add(row.id)
            at = index.get((row.id, k))
        elif at is None:
            removed_ids.add(row.id)
        before = names.get(row.label_sha256) or f"sha256:{row.label_sha256[:12]}"
        if at is None:
            removed.append(RowChange(row.id, row.row, None, before, None))
            continue
        seen[at] = 1
        label = labels[at]
        if data_hashes[label] != row.label_sha256:
            relabelled.append(RowChange(row.id, row.row, at, before, dataset.classes[label]))
        if digests[32 * at : 32 * at + 32] != bytes.fromhex(row.text_sha256):
            modified.append(RowChange(row.id, row.row, at, before, dataset.classes[label]))
    added = [
        RowChange(dataset.ids[i], None, int(i), None, dataset.classes[labels[i]])
        for i in np.flatnonzero(np.frombuffer(seen, np.uint8) == 0)
    ]
    return Diff(
        added=tuple(added),
        removed=tuple(removed),
        relabelled=tuple(relabelled),
        modified=tuple(modified),
        duplicate_ids=len(repeated),
    )


# ---------------------------------------------------------------------------------------------
# Verifying

SIGNATURE_STATUSES = ("valid", "invalid", "unsigned", "not checked")


@dataclasses.dataclass(frozen=True)
class Verification:
    """What `verify_manifest` found: the row differences, integrity problems and signature status.

    `problems` are failures of the manifest itself, one sentence each: its rows do not hash to
    its Merkle root, its header disagrees with its rows, or its signature fails. `signature`
    is one of `SIGNATURE_STATUSES`; ``"not checked"`` means signed but no verify key given.
    """

    header: ManifestHeader
    diff: Diff
    problems: tuple[str, ...]
    signature: str
    verify_key: str | None
    """Fingerprint of the key the signature was checked with, if one was given."""
    source: Source | None
    """The current data's source, to compare its file hash with the manifest's."""
    notes: tuple[str, ...]
    """Things worth knowing that are not failures (file bytes changed, repeated ids, ...)."""

    @property
    def file_matches(self) -> bool | None:
        """Whether the data file's bytes hash as the manifest's source did; None if either has no hash."""
        if self.source is None or self.source.sha256 is None or self.header.source.sha256 is None:
            return None
        return self.source.sha256 == self.header.source.sha256

    @property
    def is_identical(self) -> bool:
        """True when the manifest is intact (and its signature valid, if checked) and no row differs."""
        return not self.problems and self.diff.is_empty

    def to_dict(self) -> dict[str, Any]:
        """Everything, as JSON."""
        return {
            "identical": self.is_identical,
            "problems": list(self.problems),
            "notes": list(self.notes),
            "signature": {
                "status": self.signature,
                "signed_by": self.header.signed_by,
                "verify_key": self.verify_key,
            },
            "file": {
                "manifest_sha256": self.header.source.sha256,
                "data_sha256": None if self.source is None else self.source.sha256,
                "matches": self.file_matches,
            },
            "header": self.header.to_dict(),
            **self.diff.to_dict(),
        }


def _check_signature(
    header: ManifestHeader, public_key: Ed25519PublicKey | None
) -> tuple[str, str | None, list[str]]:
    """Signature status, the verify key's fingerprint, and any problem."""
    if public_key is None:
        return ("unsigned" if header.signature is None else "not checked"), None, []
    from poisonlab.data import signing

    given = signing.fingerprint(public_key)
    if header.signature is None:
        return "unsigned", given, ["The manifest is not signed, but a verify key was given."]
    if header.signature["algorithm"] != signing.ALGORITHM:
        reason = f"The manifest is signed with {header.signature['algorithm']!r}; poisonlab checks ed25519."
        return "invalid", given, [reason]
    if signing.is_valid_signature(public_key, header.signed_bytes(), header.signature["value"]):
        return "valid", given, []
    if header.signature["key"] != given:
        reason = f"The manifest was signed by key {header.signature['key']}, not by the verify key {given}."
    else:
        reason = "The signature does not match the manifest header: the header was edited after signing."
    return "invalid", given, [reason]


def _ids_are_row_numbers(ids: Sequence[str]) -> bool:
    return any(all(row_id == str(k + start) for k, row_id in enumerate(ids)) for start in (0, 1))


def verify_manifest(
    dataset: Dataset,
    path: str | os.PathLike[str],
    *,
    public_key: Ed25519PublicKey | None = None,
    source: Source | None = None,
) -> Verification:
    """Check `dataset` against the manifest at `path`, reading the manifest once as a stream.

    Checks, in one pass: the signature of the header (with `public_key`), that the rows hash
    to the header's Merkle root and agree with its row and class counts, and every row of the
    data against the manifest (`diff_rows`). A file that is not a well-formed manifest raises
    `DataError`; a well-formed one that fails a check is reported in `Verification.problems`.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from poisonlab.data import load_dataset
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "article.manifest.jsonl"
    >>> data = load_dataset("article")
    >>> _ = create_manifest(data, target)
    >>> verify_manifest(data, target).is_identical
    True
    >>> edited = data.with_labels(1 - data.labels)
    >>> verify_manifest(edited, target).diff.counts()
    {'added': 0, 'removed': 0, 'relabelled': 14, 'modified': 0}
    """
    reader = _ManifestReader(path)
    header = reader.header
    try:
        status, given, problems = _check_signature(header, public_key)
    except BaseException:
        reader.close()
        raise
    tree = MerkleTree()
    tally: dict[str, int] = {}

    def checked_rows() -> Iterator[ManifestRow]:
        for row, line in reader.rows_with_lines():
            tree.add(line.encode("ascii"))
            tally[row.label_sha256] = tally.get(row.label_sha256, 0) + 1
            yield row

    diff = diff_rows(checked_rows(), dataset, classes=header.classes)
    root = tree.root()
    if root != header.merkle_root:
        problems.append(
            f"The manifest's rows do not hash to the Merkle root in its header (rows give {root[:16]}..., "
            f"header says {header.merkle_root[:16]}...): the manifest was edited after it was made."
        )
    if tree.size != header.rows:
        problems.append(f"The manifest's header counts {header.rows} rows but it lists {tree.size}.")
    by_hash = {label_sha256(c): c for c in header.classes}
    unknown = sum(k for h, k in tally.items() if h not in by_hash)
    if unknown:
        problems.append(
            f"{unknown} manifest rows have a label hash that matches none of its header's classes."
        )
    listed = {c: tally.get(label_sha256(c), 0) for c in header.classes}
    if listed != header.counts:
        problems.append(
            f"The manifest's header counts {_tally(header.counts)} but its rows hold {_tally(listed)}."
        )
    notes = []
    current = source or Source(dataset.name)
    matches = Verification(header, diff, (), status, given, current, ()).file_matches
    if matches is False and diff.is_empty:
        notes.append(
            "The data's bytes differ from those the manifest was made from, but every row is the same "
            "after normalisation (e.g. line endings, Unicode form, column order or file format)."
        )
    if diff.duplicate_ids:
        notes.append(
            f"{diff.duplicate_ids} ids are held by more than one row; rows sharing an id were matched "
            "in order of appearance."
        )
    if (diff.added or diff.removed) and _ids_are_row_numbers(dataset.ids):
        notes.append(
            "The data's row ids are row numbers, so a row inserted or deleted shifts the ids of every "
            "later row, which then show as modified; give the file an 'id' column to match rows by it."
        )
    return Verification(header, diff, tuple(problems), status, given, current, tuple(notes))


def _tally(counts: dict[str, int]) -> str:
    return ", ".join(f"{name} {count}" for name, count in counts.items())
