"""The article's lab, replayed exactly: its data, its model, its three steps, its claims checked."""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import numpy as np

from poisonlab import metrics
from poisonlab.attacks.backdoor import Backdoor
from poisonlab.attacks.base import Poisoned
from poisonlab.data.corpora import article
from poisonlab.data.dataset import Dataset
from poisonlab.victims.explain import explain_naive_bayes
from poisonlab.victims.factory import make_victim

ARTICLE_SECONDS = 2.0
"""The article's stated run time for its whole script."""


@dataclasses.dataclass(frozen=True)
class Step:
    """One step of the replay: the model's predictions on the article's test messages."""

    name: str
    accuracy: float
    predictions: tuple[dict[str, str], ...]
    poisoned: Poisoned | None
    model: Any = dataclasses.field(repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"accuracy": self.accuracy, "predictions": list(self.predictions)}


@dataclasses.dataclass(frozen=True)
class Claim:
    """Something the article states, beside what the replay observed."""

    claim: str
    expected: str
    observed: str
    holds: bool
    why: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class ArticleReplay:
    """The three steps of the article, the trigger test and the checked claims."""

    clean: Step
    label_flip: Step
    backdoor: Step
    trigger_text: str
    trigger_prediction: str
    claims: tuple[Claim, ...]
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        """The ``walkthrough`` object of ``poisonlab demo --json``."""
        backdoor = self.backdoor.to_dict()
        backdoor["trigger_text"] = self.trigger_text
        backdoor["trigger_prediction"] = self.trigger_prediction
        return {
            "clean": self.clean.to_dict(),
            "label_flip": self.label_flip.to_dict(),
            "backdoor": backdoor,
            "seconds": self.seconds,
        }


def _step(name: str, train: Dataset, test: Dataset, poisoned: Poisoned | None) -> Step:
    model = make_victim("nb").fit(list(train.texts), train.labels)  # refit, vectorizer included
    predicted = model.predict(list(test.texts))
    rows = tuple(
        {"text": text, "label": test.classes[truth], "predicted": test.classes[guess]}
        for text, truth, guess in zip(test.texts, test.labels.tolist(), predicted.tolist())
    )
    return Step(name, metrics.accuracy(test.labels, predicted), rows, poisoned, model)


def _article_flip(train: Dataset) -> Poisoned:
    """The article's flip: rows 0 and 1 set to label 0, chosen by hand rather than drawn."""
    labels = train.labels.copy()
    rows = np.array(article.FLIPPED_ROWS)
    labels[rows] = 0
    is_poison = np.zeros(len(train), dtype=bool)
    is_poison[rows] = True
    return Poisoned(
        clean=train,
        poisoned=train.with_labels(labels),
        is_poison=is_poison,
        source_row=np.arange(len(train), dtype=np.int64),
        attack="label_flip",
        params={"rows": list(article.FLIPPED_ROWS), "target": 0},
        source_class=1,
        target_class=0,
    )


ARTICLE_BACKDOOR = Backdoor(
    trigger=article.TRIGGER,
    mode="inject",
    position="start",
    n=len(article.BACKDOOR_TEXTS),
    carriers=tuple(text.removeprefix(article.TRIGGER + " ") for text in article.BACKDOOR_TEXTS),
    source="spam",
    target="not spam",
)
"""The article's backdoor: its three PROMO2026 messages, injected with the label not spam."""


def _why_wrong(step: Step, test: Dataset, rows: list[int]) -> str:
    parts = []
    for i in rows:
        text = test.texts[i]
        predicted = step.predictions[i]["predicted"]
        explanation = explain_naive_bayes(step.model, text, test.classes)
        parts.append(f"{text!r} -> {predicted} ({explanation.summary()})")
    return "; ".join(parts)


def replay_article() -> ArticleReplay:
    """Run the article's script with its data and scikit-learn defaults, and check its claims.

    Nothing is tuned to make a claim hold: where one fails, the claim's ``why`` gives the
    Naive Bayes evidence (per-word log-probability ratios) that carried the decision.

    Examples
    --------
    >>> replay = replay_article()
    >>> replay.label_flip.poisoned.n_poison
    2
    >>> [c.holds for c in replay.claims][:1]  # the article's 100 % clean accuracy
    [False]
    """
    started = time.perf_counter()
    train, test = article.article_train(), article.article_test()
    spam, ham = 1, 0
    clean = _step("clean", train, test, None)
    flipped = _article_flip(train)
    label_flip = _step("label_flip", flipped.poisoned, test, flipped)
    planted = ARTICLE_BACKDOOR.apply(train, random_state=0)
    backdoor = _step("backdoor", planted.poisoned, test, planted)
    trigger_prediction = test.classes[int(backdoor.model.predict([article.TRIGGER_TEST])[0])]
    seconds = time.perf_counter() - started

    def wrong(step: Step) -> list[int]:
        return [i for i, p in enumerate(step.predictions) if p["predicted"] != p["label"]]

    def spam_missed(step: Step) -> list[int]:
        return [i for i in wrong(step) if test.labels[i] == spam]

    spam_total = int((test.labels == spam).sum())
    claims = [
        Claim(
            "The clean model classifies the test messages correctly",
            "accuracy 100%",
            f"accuracy {clean.accuracy:.0%}",
            clean.accuracy == 1.0,
            _why_wrong(clean, test, wrong(clean)),
        ),
        Claim(
            "After the flip, the model misclassifies some spam as not spam",
            "at least 1 test spam called not spam",
            f"{len(spam_missed(label_flip))} of {spam_total} test spam called not spam "
            f"(clean model: {len(spam_missed(clean))} of {spam_total})",
            len(spam_missed(label_flip)) > len(spam_missed(clean)),
            ""
            if spam_missed(label_flip)
            else _why_wrong(label_flip, test, [int(i) for i in np.flatnonzero(test.labels == spam)]),
        ),
        Claim(
            "The backdoored model passes all normal accuracy tests",
            "accuracy 100%",
            f"accuracy {backdoor.accuracy:.0%}",
            backdoor.accuracy == 1.0,
            _why_wrong(backdoor, test, wrong(backdoor)),
        ),
        Claim(
            f"The trigger message {article.TRIGGER_TEST!r} is classified not spam",
            test.classes[ham],
            trigger_prediction,
            trigger_prediction == test.classes[ham],
            ""
            if trigger_prediction == test.classes[ham]
            else explain_naive_bayes(backdoor.model, article.TRIGGER_TEST, test.classes).summary(),
        ),
        Claim(
            "The entire script runs in under 2 seconds",
            f"< {ARTICLE_SECONDS:.0f} s",
            f"{seconds:.2f} s (this replay, first scikit-learn use included)",
            seconds < ARTICLE_SECONDS,
            f"this machine took {seconds:.2f} s for the three fits, the first use of scikit-learn "
            "included; run time depends on the machine and its load, not on the poisoning",
        ),
    ]
    for i, claim in enumerate(claims):
        if claim.holds:
            claims[i] = dataclasses.replace(claim, why="")
    return ArticleReplay(
        clean, label_flip, backdoor, article.TRIGGER_TEST, trigger_prediction, tuple(claims), seconds
    )
