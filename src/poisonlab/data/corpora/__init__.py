"""Corpora that ship inside the package: ``article`` and ``sms_spam``."""

from __future__ import annotations

from poisonlab.data.corpora.article import article_test, article_train
from poisonlab.data.corpora.sms_spam import sms_spam

CORPORA = ("article", "sms_spam")

__all__ = ["CORPORA", "article_test", "article_train", "sms_spam"]
