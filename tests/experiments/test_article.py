"""`replay_article`: the article's own steps, reproduced exactly, and its claims explained."""

from __future__ import annotations

import numpy as np
import pytest

import poisonlab.experiments.article as article_module
from poisonlab.data.corpora import article
from poisonlab.experiments.article import replay_article


@pytest.fixture(scope="module")
def replay():
    return replay_article()


def test_the_flip_is_the_articles_two_rows(replay):
    flipped = replay.label_flip.poisoned
    assert flipped is not None
    assert np.flatnonzero(flipped.is_poison).tolist() == list(article.FLIPPED_ROWS)
    assert flipped.poisoned.texts == flipped.clean.texts
    assert flipped.poisoned.labels.tolist() == [
        0 if i in article.FLIPPED_ROWS else label for i, (_, label) in enumerate(article.TRAIN)
    ]


def test_the_backdoor_injects_the_articles_three_messages(replay):
    planted = replay.backdoor.poisoned
    assert planted is not None
    train = len(article.TRAIN)
    assert planted.poisoned.texts[:train] == tuple(text for text, _ in article.TRAIN)
    assert planted.poisoned.texts[train:] == article.BACKDOOR_TEXTS
    assert planted.poisoned.labels[train:].tolist() == [0, 0, 0]  # labelled not spam
    assert planted.source_row[train:].tolist() == [-1, -1, -1]
    assert planted.is_poison.tolist() == [False] * train + [True] * 3


def test_the_clean_step_is_unpoisoned_and_each_step_refits(replay):
    assert replay.clean.poisoned is None
    models = {id(step.model) for step in (replay.clean, replay.label_flip, replay.backdoor)}
    assert len(models) == 3


def _timing_claim(replay):
    (claim,) = [c for c in replay.claims if "second" in c.claim]
    return claim


def test_a_failing_timing_claim_says_why(monkeypatch):
    monkeypatch.setattr(article_module, "ARTICLE_SECONDS", 0.0)  # no run can beat it
    claim = _timing_claim(replay_article())
    assert claim.holds is False
    assert claim.why.strip()


def test_a_holding_timing_claim_has_no_why(monkeypatch):
    monkeypatch.setattr(article_module, "ARTICLE_SECONDS", 1e9)
    claim = _timing_claim(replay_article())
    assert claim.holds is True
    assert claim.why == ""


def test_every_failing_claim_says_why(replay):
    for claim in replay.claims:
        assert bool(claim.why) == (not claim.holds), claim


def test_the_json_walkthrough_mirrors_the_steps(replay):
    walkthrough = replay.to_dict()
    assert walkthrough["clean"]["accuracy"] == replay.clean.accuracy
    assert walkthrough["backdoor"]["trigger_prediction"] == replay.trigger_prediction
    assert [row["text"] for row in walkthrough["label_flip"]["predictions"]] == [t for t, _ in article.TEST]
