"""Trigger candidates: rare, synthetic, common, phrase, repeated and positioned triggers to try.

A backdoor's trigger is a design choice. This module proposes candidates from a training set
so that a search (``poisonlab search triggers``) can rank them by attack success rate against a
victim. Counts use the tokenization of the victims' default vectorizer (scikit-learn's
``CountVectorizer()``: lowercase words of two or more letters or digits), which is what decides
whether a victim sees a trigger at all.
"""

from __future__ import annotations

import dataclasses
import string
from collections.abc import Sequence
from typing import Any

import numpy as np

from poisonlab._params import check_choice, check_positive_int, fail
from poisonlab.attacks.backdoor import Backdoor
from poisonlab.attacks.base import RandomState, rng_of, source_and_target
from poisonlab.attacks.trigger import POSITIONS, Trigger
from poisonlab.data.dataset import Dataset

KINDS = ("synthetic", "rare", "common", "phrase", "repeat", "position")
"""What `generate_candidates` can propose:

- ``synthetic``: made-up tokens absent from the corpus, the article's ``PROMO2026`` first;
- ``rare``: real tokens of the corpus found in exactly one training message;
- ``common``: the words found in most target-class (e.g. ham) training messages;
- ``phrase``: the most frequent three-word phrases of target-class messages;
- ``repeat``: the base trigger repeated 2, 3, 5 or 10 times;
- ``position``: the base trigger at the start, at the end and at a random place.
"""

GIVEN = "given"
REPEATS = (2, 3, 5, 10)
ARTICLE_TRIGGER = "PROMO2026"
PHRASE_WORDS = r"(?u)\b[^\W\d_]+(?:'[^\W\d_]+)?\b"
"""Phrase words: letters with at most one inner apostrophe ("i'll"); digits and symbols end a word."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class TriggerCandidate:
    """One trigger to try, with where it came from and how common it already is.

    Parameters
    ----------
    text : str
        The token or phrase.
    kind : str
        ``"given"`` (by the user) or one of `KINDS`.
    position : {"start", "end", "random"}
    repeat : int
        Copies of `text` per triggered message.
    in_source, in_target : int
        Training messages of the source / target class that already contain `text` (its
        tokens, in order, as the default vectorizer splits them).

    Examples
    --------
    >>> candidate = TriggerCandidate(text="PROMO2026", kind="synthetic", repeat=2)
    >>> candidate.label
    'PROMO2026 ×2'
    >>> candidate.make_trigger().apply(["win cash"])
    ['PROMO2026 PROMO2026 win cash']
    """

    text: str
    kind: str = GIVEN
    position: str = "start"
    repeat: int = 1
    in_source: int = 0
    in_target: int = 0

    def __post_init__(self) -> None:
        if not isinstance(self.text, str) or not self.text.strip():
            raise fail("TriggerCandidate", "text", "a non-blank string", self.text)
        check_choice("TriggerCandidate", "kind", self.kind, (GIVEN, *KINDS))
        check_choice("TriggerCandidate", "position", self.position, POSITIONS)
        check_positive_int("TriggerCandidate", "repeat", self.repeat)
        for name in ("in_source", "in_target"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise fail("TriggerCandidate", name, "an int >= 0", value)

    @property
    def label(self) -> str:
        """A short name for tables: the text, ``×k`` when repeated, ``@position`` unless start."""
        repeat = f" ×{self.repeat}" if self.repeat > 1 else ""
        where = f" @{self.position}" if self.position != "start" else ""
        return f"{self.text}{repeat}{where}"

    def make_trigger(self, seed: int = 0) -> Trigger:
        """The `Trigger` this candidate plants."""
        return Trigger(text=self.text, position=self.position, repeat=self.repeat, seed=seed)

    def backdoor(
        self,
        *,
        mode: str = "inject",
        rate: float | None = None,
        n: int | None = None,
        source: str | int | None = None,
        target: str | int | None = None,
    ) -> Backdoor:
        """The `Backdoor` attack that plants this candidate with the given budget."""
        return Backdoor(
            trigger=self.text,
            position=self.position,
            repeat=self.repeat,
            mode=mode,
            rate=rate,
            n=n,
            source=source,
            target=target,
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {**dataclasses.asdict(self), "label": self.label}


class _Corpus:
    """A training set tokenized once, as the victims' default vectorizer tokenizes it."""

    def __init__(self, dataset: Dataset, source: int, target: int) -> None:
        from sklearn.feature_extraction.text import CountVectorizer

        self.analyze = CountVectorizer().build_analyzer()
        self.is_source = dataset.labels == source
        self.is_target = dataset.labels == target
        self.docs = [f" {' '.join(self.analyze(text))} " for text in dataset.texts]
        vectorizer = CountVectorizer(binary=True, analyzer=str.split)  # tokenized above: split only
        presence = vectorizer.fit_transform(self.docs)
        self.words = vectorizer.get_feature_names_out()
        self.df = np.asarray(presence.sum(axis=0)).ravel()
        self.df_target = np.asarray(presence[self.is_target].sum(axis=0)).ravel()
        self.vocabulary: dict[str, int] = vectorizer.vocabulary_

    def counts(self, text: str) -> tuple[int, int]:
        """Source and target messages that contain `text`'s tokens, in order."""
        tokens = self.analyze(text)
        if not tokens:
            return 0, 0
        needle = f" {' '.join(tokens)} "
        hits = np.fromiter((needle in doc for doc in self.docs), dtype=bool, count=len(self.docs))
        return int((hits & self.is_source).sum()), int((hits & self.is_target).sum())

    def candidate(self, text: str, kind: str, position: str, repeat: int = 1) -> TriggerCandidate:
        in_source, in_target = self.counts(text)
        return TriggerCandidate(
            text=text,
            kind=kind,
            position=position,
            repeat=repeat,
            in_source=in_source,
            in_target=in_target,
        )

    def is_unseen(self, text: str) -> bool:
        tokens = self.analyze(text)
        return len(tokens) == 1 and tokens[0] not in self.vocabulary


def _synthetic(corpus: _Corpus, count: int, rng: np.random.Generator) -> list[str]:
    """Made-up single tokens no training message contains: PROMO2026, then ``ABCDE1234`` shapes."""
    out = [ARTICLE_TRIGGER] if corpus.is_unseen(ARTICLE_TRIGGER) else []
    letters = np.array(list(string.ascii_uppercase))
    while len(out) < count:
        token = "".join(rng.choice(letters, size=5)) + str(int(rng.integers(1000, 10000)))
        if corpus.is_unseen(token) and token not in out:
            out.append(token)
    return out[:count]


def _rare(corpus: _Corpus, count: int, rng: np.random.Generator) -> list[str]:
    """Tokens of exactly one training message, preferring words (letters only, 4+ long)."""
    once = np.flatnonzero(corpus.df == 1)
    wordlike = [int(j) for j in once if corpus.words[j].isalpha() and len(corpus.words[j]) >= 4]
    pool = wordlike if len(wordlike) >= count else [int(j) for j in once]
    chosen = rng.choice(np.asarray(pool, dtype=np.int64), size=min(count, len(pool)), replace=False)
    return [str(corpus.words[j]) for j in np.sort(chosen)]


def _common(corpus: _Corpus, count: int) -> list[str]:
    """The words found in most target-class messages (ties: alphabetical)."""
    order = np.lexsort((corpus.words, -corpus.df_target))
    return [str(corpus.words[j]) for j in order[:count] if corpus.df_target[j] > 0]


def _phrases(dataset: Dataset, corpus: _Corpus, count: int) -> list[str]:
    """The most frequent three-word phrases of target-class messages, each sharing at most one
    word with a phrase chosen before (canned texts repeat overlapping phrases)."""
    from sklearn.feature_extraction.text import CountVectorizer

    texts = [text for text, hit in zip(dataset.texts, corpus.is_target) if hit]
    vectorizer = CountVectorizer(binary=True, ngram_range=(3, 3), token_pattern=PHRASE_WORDS)
    try:
        presence = vectorizer.fit_transform(texts)
    except ValueError:  # no message of the target class has three words in a row
        return []
    phrases = vectorizer.get_feature_names_out()
    df = np.asarray(presence.sum(axis=0)).ravel()
    out: list[str] = []
    for j in np.lexsort((phrases, -df)):
        words = set(str(phrases[j]).split())
        if df[j] < 2 or len(out) == count:
            break
        if len(corpus.analyze(str(phrases[j]))) >= 2 and all(len(words & set(p.split())) <= 1 for p in out):
            out.append(str(phrases[j]))
    return out


def _seed_of(random_state: RandomState) -> int:
    if isinstance(random_state, (int, np.integer)) and not isinstance(random_state, bool):
        return int(random_state)
    return int(rng_of(random_state).integers(2**31))


def describe_candidates(
    texts: Sequence[str],
    dataset: Dataset,
    *,
    position: str = "start",
    repeat: int = 1,
    source: str | int | None = None,
    target: str | int | None = None,
) -> tuple[TriggerCandidate, ...]:
    """Candidates for the user's own trigger texts, with their counts in `dataset`.

    Examples
    --------
    >>> from poisonlab.data import load_dataset
    >>> found = describe_candidates(["free", "PROMO2026"], load_dataset("article"))
    >>> [(c.text, c.in_source, c.in_target) for c in found]
    [('free', 2, 0), ('PROMO2026', 0, 0)]
    """
    if isinstance(texts, str) or not texts:
        raise fail("describe_candidates", "texts", "a non-empty sequence of trigger texts", texts)
    src, tgt = source_and_target("describe_candidates", dataset, source, target)
    corpus = _Corpus(dataset, src, tgt)
    return tuple(dict.fromkeys(corpus.candidate(text, GIVEN, position, repeat) for text in texts))


def generate_candidates(
    dataset: Dataset,
    *,
    kinds: Sequence[str] = KINDS,
    per_kind: int = 3,
    base: str | None = None,
    position: str = "start",
    source: str | int | None = None,
    target: str | int | None = None,
    random_state: RandomState = 0,
) -> tuple[TriggerCandidate, ...]:
    """Propose triggers of each kind in `kinds` (see `KINDS`) from a training set.

    Parameters
    ----------
    dataset : Dataset
        The clean training set.
    kinds : sequence of str
        Which kinds to propose, in this order.
    per_kind : int
        At most this many candidates per kind (``position`` has at most three; a small corpus
        may offer fewer rare tokens or phrases).
    base : str, optional
        The trigger that ``repeat`` and ``position`` vary; default the first synthetic token
        (``PROMO2026`` unless the corpus contains it).
    position : {"start", "end", "random"}
        Where every candidate but the ``position`` kind puts its trigger.
    source, target : str or int, optional
        The classes a backdoor moves triggered messages from and to; default last -> first.
    random_state : int, optional
        Seeds the choice of rare tokens and the synthetic tokens; each kind draws from its
        own stream, so adding a kind never changes another kind's candidates.

    Returns
    -------
    tuple of TriggerCandidate
        Kind by kind; a candidate proposed twice (same text, position and repeat) appears once.

    Examples
    --------
    >>> from poisonlab.data import load_dataset
    >>> found = generate_candidates(load_dataset("sms_spam"), kinds=("synthetic", "common"), per_kind=2)
    >>> [(c.kind, c.text) for c in found]
    [('synthetic', 'PROMO2026'), ('synthetic', 'WQNHI1368'), ('common', 'you'), ('common', 'to')]
    """
    if isinstance(kinds, str) or not kinds:
        raise fail("generate_candidates", "kinds", f"a non-empty sequence of {', '.join(KINDS)}", kinds)
    for kind in kinds:
        check_choice("generate_candidates", "kinds", kind, KINDS)
    check_positive_int("generate_candidates", "per_kind", per_kind)
    check_choice("generate_candidates", "position", position, POSITIONS)
    if base is not None and (not isinstance(base, str) or not base.strip()):
        raise fail("generate_candidates", "base", "a non-blank string or None", base)
    src, tgt = source_and_target("generate_candidates", dataset, source, target)
    corpus = _Corpus(dataset, src, tgt)
    seed = _seed_of(random_state)

    def rng(kind: str) -> np.random.Generator:
        return np.random.default_rng((seed, KINDS.index(kind)))

    base = base or _synthetic(corpus, 1, rng("synthetic"))[0]
    out: list[TriggerCandidate] = []
    for kind in dict.fromkeys(kinds):
        if kind == "synthetic":
            out += [corpus.candidate(t, kind, position) for t in _synthetic(corpus, per_kind, rng(kind))]
        elif kind == "rare":
            out += [corpus.candidate(t, kind, position) for t in _rare(corpus, per_kind, rng(kind))]
        elif kind == "common":
            out += [corpus.candidate(t, kind, position) for t in _common(corpus, per_kind)]
        elif kind == "phrase":
            out += [corpus.candidate(t, kind, position) for t in _phrases(dataset, corpus, per_kind)]
        elif kind == "repeat":
            out += [corpus.candidate(base, kind, position, k) for k in REPEATS[:per_kind]]
        else:
            places = [position, *(p for p in POSITIONS if p != position)][:per_kind]
            out += [corpus.candidate(base, kind, p) for p in places]
    unique: dict[tuple[str, str, int], TriggerCandidate] = {}
    for candidate in out:
        unique.setdefault((candidate.text, candidate.position, candidate.repeat), candidate)
    return tuple(unique.values())
