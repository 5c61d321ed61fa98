"""Corpora that ship inside the package: ``article``, ``sms_spam`` and ``spamassassin``."""

from __future__ import annotations

from poisonlab.data.corpora.article import article_test, article_train
from poisonlab.data.corpora.sms_spam import sms_spam
from poisonlab.data.corpora.spamassassin import spamassassin

CORPORA = ("article", "sms_spam", "spamassassin")

__all__ = ["CORPORA", "article_test", "article_train", "sms_spam", "spamassassin"]
