"""Reading e-mail: mbox files, maildir folders, folders of ``.eml`` (or ``.txt``) files, and zip/tar archives.

A message becomes one row: its subject, a blank line, then its body text (``text/plain``
preferred; ``text/html`` converted to text when there is no plain part). Attachments are
ignored and counted. Nothing about one bad message is fatal to the load: malformed MIME,
unknown charsets and huge messages are handled and counted in the `EmailLoadReport`.
"""

from __future__ import annotations

import dataclasses
import email.policy
import io
import mailbox
import os
import re
import tarfile
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from email.message import Message
from email.parser import BytesParser
from pathlib import Path, PurePosixPath

from poisonlab._errors import DataError
from poisonlab.data.dataset import Dataset
from poisonlab.data.labels import map_labels
from poisonlab.data.mail_text import drop_blobs, html_to_text, plain_text

__all__ = [
    "DEFAULT_MAX_CHARS",
    "EMAIL_SUFFIXES",
    "LABEL_HEADER",
    "EmailLoadReport",
    "html_to_text",
    "is_email_source",
    "iter_tar",
    "load_email",
    "looks_like_mail",
    "message_text",
    "raw_header",
    "read_label_mapping",
    "read_messages",
]

LABEL_HEADER = "X-Poisonlab-Label"
"""Header carrying a message's label, as ``poisonlab attack --out FILE.mbox`` writes it."""

DEFAULT_MAX_CHARS = 200_000
"""Messages longer than this (subject + body) are truncated, and counted."""

_PARSER = BytesParser(policy=email.policy.compat32)
"""Messages are parsed with the fast legacy policy: its header values are the raw text, and only the
``Subject`` goes through the modern policy's decoder (`_subject`). The typed header objects of
``email.policy.default`` made loading ~2x slower and could raise on a malformed header."""
_SNIFF_BYTES = 64 * 1024
"""How much of a ``.txt`` file `looks_like_mail` reads for its header block."""


@dataclasses.dataclass
class EmailLoadReport:
    """What happened while loading e-mail; every count is of messages unless it says otherwise.

    Attributes
    ----------
    messages : int
        Messages turned into rows.
    unlabelled : int
        Messages skipped because no label could be found for them.
    unreadable : int
        Messages or archive members that could not be read at all (skipped).
    unsafe_names : int
        Archive members skipped because their name is absolute or climbs out with ``..``.
    attachments : int
        Attachment parts ignored (a count of parts).
    html_only : int
        Messages whose text came from HTML.
    charset_fallbacks : int
        Parts whose declared charset was unknown or wrong, decoded as Windows-1252 instead.
    defects : int
        Messages the parser found MIME defects in (read anyway).
    truncated : int
        Messages cut to `max_chars`.
    not_mail : int
        Files named ``.txt`` in a folder that were skipped because they do not start with mail
        headers (see `looks_like_mail`).
    """

    messages: int = 0
    unlabelled: int = 0
    unreadable: int = 0
    unsafe_names: int = 0
    attachments: int = 0
    html_only: int = 0
    charset_fallbacks: int = 0
    defects: int = 0
    truncated: int = 0
    not_mail: int = 0

    def problems(self) -> dict[str, int]:
        """The non-zero counts other than `messages`, for warnings."""
        return {k: v for k, v in dataclasses.asdict(self).items() if v and k != "messages"}


def _decode_part(part: Message, report: EmailLoadReport) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return str(part.get_payload())
    charset = part.get_content_charset() or "utf-8"
    try:
        return payload.decode(charset)
    except (LookupError, UnicodeDecodeError):
        report.charset_fallbacks += 1
        return payload.decode("cp1252", errors="replace")


def _first_raw(message: Message, name: str) -> str | None:
    wanted = name.lower()
    for key, value in message.raw_items():
        if key.lower() == wanted:
            return str(value)
    return None


def _decoded_header(message: Message, name: str) -> str | None:
    """An unstructured header decoded (RFC 2047 words, charsets) exactly as ``email.policy.default``
    reads it, or None when absent; raises on a malformed encoded word."""
    raw = _first_raw(message, name)
    return None if raw is None else str(email.policy.default.header_fetch_parse(name, raw))


def _subject(message: Message, report: EmailLoadReport) -> str:
    try:
        return _decoded_header(message, "Subject") or ""
    except Exception:  # a malformed encoded-word header; keep the message, lose the subject
        report.defects += 1
        return ""


_LOST_BOUNDARY = re.compile(
    r"^--([ -~]*[!-~])[ \t]*\r?\n(?=content-[a-z-]+[ \t]*:)", re.MULTILINE | re.IGNORECASE
)


def _with_lost_parts(message: Message) -> Message:
    """The message re-read as multipart when its ``Content-Type`` header was lost but its body is MIME parts.

    Some spam has no ``Content-Type`` yet a body of ``--boundary`` lines, each followed by part
    headers: read naively, the HTML part, its quoted-printable ``=3D`` and base64 attachments
    would all become words. Only a body that starts with its first boundary (after at most one
    short preamble line such as "This is a MIME message") is re-read, so a message that quotes
    MIME in its prose stays as written.
    """
    if message.is_multipart() or _first_raw(message, "Content-Type") is not None:
        return message
    body = message.get_payload(decode=True)
    if not isinstance(body, bytes):
        return message
    text = body.decode("ascii", errors="replace")
    found = _LOST_BOUNDARY.search(text)
    preamble = text[: found.start()].strip() if found else ""
    if found is None or "\n" in preamble or len(preamble) > 100 or text.count(f"--{found.group(1)}") < 2:
        return message  # prose before the first boundary: a message that quotes MIME, not one
    boundary = found.group(1).replace("\\", "\\\\").replace('"', '\\"')
    head = f'Content-Type: multipart/mixed; boundary="{boundary}"\n\n'.encode()
    return _PARSER.parsebytes(head + body)


def message_text(message: Message, report: EmailLoadReport) -> str:
    """Subject and body text of one parsed message; attachments are counted, not read.

    ``text/plain`` is preferred (stray HTML tags dropped, character references decoded); HTML (a
    ``text/html`` part, or a ``text/plain`` part that holds an HTML document) is converted to its
    visible text; PGP armour and base64 runs are dropped. A message poisonlab wrote (it carries
    the ``X-Poisonlab-Label`` header) holds a row's text verbatim and is read back verbatim, so an
    exported training set round-trips exactly.

    Examples
    --------
    >>> from email import message_from_bytes
    >>> raw = b"Subject: WIN\\nContent-Type: text/plain\\n\\n<html><b>cash</b>&nbsp;now</html>"
    >>> message_text(message_from_bytes(raw), EmailLoadReport())
    'WIN\\n\\ncash now'
    """
    verbatim = raw_header(message, LABEL_HEADER) is not None
    plain: list[str] = []
    markup: list[str] = []
    for part in _with_lost_parts(message).walk():
        if part.is_multipart():
            continue
        disposition = (part.get_content_disposition() or "").lower()
        kind = part.get_content_type()
        if disposition == "attachment" or not kind.startswith("text/"):
            report.attachments += 1
            continue
        if kind == "text/plain":
            text = _decode_part(part, report)
            plain.append(text if verbatim else plain_text(text))
        elif kind == "text/html":
            markup.append(_decode_part(part, report))
        else:
            report.attachments += 1
    if plain:
        body = "\n".join(plain)
    elif markup:
        report.html_only += 1
        body = html_to_text("\n".join(markup))
    else:
        body = ""
    if not verbatim:
        body = drop_blobs(body)
    subject = _subject(message, report)
    return f"{subject}\n\n{body.strip()}" if subject else body.strip()


def _parse(raw: bytes, report: EmailLoadReport) -> Message | None:
    try:
        message = _PARSER.parsebytes(raw)
    except Exception:  # the parser is lenient; anything it raises means unreadable bytes
        report.unreadable += 1
        return None
    if message.defects:
        report.defects += 1
    return message


def raw_header(message: Message, name: str) -> str | None:
    """A header's value as written (unfolded, undecoded), or None; reading it never raises.

    The typed header parsers of ``email.policy.default`` can raise on malformed values (an
    ``IndexError`` on some ``Message-ID`` headers, for one); ids and labels need only the text.

    Examples
    --------
    >>> from email import message_from_bytes
    >>> raw_header(message_from_bytes(b"Message-ID: <>\\n\\nhi"), "message-id")
    '<>'
    """
    value = _first_raw(message, name)
    return None if value is None else " ".join(value.split())


def _is_safe_member(name: str) -> bool:
    path = PurePosixPath(name.replace("\\", "/"))
    return not path.is_absolute() and ".." not in path.parts and not (path.parts and ":" in path.parts[0])


def _iter_archive(path: Path, report: EmailLoadReport) -> Iterator[tuple[str, bytes]]:
    """(member name, bytes) of every file in a zip or tar archive, read in memory, never extracted."""
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as zipped:
            for info in zipped.infolist():
                if info.is_dir():
                    continue
                if not _is_safe_member(info.filename):
                    report.unsafe_names += 1
                    continue
                try:
                    yield info.filename, zipped.read(info)
                except (zipfile.BadZipFile, OSError, EOFError, RuntimeError):
                    report.unreadable += 1
        return
    try:
        archive = tarfile.open(path)  # noqa: SIM115 - closed by the with-block below
    except (tarfile.TarError, OSError, EOFError) as error:
        raise DataError(f"{path} is not a readable zip or tar archive ({error}).") from None
    with archive:
        yield from iter_tar(archive, report)


def iter_tar(archive: tarfile.TarFile, report: EmailLoadReport) -> Iterator[tuple[str, bytes]]:
    """(member name, bytes) of every regular file in an open tar archive, read in memory, never extracted.

    Members with unsafe names (absolute, or climbing out with ``..``) are skipped and counted;
    a damaged archive ends the listing and is counted as unreadable.
    """
    try:
        for member in archive:
            if not member.isfile():
                continue
            if not _is_safe_member(member.name):
                report.unsafe_names += 1
                continue
            handle = archive.extractfile(member)
            if handle is None:
                report.unreadable += 1
                continue
            yield member.name, handle.read()
    except (tarfile.TarError, OSError, EOFError, zlib.error):
        report.unreadable += 1


def _iter_mailbox(box: mailbox.Mailbox, report: EmailLoadReport) -> Iterator[bytes]:
    for key in box.iterkeys():
        try:
            yield box.get_bytes(key)
        except (OSError, KeyError, ValueError):
            report.unreadable += 1


def _is_maildir(folder: Path) -> bool:
    return all((folder / sub).is_dir() for sub in ("cur", "new"))


def _iter_source(path: Path, report: EmailLoadReport) -> Iterator[tuple[str, bytes]]:
    """(relative location, raw bytes) of each message under `path`."""
    if path.is_dir():
        if _is_maildir(path):
            for i, raw in enumerate(_iter_mailbox(mailbox.Maildir(path, factory=None, create=False), report)):
                yield f"{i}", raw
            return
        for child in sorted(path.rglob("*")):
            relative = child.relative_to(path).as_posix()
            if child.is_dir():
                if _is_maildir(child):
                    box = mailbox.Maildir(child, factory=None, create=False)
                    for i, raw in enumerate(_iter_mailbox(box, report)):
                        yield f"{relative}/{i}", raw
                continue
            if any(part in {"cur", "new", "tmp"} for part in child.relative_to(path).parts[:-1]):
                continue  # inside a maildir, read above
            yield from _iter_file(child, relative, report)
        return
    yield from _iter_file(path, path.name, report)


def _iter_file(file: Path, relative: str, report: EmailLoadReport) -> Iterator[tuple[str, bytes]]:
    suffix = file.name.lower()
    if suffix.endswith((".zip", ".tar", ".tar.gz", ".tgz")):
        for name, raw in _iter_archive(file, report):
            yield f"{relative}!{name}", raw
    elif suffix.endswith(".mbox") or file.name == "mbox":
        box = mailbox.mbox(file, factory=None, create=False)
        for i, raw in enumerate(_iter_mailbox(box, report)):
            yield f"{relative}#{i}", raw
    elif suffix.endswith((".eml", ".txt")):
        try:
            raw = file.read_bytes()
        except OSError:
            report.unreadable += 1
            return
        if suffix.endswith(".eml") or looks_like_mail(raw):
            yield relative, raw
        else:
            report.not_mail += 1


_HEADER_LINE = re.compile(rb"[!-9;-~]+[ \t]*:")


def looks_like_mail(raw: bytes) -> bool:
    """Whether bytes start like an RFC 822 message: header lines up to a blank line, two at least.

    An optional mbox ``From `` line may come first, and folded header lines (starting with a
    space or tab) continue the one above. Notes and logs saved as ``.txt`` fail this test.

    Examples
    --------
    >>> looks_like_mail(b"From a@b  Mon Jul 29 2002\\nSubject: hi\\nFrom: a@b\\n\\nbody")
    True
    >>> looks_like_mail(b"Notes: lunch\\nat noon\\n")
    False
    """
    lines = raw[:_SNIFF_BYTES].splitlines()
    if lines and lines[0].startswith(b"From "):
        lines = lines[1:]
    fields = 0
    for line in lines:
        if not line.strip():
            return fields >= 2
        if line[:1] in (b" ", b"\t") and fields:
            continue
        if not _HEADER_LINE.match(line):
            return False
        fields += 1
    return False


def _label_of(
    location: str, message: Message, labels: Mapping[str, str] | None, root_file: str | None
) -> str | None:
    """The label: the mapping, else the label header, else the first folder of the location."""
    member = location.split("!", 1)[-1]
    if labels is not None:
        for key in (location, member, raw_header(message, "Message-ID")):
            if key and key in labels:
                return labels[key]
    try:  # the writer encodes a non-ASCII label as RFC 2047 words
        header = _decoded_header(message, LABEL_HEADER)
    except Exception:  # a malformed encoded word: the label as written
        header = raw_header(message, LABEL_HEADER)
    if header and header.strip():
        return header.strip()
    if root_file is not None:  # a single archive or mbox: folders start inside it
        location = member if "!" in location else ""
    parts = PurePosixPath(location.replace("!", "/").replace("#", "/")).parts
    return parts[0] if len(parts) > 1 else None


EMAIL_SUFFIXES = (".mbox", ".eml", ".zip", ".tar", ".tar.gz", ".tgz")


def is_email_source(path: str | os.PathLike[str]) -> bool:
    """Whether `path` is read as e-mail: a folder, or a file named like mail or a mail archive.

    Examples
    --------
    >>> is_email_source("inbox.mbox"), is_email_source("data.csv")
    (True, False)
    """
    location = Path(path)
    return location.is_dir() or location.name == "mbox" or location.name.lower().endswith(EMAIL_SUFFIXES)


def load_email(
    path: str | os.PathLike[str],
    *,
    labels: Mapping[str, str] | None = None,
    classes: tuple[str, ...] | None = None,
    max_chars: int = DEFAULT_MAX_CHARS,
    min_classes: int = 2,
) -> tuple[Dataset, EmailLoadReport]:
    """Load e-mail into a `Dataset`, with a report of everything that was odd.

    Parameters
    ----------
    path : path-like
        A folder (its first-level subfolders name the labels, e.g. ``spam/`` and ``ham/``; each
        may hold ``.eml`` files, ``.txt`` files that start with mail headers (others are skipped
        and counted, see `looks_like_mail`), maildirs, mbox files or archives), an mbox file, a maildir, an
        ``.eml`` file, or a ``.zip``/``.tar``/``.tar.gz`` archive of them. Archives are read in
        memory and never extracted; members with unsafe names (``..``, absolute) are skipped.
    labels : mapping, optional
        Label per message, keyed by its location (as in the ids), its archive member name or
        its ``Message-ID``; it wins over the ``X-Poisonlab-Label`` header, which wins over the
        folder name.
    classes : tuple of str, optional
        Allowed labels in class order (see `map_labels`).
    max_chars : int
        Longer messages are truncated to this many characters, and counted.
    min_classes : int
        Fewest classes the labels must hold.

    Returns
    -------
    dataset : Dataset
        Ids are message locations relative to `path`.
    report : EmailLoadReport

    Examples
    --------
    >>> import tempfile, pathlib
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> for label, body in (("spam", "WIN cash now"), ("ham", "lunch at 1?")):
    ...     (root / label).mkdir()
    ...     _ = (root / label / "1.eml").write_bytes(f"Subject: hi\\n\\n{body}\\n".encode())
    >>> data, report = load_email(root)
    >>> data.counts(), report.messages
    ({'ham': 1, 'spam': 1}, 2)
    """
    source = Path(path)
    if not source.exists():
        raise DataError(f"No such file or folder: {source}.")
    report = EmailLoadReport()
    root_file = None if source.is_dir() else source.name
    texts, raw_labels, ids = read_messages(
        _iter_source(source, report),
        lambda location, message: _label_of(location, message, labels, root_file),
        report,
        max_chars=max_chars,
    )
    if not texts:
        raise DataError(
            f"No labelled messages found in {source}: put them in label folders (spam/, ham/), "
            f"give a label mapping, or set the {LABEL_HEADER} header."
        )
    encoded, names = map_labels(raw_labels, classes, min_classes=min_classes)
    return Dataset(texts, encoded, names, ids, name=source.name), report


def read_messages(
    messages: Iterable[tuple[str, bytes]],
    label_of: Callable[[str, Message], str | None],
    report: EmailLoadReport,
    *,
    max_chars: int = DEFAULT_MAX_CHARS,
) -> tuple[list[str], list[str], list[str]]:
    """Texts, labels and ids of raw messages given as (location, bytes); the core of `load_email`.

    Each message is parsed and turned into its text by `message_text`; `label_of(location,
    message)` names its label, and a message without one is skipped and counted. Texts longer
    than `max_chars` are truncated and counted. Nothing about one message stops the others.

    Examples
    --------
    >>> report = EmailLoadReport()
    >>> raw = b"Subject: WIN\\n\\n<html>cash&nbsp;now</html>"
    >>> read_messages([("spam/1", raw)], lambda location, message: "spam", report)
    (['WIN\\n\\ncash now'], ['spam'], ['spam/1'])
    """
    texts: list[str] = []
    labels: list[str] = []
    ids: list[str] = []
    for location, raw in messages:
        message = _parse(raw, report)
        if message is None:
            continue
        label = label_of(location, message)
        if not label:
            report.unlabelled += 1
            continue
        text = message_text(message, report)
        if len(text) > max_chars:
            report.truncated += 1
            text = text[:max_chars]
        texts.append(text)
        labels.append(label)
        ids.append(location)
        report.messages += 1
    return texts, labels, ids


def read_label_mapping(path: str | os.PathLike[str]) -> dict[str, str]:
    """Read a two-column CSV (message location or Message-ID, label) into a mapping.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> file = pathlib.Path(tempfile.mkdtemp()) / "labels.csv"
    >>> _ = file.write_text("message,label\\nspam/1.eml,spam\\n")
    >>> read_label_mapping(file)
    {'spam/1.eml': 'spam'}
    """
    import csv

    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise DataError(f"Cannot read the label mapping {path}: {error}.") from None
    rows = [row for row in csv.reader(io.StringIO(text)) if row and any(cell.strip() for cell in row)]
    if rows and len(rows[0]) >= 2 and rows[0][1].strip().lower() in {"label", "class"}:
        rows = rows[1:]
    mapping = {}
    for number, row in enumerate(rows, start=1):
        if len(row) < 2 or not row[0].strip() or not row[1].strip():
            raise DataError(f"Row {number} of the label mapping {path} needs a message and a label.")
        mapping[row[0].strip()] = row[1].strip()
    return mapping
