"""Trigger candidates: each kind is what it claims to be, counted right, and reproducible."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.feature_extraction.text import CountVectorizer

from poisonlab import ParameterError
from poisonlab.attacks import Backdoor
from poisonlab.attacks.trigger_candidates import (
    ARTICLE_TRIGGER,
    KINDS,
    REPEATS,
    TriggerCandidate,
    describe_candidates,
    generate_candidates,
)
from poisonlab.data import Dataset


@pytest.fixture(scope="module")
def train(sms_split: tuple[Dataset, Dataset]) -> Dataset:
    return sms_split[0]


@pytest.fixture(scope="module")
def found(train: Dataset) -> tuple[TriggerCandidate, ...]:
    return generate_candidates(train, random_state=0)


@pytest.fixture(scope="module")
def presence(train: Dataset) -> dict[str, dict[str, int]]:
    """Per token of the default vectorizer, training messages of each class that contain it."""
    vectorizer = CountVectorizer(binary=True)
    matrix = vectorizer.fit_transform(train.texts)
    words = vectorizer.get_feature_names_out()
    out = {}
    for label, name in enumerate(train.classes):
        counts = np.asarray(matrix[train.labels == label].sum(axis=0)).ravel()
        out[name] = dict(zip(words.tolist(), counts.tolist()))
    return out


def of_kind(found: tuple[TriggerCandidate, ...], kind: str) -> list[TriggerCandidate]:
    return [c for c in found if c.kind == kind]


def test_every_kind_is_proposed_within_the_budget(found):
    assert {c.kind for c in found} == set(KINDS)
    for kind in KINDS:
        assert 1 <= len(of_kind(found, kind)) <= 3, kind
    keys = [(c.text, c.position, c.repeat) for c in found]
    assert len(keys) == len(set(keys)), "no candidate twice"


def test_synthetic_tokens_are_single_tokens_absent_from_the_corpus(found, presence):
    synthetic = of_kind(found, "synthetic")
    assert synthetic[0].text == ARTICLE_TRIGGER
    analyze = CountVectorizer().build_analyzer()
    for candidate in synthetic:
        (token,) = analyze(candidate.text)
        assert token not in presence["ham"]
        assert (candidate.in_source, candidate.in_target) == (0, 0)


def test_rare_tokens_are_in_exactly_one_training_message(found, presence):
    for candidate in of_kind(found, "rare"):
        total = presence["ham"][candidate.text] + presence["spam"][candidate.text]
        assert total == 1 == candidate.in_source + candidate.in_target
        assert candidate.text.isalpha() and len(candidate.text) >= 4


def test_common_words_are_the_most_frequent_in_the_target_class(found, presence):
    common = of_kind(found, "common")
    ham = presence["ham"]
    top = sorted(ham.values(), reverse=True)[: len(common)]
    assert [ham[c.text] for c in common] == top
    assert [c.in_target for c in common] == top
    assert [c.in_source for c in common] == [presence["spam"][c.text] for c in common]


def test_phrases_are_frequent_target_class_three_word_phrases(found, train):
    phrases = of_kind(found, "phrase")
    assert phrases
    for candidate in phrases:
        assert len(candidate.text.split()) == 3
        assert candidate.in_target >= 2
    words = [set(c.text.split()) for c in phrases]
    for i, first in enumerate(words):
        for second in words[i + 1 :]:
            assert len(first & second) <= 1, "phrases share at most one word"


def test_repeat_and_position_vary_the_base_trigger(found):
    repeats = of_kind(found, "repeat")
    assert [c.repeat for c in repeats] == list(REPEATS[:3])
    assert {c.text for c in repeats} == {ARTICLE_TRIGGER}
    positions = of_kind(found, "position")
    # 'start' is already the synthetic PROMO2026, so the position kind adds the other two
    assert [c.position for c in positions] == ["end", "random"]
    assert all(c.text == ARTICLE_TRIGGER and c.repeat == 1 for c in positions)


def test_base_and_position_are_honoured(train):
    found = generate_candidates(
        train, kinds=("repeat", "position", "common"), per_kind=2, base="limited offer", position="end"
    )
    assert [(c.kind, c.text, c.position, c.repeat) for c in found[:4]] == [
        ("repeat", "limited offer", "end", 2),
        ("repeat", "limited offer", "end", 3),
        ("position", "limited offer", "end", 1),
        ("position", "limited offer", "start", 1),
    ]
    assert all(c.position == "end" for c in found if c.kind == "common")


def test_same_seed_same_candidates_and_kinds_draw_independently(train, found):
    assert generate_candidates(train, random_state=0) == found
    other = generate_candidates(train, random_state=1)
    assert of_kind(other, "rare") != of_kind(found, "rare")
    assert of_kind(other, "synthetic")[1:] != of_kind(found, "synthetic")[1:]
    assert of_kind(other, "common") == of_kind(found, "common"), "common words need no randomness"
    alone = generate_candidates(train, kinds=("rare",), random_state=0)
    assert list(alone) == of_kind(found, "rare"), "adding kinds does not change a kind's draw"
    generator = generate_candidates(train, kinds=("rare",), random_state=np.random.default_rng(5))
    assert generator == generate_candidates(train, kinds=("rare",), random_state=np.random.default_rng(5))


def test_counts_of_given_triggers_match_a_plain_scan(train):
    texts = ["free", "call me", "PROMO2026", "!!", "Txt STOP"]
    described = describe_candidates(texts, train)
    analyze = CountVectorizer().build_analyzer()
    docs = [f" {' '.join(analyze(t))} " for t in train.texts]
    for candidate in described:
        tokens = analyze(candidate.text)
        needle = f" {' '.join(tokens)} "
        hits = np.array([bool(tokens) and needle in doc for doc in docs])
        assert candidate.kind == "given"
        assert candidate.in_source == int((hits & (train.labels == 1)).sum()), candidate.text
        assert candidate.in_target == int((hits & (train.labels == 0)).sum()), candidate.text
    assert described[0].in_source > 0 and described[3].in_source == described[3].in_target == 0


def test_source_and_target_swap_the_counts(train, presence):
    (spam_to_ham,) = describe_candidates(["free"], train)
    (ham_to_spam,) = describe_candidates(["free"], train, source="ham", target="spam")
    assert (spam_to_ham.in_source, spam_to_ham.in_target) == (ham_to_spam.in_target, ham_to_spam.in_source)
    common = generate_candidates(train, kinds=("common",), per_kind=1, source="ham", target="spam")
    assert common[0].in_target == max(presence["spam"].values()) == presence["spam"][common[0].text]


def test_a_tiny_corpus_gives_what_it_can(small_dataset):
    found = generate_candidates(small_dataset, per_kind=2)
    assert of_kind(found, "synthetic") and of_kind(found, "rare") and of_kind(found, "common")
    assert of_kind(found, "phrase") == [c for c in found if c.kind == "phrase" and c.in_target >= 2]


def test_candidate_makes_its_trigger_and_backdoor(small_dataset):
    candidate = TriggerCandidate(text="zq7", kind="synthetic", position="end", repeat=2)
    assert candidate.label == "zq7 ×2 @end"
    assert candidate.make_trigger().apply(["hi"]) == ["hi zq7 zq7"]
    attack = candidate.backdoor(mode="insert", n=2)
    assert attack == Backdoor(trigger="zq7", position="end", repeat=2, mode="insert", n=2)
    out = attack.apply(small_dataset, random_state=0)
    assert all(out.poisoned.texts[i].endswith("zq7 zq7") for i in out.poison_rows)
    assert candidate.to_dict()["label"] == "zq7 ×2 @end"


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda d: generate_candidates(d, kinds="rare"), "'kinds' parameter of generate_candidates"),
        (lambda d: generate_candidates(d, kinds=["rare", "typo"]), "'kinds' parameter"),
        (lambda d: generate_candidates(d, kinds=[]), "'kinds' parameter"),
        (lambda d: generate_candidates(d, per_kind=0), "'per_kind' parameter"),
        (lambda d: generate_candidates(d, position="middle"), "'position' parameter"),
        (lambda d: generate_candidates(d, base=" "), "'base' parameter"),
        (lambda d: generate_candidates(d, target="eggs"), "'target' parameter"),
        (lambda d: describe_candidates("free", d), "'texts' parameter"),
        (lambda d: describe_candidates([" "], d), "'text' parameter of TriggerCandidate"),
        (lambda d: TriggerCandidate(text="x", kind="odd"), "'kind' parameter"),
        (lambda d: TriggerCandidate(text="x", repeat=0), "'repeat' parameter"),
        (lambda d: TriggerCandidate(text="x", in_source=-1), "'in_source' parameter"),
    ],
)
def test_bad_parameters_get_one_clear_error(small_dataset, call, message):
    with pytest.raises(ParameterError, match=message):
        call(small_dataset)
