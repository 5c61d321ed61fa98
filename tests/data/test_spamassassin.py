"""The bundled SpamAssassin corpus: counts, stable ids, texts free of markup (checksum: test_corpora.py)."""

from __future__ import annotations

import collections
import hashlib
import importlib
import io
import re
import shutil
import tarfile

import pytest

from poisonlab.data import CORPORA, load_dataset, load_email, load_train_test, spamassassin
from poisonlab.data.manifest import describe_source

# ``poisonlab.data.corpora.spamassassin`` is the function (the package re-exports it), so reach the module.
sa_module = importlib.import_module("poisonlab.data.corpora.spamassassin")

MARKUP = re.compile(
    r"(?i)</?(?:td|tr|th|table|font|br|div|span|p|html|body|head|meta|img)\b[^<>]*>"
    r"|&(?:nbsp|amp|lt|gt|quot|#\d+);|http-equiv|=3D\""
)
"""HTML tags, character references and quoted-printable ``=3D"`` as they appear in raw mail."""

MARKUP_TOKENS = ("td", "tr", "nbsp", "font", "br", "equiv")


@pytest.fixture(scope="module")
def corpus():
    return spamassassin()


def test_spamassassin_is_a_bundled_corpus():
    assert "spamassassin" in CORPORA


def test_counts_classes_and_groups(corpus):
    assert len(corpus) == 6046
    assert corpus.classes == ("ham", "spam")
    assert corpus.counts() == {"ham": 4150, "spam": 1896}
    assert corpus.name == "spamassassin"
    groups = collections.Counter(
        (row_id.split("/")[0], corpus.classes[label]) for row_id, label in zip(corpus.ids, corpus.labels)
    )
    assert groups == {
        ("easy-ham-1", "ham"): 2500,
        ("easy-ham-2", "ham"): 1400,
        ("hard-ham-1", "ham"): 250,
        ("spam-1", "spam"): 500,
        ("spam-2", "spam"): 1396,
    }


def test_ids_are_unique_stable_member_paths(corpus):
    assert len(set(corpus.ids)) == len(corpus)
    assert all(
        re.fullmatch(r"(easy-ham-[12]|hard-ham-1|spam-[12])/\d{5}\.[0-9a-f]{32}\.txt", i) for i in corpus.ids
    )
    assert list(corpus.ids) == sorted(corpus.ids)
    assert corpus.ids[0] == "easy-ham-1/00001.7c53336b37003a9286aba55d2945844c.txt"
    assert corpus.ids[-1] == "spam-2/01400.b444b69845db2fa0a4693ca04e6ac5c5.txt"
    digest = hashlib.sha256("\n".join(corpus.ids).encode()).hexdigest()
    assert digest == "e9c165d4d0a9782cb9e081294f3c8b81ef560655a3e7a033ca8ef20e60d04f16", digest


def test_first_message_is_subject_blank_line_body(corpus):
    first = corpus.texts[0]
    assert first.startswith("Re: New Sequences Window\n\n")
    assert "Received" not in first and "Delivered-To" not in first  # no header but the subject


def test_every_message_has_text(corpus):
    assert all(text.strip() for text in corpus.texts)


def _raw_bodies() -> list[str]:
    with tarfile.open(fileobj=io.BytesIO(sa_module.read_spamassassin_bytes())) as archive:
        return [
            archive.extractfile(m).read().decode("latin-1").partition("\n\n")[2]
            for m in archive
            if m.isfile()
        ]


def test_no_markup_survives_into_the_texts(corpus):
    raw_hits = sum(len(MARKUP.findall(body)) for body in _raw_bodies())
    assert raw_hits > 50_000  # the check is real: the raw mail is full of markup
    hits = collections.Counter(
        row_id for row_id, text in zip(corpus.ids, corpus.texts) for _ in MARKUP.finditer(text)
    )
    # What is left is markup quoted in prose: a ham thread listing HTML spam clues, a few links.
    assert sum(hits.values()) <= 40, hits.most_common(10)
    tokens = collections.Counter(
        token
        for text in corpus.texts
        for token in re.findall(r"(?u)\b\w\w+\b", text.lower())
        if token in MARKUP_TOKENS
    )
    assert sum(tokens.values()) <= 150, tokens  # 11,856 before HTML in text/plain was converted


def test_no_base64_runs_or_pgp_armour(corpus):
    base64_run = re.compile(r"(?m)^(?:[A-Za-z0-9+/]{40,}={0,2}\n){3,}")
    assert not [i for i, text in zip(corpus.ids, corpus.texts) if base64_run.search(text)]
    assert not [i for i, text in zip(corpus.ids, corpus.texts) if "BEGIN PGP SIGNATURE" in text]


@pytest.mark.parametrize(
    "row_id",
    [
        "spam-2/00028.60393e49c90f750226bee6381eb3e69d.txt",  # MIME parts with no Content-Type header
        "hard-ham-1/00250.c7603b27a45284d12b49adf767b2b6fa.txt",  # an HTML page sent as text/plain
        "spam-2/00069.27497d5d2f92837805b67e2bf31dfc71.txt",  # quoted-printable HTML in lost parts
    ],
)
def test_html_heavy_messages_read_as_text(corpus, row_id):
    text = corpus.texts[corpus.ids.index(row_id)]
    assert not MARKUP.search(text)
    assert not re.search(r"(?i)\b(?:td|nbsp|equiv|3d)\b", text)  # "font" is also a word they use


def test_a_malformed_message_id_is_read(corpus):
    # "Message-ID: <>" made the stdlib's typed header parser raise IndexError.
    assert "spam-2/00357.049b1dd678979ce56f10dfa9632127a3.txt" in corpus.ids


def test_load_dataset_and_the_shared_split(corpus):
    assert load_dataset("spamassassin").fingerprint() == corpus.fingerprint()
    train, test = load_train_test("spamassassin")
    assert len(train) + len(test) == 6046
    assert not set(train.texts) & set(test.texts)  # duplicate-aware: a text is on one side only
    assert round(len(test) / 6046, 2) == 0.2
    again_train, _ = load_train_test("spamassassin")
    assert again_train.ids == train.ids


def test_report_counts_what_was_odd():
    _, report = sa_module.load_spamassassin()
    assert report.messages == 6046 and report.unreadable == 0 and report.unlabelled == 0
    assert report.html_only > 900 and report.charset_fallbacks > 0


def test_manifest_source_is_the_archive():
    source = describe_source("spamassassin")
    assert (source.sha256, source.size) == (sa_module.SHA256, 8_683_121)


def test_an_extracted_copy_loads_the_same_texts_as_email(corpus, tmp_path):
    # The same messages as a folder of .txt files (the corpus as published) give the same texts.
    with tarfile.open(fileobj=io.BytesIO(sa_module.read_spamassassin_bytes())) as archive:
        members = [m for m in archive if m.isfile() and m.name.startswith("spamassassin/hard-ham-1/")]
        for member in members:
            target = tmp_path / "hard-ham-1" / member.name.rsplit("/", 1)[1]
            target.parent.mkdir(exist_ok=True)
            with archive.extractfile(member) as source, target.open("wb") as sink:
                shutil.copyfileobj(source, sink)
    folder, report = load_email(tmp_path, classes=("hard-ham-1", "other"), min_classes=1)
    assert report.messages == len(members) == 250
    texts = dict(zip(corpus.ids, corpus.texts))
    assert [texts[row_id] for row_id in folder.ids] == list(folder.texts)
