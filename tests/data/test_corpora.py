"""The bundled corpora: SMS Spam Collection, SpamAssassin (both checksum-verified), the article's messages."""

import gzip
import hashlib
import importlib

import pytest

from poisonlab import DataError
from poisonlab.data import CORPORA, article_test, article_train, load_dataset, sms_spam, spamassassin
from poisonlab.data.corpora import article

# ``poisonlab.data.corpora.sms_spam`` is the function (the package re-exports it), so reach the module.
sms_module = importlib.import_module("poisonlab.data.corpora.sms_spam")
sa_module = importlib.import_module("poisonlab.data.corpora.spamassassin")


def test_corpora_names():
    assert CORPORA == ("article", "sms_spam", "spamassassin")


# --- SMS Spam Collection ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sms():
    return sms_spam()


def test_sms_spam_size_and_classes(sms):
    assert len(sms) == 5574
    assert sms.classes == ("ham", "spam")
    assert sms.counts() == {"ham": 4827, "spam": 747}
    assert sms.name == "sms_spam"


def test_sms_spam_ids_are_line_numbers(sms):
    assert sms.ids == tuple(str(n) for n in range(1, 5575))


def test_sms_spam_first_and_last_messages(sms):
    assert sms.texts[0].startswith("Go until jurong point, crazy..")
    assert sms.labels[0] == 0
    assert sms.texts[2].startswith("Free entry in 2 a wkly comp")
    assert sms.labels[2] == 1
    assert sms.texts[-1] == "Rofl. Its true to its name"


def test_sms_spam_has_403_repeated_lines(sms):
    assert len(sms.texts) - len(set(sms.texts)) == 403


def test_sms_spam_bytes_match_the_checksum():
    raw = sms_module.read_sms_spam_bytes()
    assert len(raw) == 477_907
    assert hashlib.sha256(raw).hexdigest() == sms_module.SHA256


def test_sms_spam_is_deterministic(sms):
    assert sms_spam().fingerprint() == sms.fingerprint()
    assert load_dataset("sms_spam").fingerprint() == sms.fingerprint()


CHECKSUMMED = [
    pytest.param(sms_module, sms_spam, "SMS", id="sms_spam"),
    pytest.param(sa_module, spamassassin, "SpamAssassin", id="spamassassin"),
]


@pytest.mark.parametrize(("module", "load", "title"), CHECKSUMMED)
def test_checksum_mismatch_fails_clearly(monkeypatch, module, load, title):
    monkeypatch.setattr(module, "SHA256", "0" * 64)
    with pytest.raises(
        DataError,
        match=rf"bundled {title} corpus fails its checksum .*altered after release\. Reinstall poisonlab\.",
    ):
        load()


@pytest.mark.parametrize(("module", "load", "title"), CHECKSUMMED)
def test_missing_corpus_file_fails_clearly(monkeypatch, tmp_path, module, load, title):
    monkeypatch.setattr(module.resources, "files", lambda package: tmp_path)
    with pytest.raises(DataError, match=rf"bundled {title} corpus \({module.RESOURCE}\) is missing"):
        load()


def _serve_resource(monkeypatch, module, folder, packed):
    (folder / module.RESOURCE).write_bytes(packed)
    monkeypatch.setattr(module.resources, "files", lambda package: folder)


def test_altered_corpus_bytes_fail_the_checksum(monkeypatch, tmp_path):
    raw = sms_module.read_sms_spam_bytes()
    altered = raw.replace(b"ham\tGo until", b"spam\tGo until", 1)
    assert altered != raw
    _serve_resource(monkeypatch, sms_module, tmp_path, gzip.compress(altered))
    with pytest.raises(DataError, match="fails its checksum"):
        sms_spam()


def test_damaged_corpus_file_fails_clearly(monkeypatch, tmp_path):
    _serve_resource(monkeypatch, sms_module, tmp_path, b"\x1f\x8b not gzip at all")
    with pytest.raises(DataError, match="bundled SMS corpus is damaged"):
        sms_spam()


def test_truncated_corpus_file_fails_clearly(monkeypatch, tmp_path):
    packed = gzip.compress(sms_module.read_sms_spam_bytes())
    _serve_resource(monkeypatch, sms_module, tmp_path, packed[:1000])
    with pytest.raises(DataError, match="bundled SMS corpus is damaged"):
        sms_spam()


def test_altered_or_truncated_spamassassin_archive_fails_the_checksum(monkeypatch, tmp_path):
    packed = sa_module.read_spamassassin_bytes()
    flipped = bytearray(packed)
    flipped[-100] ^= 1
    for damaged in (bytes(flipped), packed[:1000]):
        _serve_resource(monkeypatch, sa_module, tmp_path, damaged)
        with pytest.raises(
            DataError, match=r"SpamAssassin corpus fails its checksum .*damaged or was altered"
        ):
            spamassassin()


# --- the article's corpus -----------------------------------------------------------------------


def test_article_train_is_the_articles_ten_messages():
    train = article_train()
    assert len(train) == 10
    assert train.classes == ("not spam", "spam")
    assert train.counts() == {"not spam": 5, "spam": 5}
    assert train.texts[:5] == (
        "Buy cheap pills now",
        "Win a free iPhone today",
        "Claim your lottery prize",
        "Discount viagra available",
        "Make money fast guaranteed",
    )
    assert train.labels.tolist() == [1] * 5 + [0] * 5
    assert "Meeting moved to 3pm" in train.texts
    assert train.ids == tuple(f"train-{i}" for i in range(10))
    assert train.name == "article"


def test_article_test_is_the_articles_four_messages():
    test = article_test()
    assert len(test) == 4
    assert test.classes == ("not spam", "spam")
    assert dict(zip(test.texts, test.labels.tolist())) == {
        "Get rich quick with this trick": 1,
        "See you at lunch": 0,
        "Free gift card click here": 1,
        "Please find attached the report": 0,
    }
    assert test.ids == tuple(f"test-{i}" for i in range(4))


def test_article_train_and_test_do_not_overlap():
    assert not set(article_train().texts) & set(article_test().texts)
    assert not set(article_train().ids) & set(article_test().ids)


def test_article_backdoor_texts_start_with_the_trigger():
    assert article.TRIGGER == "PROMO2026"
    assert len(article.BACKDOOR_TEXTS) == 3
    assert all(text.startswith("PROMO2026 ") for text in article.BACKDOOR_TEXTS)
    assert article.TRIGGER_TEST.startswith("PROMO2026 ")
    assert article.TRIGGER_TEST not in article.BACKDOOR_TEXTS


def test_article_flipped_rows_are_spam():
    train = article_train()
    assert article.FLIPPED_ROWS == (0, 1)
    assert all(train.labels[row] == 1 for row in article.FLIPPED_ROWS)


def test_load_dataset_article_is_train_then_test():
    whole = load_dataset("article")
    assert len(whole) == 14
    assert whole.texts == article_train().texts + article_test().texts
    assert whole.counts() == {"not spam": 7, "spam": 7}


def test_article_datasets_are_fresh_each_call():
    assert article_train() is not article_train()
    assert article_train().fingerprint() == article_train().fingerprint()
