"""Train on clean and on poisoned data, and score both models on the same held-out set."""

from __future__ import annotations

import dataclasses
import hashlib
import pickle
import time
from typing import Any

import numpy as np
import numpy.typing as npt

from poisonlab import metrics
from poisonlab.attacks.base import Attack, Poisoned, RandomState
from poisonlab.data.dataset import Dataset
from poisonlab.victims.factory import VictimFactory, VictimLike, as_factory
from poisonlab.victims.token_counts import TokenCounts, is_supported


@dataclasses.dataclass(frozen=True)
class ModelScores:
    """Held-out scores of one model.

    `ham_loss` and `spam_leak` treat the first class as legitimate and the last as spam; they
    are NaN when there are more than two classes.
    """

    accuracy: float
    ham_loss: float
    spam_leak: float
    per_class: dict[str, dict[str, float]]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class BackdoorScores:
    """Attack success on held-out `source`-class messages carrying the trigger.

    ``asr`` counts `eligible` messages (see `metrics.asr_eligible`); ``excluded`` source
    messages are those the clean model already misclassifies once triggered, and
    ``clean_model_asr`` is the share of eligible ones the clean model puts in the target class
    (0 by construction for two classes; kept for multi-class data).
    """

    asr: float
    source: str
    target: str
    n_source: int
    eligible: int
    excluded: int
    triggered_accuracy_clean_model: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class AttackEvaluation:
    """An attack's effect: clean vs poisoned model on the same held-out data."""

    poisoned: Poisoned
    clean: ModelScores
    attacked: ModelScores
    backdoor: BackdoorScores | None
    seconds: float
    clean_predictions: npt.NDArray[np.int64]
    attacked_predictions: npt.NDArray[np.int64]
    clean_model: Any = dataclasses.field(default=None, repr=False)
    attacked_model: Any = dataclasses.field(default=None, repr=False)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (without per-message predictions)."""
        return {
            "attack": self.poisoned.attack,
            "params": self.poisoned.params,
            "n_train": len(self.poisoned.clean),
            "n_poison": self.poisoned.n_poison,
            "poison_share": self.poisoned.poison_share,
            "clean": self.clean.to_dict(),
            "attacked": self.attacked.to_dict(),
            "backdoor": None if self.backdoor is None else self.backdoor.to_dict(),
            "seconds": self.seconds,
        }


def score_predictions(y_true: npt.ArrayLike, y_pred: npt.ArrayLike, classes: tuple[str, ...]) -> ModelScores:
    """All `ModelScores` for one set of predictions.

    Examples
    --------
    >>> score_predictions([0, 1, 1], [0, 1, 0], ("ham", "spam")).spam_leak
    0.5
    """
    binary = len(classes) == 2
    table = metrics.per_class_scores(y_true, y_pred, len(classes))
    return ModelScores(
        accuracy=metrics.accuracy(y_true, y_pred),
        ham_loss=metrics.ham_loss(y_true, y_pred) if binary else float("nan"),
        spam_leak=metrics.spam_leak(y_true, y_pred) if binary else float("nan"),
        per_class={
            name: {"precision": float(p), "recall": float(r), "f1": float(f)}
            for name, (p, r, f) in zip(classes, table)
        },
    )


def _settings_key(vectorizer: Any) -> object:
    """Equal only for vectorizers with the same settings.

    Not ``repr``: scikit-learn's repr shortens long parameters (a stop-word or vocabulary list
    past 30 items), so two different vectorizers could share one. An unpicklable vectorizer
    (a lambda tokenizer) gets a key of its own, so it is never shared: slower, never wrong.
    """
    try:
        return pickle.dumps(vectorizer)
    except Exception:  # pickling raises many types (PicklingError, AttributeError, TypeError)
        return ("unshared", id(vectorizer))


class FitCache:
    """Fits and runs victims, tokenizing each distinct text once.

    A Pipeline's vectorizer sees only the texts, so training sets with the same texts and
    different labels (a label flip), and victims with the same vectorizer settings, share one
    fitted vectorizer and one feature matrix. A training set with other texts (a backdoor, an
    injection) is not tokenized again either: a `TokenCounts` per vectorizer setting keeps every
    text's token counts and builds the refit's vocabulary and matrices from them. The models are
    identical to fitting each whole Pipeline again; only repeated work is skipped. Texts are
    keyed by identity, so keep the tuples (``Dataset.texts``) alive while the cache is used.
    """

    def __init__(self) -> None:
        self._vectorizers: dict[tuple[int, object], Any] = {}
        self._matrices: dict[tuple[int, int], Any] = {}
        self._models: dict[tuple[int, object, str], Any] = {}
        self._token_counts: dict[object, TokenCounts] = {}
        self._counts_of: dict[int, TokenCounts] = {}
        self._keep: list[object] = []

    def token_counts(self, vectorizer: Any) -> TokenCounts | None:
        """The shared `TokenCounts` for `vectorizer`'s settings; None where it cannot be used
        (an unsupported or unpicklable vectorizer: fitted the plain way instead)."""
        settings = _settings_key(vectorizer)
        if isinstance(settings, tuple) or not is_supported(vectorizer):
            return None
        if settings not in self._token_counts:
            self._token_counts[settings] = TokenCounts(vectorizer)
        return self._token_counts[settings]

    def fit(self, factory: VictimFactory, data: Dataset) -> Any:
        """A model from `factory`, fitted on `data`."""
        from sklearn.pipeline import Pipeline

        model = factory()
        model_key = (id(data.texts), _settings_key(model), hashlib.sha1(data.labels.tobytes()).hexdigest())
        if model_key in self._models:  # the same victim on the same data: already fitted
            return self._models[model_key]
        self._keep.append(data.texts)
        if not isinstance(model, Pipeline) or len(model.steps) != 2:
            self._models[model_key] = model.fit(list(data.texts), data.labels)
            return self._models[model_key]
        (vec_name, vectorizer), (_, classifier) = model.steps
        key = (id(data.texts), _settings_key(vectorizer))
        if key not in self._vectorizers:
            self._keep.append(data.texts)
            counts = self.token_counts(vectorizer)
            if counts is None:
                matrix = vectorizer.fit_transform(data.texts)  # one pass: fit() alone re-tokenizes
            else:
                features = counts.fit(data.texts)
                vectorizer, matrix = features.vectorizer, features.matrix
                self._counts_of[id(vectorizer)] = counts
            self._vectorizers[key] = vectorizer
            self._matrices[(id(data.texts), id(vectorizer))] = matrix
        fitted = self._vectorizers[key]
        model.steps[0] = (vec_name, fitted)
        classifier.fit(self.transform(fitted, data.texts), data.labels)
        self._models[model_key] = model
        return model

    def predict(self, model: Any, texts: tuple[str, ...]) -> npt.NDArray[np.int64]:
        """``model.predict(texts)``, reusing the feature matrix when it was made before."""
        from sklearn.pipeline import Pipeline

        if not isinstance(model, Pipeline) or len(model.steps) != 2:
            return np.asarray(model.predict(list(texts)), dtype=np.int64)
        features = self.transform(model.steps[0][1], texts)
        return np.asarray(model.steps[1][1].predict(features), dtype=np.int64)

    def transform(self, vectorizer: Any, texts: tuple[str, ...]) -> Any:
        """``vectorizer.transform(texts)`` for a vectorizer this cache fitted, made once per texts."""
        key = (id(texts), id(vectorizer))
        if key not in self._matrices:
            self._keep.append(texts)
            counts = self._counts_of.get(id(vectorizer))
            if counts is None:
                self._matrices[key] = vectorizer.transform(texts)
            else:
                self._matrices[key] = counts.transform(vectorizer, texts)
        return self._matrices[key]


def evaluate_attack(
    attack: Attack,
    train: Dataset,
    test: Dataset,
    victim: VictimLike = "nb",
    *,
    random_state: RandomState = 0,
    features: str = "count",
    cache: FitCache | None = None,
) -> AttackEvaluation:
    """Poison `train` with `attack`, fit `victim` on clean and poisoned data, score on `test`.

    Examples
    --------
    >>> from poisonlab.attacks import LabelFlip
    >>> from poisonlab.data import load_train_test
    >>> train, test = load_train_test("sms_spam")
    >>> result = evaluate_attack(LabelFlip(strategy="targeted", rate=0.1), train, test, "nb")
    >>> result.attacked.spam_leak > result.clean.spam_leak
    True
    """
    started = time.perf_counter()
    poisoned = attack.apply(train, random_state=random_state)
    seed = random_state if isinstance(random_state, int) else None
    result = evaluate_poisoned(poisoned, test, victim, random_state=seed, features=features, cache=cache)
    return dataclasses.replace(result, seconds=time.perf_counter() - started)


def evaluate_poisoned(
    poisoned: Poisoned,
    test: Dataset,
    victim: VictimLike = "nb",
    *,
    random_state: int | None = 0,
    features: str = "count",
    cache: FitCache | None = None,
) -> AttackEvaluation:
    """Fit `victim` on ``poisoned.clean`` and ``poisoned.poisoned``; score both on `test`."""
    started = time.perf_counter()
    factory = as_factory(victim, features=features, random_state=random_state)
    cache = cache or FitCache()
    train = poisoned.clean
    clean_model = cache.fit(factory, train)
    attacked_model = cache.fit(factory, poisoned.poisoned)
    clean_pred = cache.predict(clean_model, test.texts)
    attacked_pred = cache.predict(attacked_model, test.texts)
    backdoor = None
    if poisoned.trigger is not None:
        source = poisoned.source_class if poisoned.source_class is not None else len(train.classes) - 1
        target = poisoned.target_class if poisoned.target_class is not None else 0
        members = np.flatnonzero(test.labels == source)
        triggered = tuple(poisoned.trigger.apply([test.texts[i] for i in members]))
        clean_trig = cache.predict(clean_model, triggered)
        attacked_trig = cache.predict(attacked_model, triggered)
        truth = test.labels[members]
        eligible = metrics.asr_eligible(truth, clean_trig, source=source)
        backdoor = BackdoorScores(
            asr=metrics.attack_success_rate(attacked_trig, eligible, target=target),
            source=train.classes[source],
            target=train.classes[target],
            n_source=int(members.size),
            eligible=int(eligible.sum()),
            excluded=int(members.size - eligible.sum()),
            triggered_accuracy_clean_model=metrics.accuracy(truth, clean_trig),
        )
    return AttackEvaluation(
        poisoned=poisoned,
        clean=score_predictions(test.labels, clean_pred, test.classes),
        attacked=score_predictions(test.labels, attacked_pred, test.classes),
        backdoor=backdoor,
        seconds=time.perf_counter() - started,
        clean_predictions=clean_pred,
        attacked_predictions=attacked_pred,
        clean_model=clean_model,
        attacked_model=attacked_model,
    )
