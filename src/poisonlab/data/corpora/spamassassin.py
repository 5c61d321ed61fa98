"""The SpamAssassin public mail corpus (6,046 raw e-mails, 2002), bundled and checksum-verified.

Licence PDDL 1.0 (the database) and CC0 1.0 (its contents); see ``SPAMASSASSIN_README.md``
beside this file for the provenance, what text a message becomes, and the counts. The corpus
maintainer asks that these messages never be sent into a live mail system.

The archive ships byte for byte as published (its SHA-256 is the one the source names) and the
raw messages are read through `poisonlab.data.mail`, so the texts always follow the e-mail
loader; parsing all of them takes about two seconds, once per process: the checksum is checked
on every load, and verified bytes already parsed are not parsed again.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import tarfile
import threading
from importlib import resources

from poisonlab._errors import DataError
from poisonlab.data.dataset import Dataset
from poisonlab.data.labels import map_labels
from poisonlab.data.mail import EmailLoadReport, iter_tar, read_messages

SHA256 = "a0656bc5f64244a854823061d721131d77b3e86d6182e6c125a066c45e8e5b56"
"""SHA-256 of ``spamassassin.tar.gz`` (8,683,121 bytes), as published with the corpus."""

RESOURCE = "spamassassin.tar.gz"

GROUPS = {
    "easy-ham-1": "ham",
    "easy-ham-2": "ham",
    "hard-ham-1": "ham",
    "spam-1": "spam",
    "spam-2": "spam",
}
"""The label of each group folder (``easy_ham``, ``easy_ham_2``, ``hard_ham``, ``spam``, ``spam_2``)."""

MESSAGES = 6046
"""Messages in the corpus: 4,150 ham and 1,896 spam."""

_ROOT = "spamassassin/"
_PARSED: dict[str, tuple[Dataset, EmailLoadReport]] = {}
"""Parsed corpus by the SHA-256 of the verified archive: a `Dataset` never changes, so it is shared."""
_PARSED_LOCK = threading.Lock()


def read_spamassassin_bytes() -> bytes:
    """The corpus archive's bytes, after checking them against `SHA256`."""
    return _verified()[0]


def _verified() -> tuple[bytes, str]:
    try:
        packed = resources.files(__package__).joinpath(RESOURCE).read_bytes()
    except OSError:
        raise DataError(
            f"The bundled SpamAssassin corpus ({RESOURCE}) is missing; reinstall poisonlab."
        ) from None
    digest = hashlib.sha256(packed).hexdigest()
    if digest != SHA256:
        raise DataError(
            f"The bundled SpamAssassin corpus fails its checksum (sha256 {digest[:12]}..., expected "
            f"{SHA256[:12]}...); it is damaged or was altered after release. Reinstall poisonlab."
        )
    return packed, digest


def _group_label(location: str, _message: object) -> str | None:
    return GROUPS.get(location.split("/", 1)[0])


def load_spamassassin() -> tuple[Dataset, EmailLoadReport]:
    """All 6,046 messages with the report of what was odd in them (attachments, charsets, ...).

    Examples
    --------
    >>> data, report = load_spamassassin()
    >>> report.messages, report.unreadable, report.unlabelled
    (6046, 0, 0)
    """
    packed, digest = _verified()
    with _PARSED_LOCK:
        if digest not in _PARSED:
            _PARSED[digest] = _parse(packed)
        dataset, report = _PARSED[digest]
    return dataset, dataclasses.replace(report)


def _parse(packed: bytes) -> tuple[Dataset, EmailLoadReport]:
    report = EmailLoadReport()
    try:
        archive = tarfile.open(fileobj=io.BytesIO(packed), mode="r:gz")  # noqa: SIM115
    except (tarfile.TarError, OSError, EOFError) as error:
        raise DataError(f"The bundled SpamAssassin corpus is not a readable archive ({error}).") from None
    with archive:
        members = ((name.removeprefix(_ROOT), raw) for name, raw in iter_tar(archive, report))
        texts, labels, ids = read_messages(members, _group_label, report)
    if report.messages != MESSAGES or report.unreadable or report.unlabelled:
        raise DataError(
            f"The bundled SpamAssassin corpus gave {report.messages} of its {MESSAGES} messages; "
            "reinstall poisonlab."
        )
    encoded, classes = map_labels(labels, ("ham", "spam"))
    return Dataset(texts, encoded, classes, ids, name="spamassassin"), report


def spamassassin() -> Dataset:
    """All 6,046 messages in archive order (group, then file name); ids are their paths in the corpus.

    A message's text is its subject, a blank line and its body text, read by
    `poisonlab.data.mail.message_text`; its label comes from its group folder (`GROUPS`).

    Examples
    --------
    >>> ds = spamassassin()
    >>> len(ds), ds.counts()
    (6046, {'ham': 4150, 'spam': 1896})
    >>> ds.ids[0]
    'easy-ham-1/00001.7c53336b37003a9286aba55d2945844c.txt'
    """
    return load_spamassassin()[0]
