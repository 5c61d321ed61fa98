"""The SMS Spam Collection v.1 (Almeida & Gómez Hidalgo, 2011), bundled and checksum-verified.

Licence CC BY 4.0 (UCI ML Repository, DOI 10.24432/C5CC84); see ``SMS_SPAM_README.md`` beside
this file for the citation, provenance and format quirks.
"""

from __future__ import annotations

import gzip
import hashlib
from importlib import resources

from poisonlab._errors import DataError
from poisonlab.data.dataset import Dataset
from poisonlab.data.loaders import parse_uci

SHA256 = "7d039a24a6083ed9ef0f806ebad56bbb976e3aeb8de05669173bfdc4996c239d"
"""SHA-256 of the original, uncompressed ``SMSSpamCollection`` file (477,907 bytes)."""

RESOURCE = "sms_spam.tsv.gz"


def read_sms_spam_bytes() -> bytes:
    """The corpus file's original bytes, after checking them against `SHA256`."""
    try:
        packed = resources.files(__package__).joinpath(RESOURCE).read_bytes()
    except OSError:
        raise DataError(f"The bundled SMS corpus ({RESOURCE}) is missing; reinstall poisonlab.") from None
    try:
        raw = gzip.decompress(packed)
    except (OSError, EOFError) as error:
        raise DataError(f"The bundled SMS corpus is damaged ({error}); reinstall poisonlab.") from None
    digest = hashlib.sha256(raw).hexdigest()
    if digest != SHA256:
        raise DataError(
            f"The bundled SMS corpus fails its checksum (sha256 {digest[:12]}..., expected "
            f"{SHA256[:12]}...); it was altered after release. Reinstall poisonlab."
        )
    return raw


def sms_spam() -> Dataset:
    """All 5,574 messages, in file order, with ids equal to their line numbers.

    Examples
    --------
    >>> ds = sms_spam()
    >>> len(ds), ds.counts()
    (5574, {'ham': 4827, 'spam': 747})
    """
    return parse_uci(read_sms_spam_bytes().decode("utf-8"), "sms_spam")
