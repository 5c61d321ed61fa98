"""Running one sweep cell: poison, train undefended and defended, score, detect."""

from __future__ import annotations

import hashlib
import time
from typing import Any

import numpy as np
import numpy.typing as npt

from poisonlab import metrics
from poisonlab.attacks.base import Poisoned
from poisonlab.data.dataset import Dataset
from poisonlab.experiments.evaluate import FitCache, evaluate_poisoned, score_predictions
from poisonlab.experiments.spec import NO_DEFENSE, Cell

CURVE_POINTS = 50
"""ROC and precision-recall curves are stored with at most this many points."""

_SPLITS: dict[tuple[str, int], tuple[Dataset, Dataset]] = {}
_CACHES: dict[tuple[str, int], FitCache] = {}
_FINGERPRINTS: dict[tuple[str, int], str] = {}


def load_cell_data(data: str, split_seed: int) -> tuple[Dataset, Dataset]:
    """The train/test split of a cell's data, loaded once per process."""
    from poisonlab.data import load_train_test

    key = (data, split_seed)
    if key not in _SPLITS:
        _SPLITS[key] = load_train_test(data, split_seed=split_seed)
        _CACHES[key] = FitCache()
    return _SPLITS[key]


def data_fingerprint(data: str, split_seed: int) -> str:
    """SHA-256 over the train and test fingerprints of a cell's data: what the results depend on."""
    key = (data, split_seed)
    if key not in _FINGERPRINTS:
        train, test = load_cell_data(data, split_seed)
        _FINGERPRINTS[key] = hashlib.sha256(
            f"{train.fingerprint()}:{test.fingerprint()}".encode()
        ).hexdigest()
    return _FINGERPRINTS[key]


def _params(component: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in component.items() if k != "name"}


def _thin(values: npt.NDArray[np.float64]) -> list[float]:
    index = np.unique(np.linspace(0, values.size - 1, min(values.size, CURVE_POINTS)).round().astype(int))
    return [round(float(v), 6) for v in values[index]]


def detector_scores(scores: npt.NDArray[np.float64], is_poison: npt.NDArray[np.bool_]) -> dict[str, Any]:
    """AUROC, average precision, precision/recall when flagging as many rows as there is poison,
    and thinned ROC and precision-recall curves."""
    from sklearn.metrics import average_precision_score, precision_recall_curve, roc_auc_score, roc_curve

    if is_poison.all() or not is_poison.any():
        return {"auroc": float("nan"), "average_precision": float("nan")}
    order = np.argsort(-scores, kind="stable")
    flagged = np.zeros(scores.size, dtype=bool)
    flagged[order[: int(is_poison.sum())]] = True
    true_positives = int((flagged & is_poison).sum())
    fpr, tpr, _ = roc_curve(is_poison, scores)
    precision, recall, _ = precision_recall_curve(is_poison, scores)
    return {
        "auroc": float(roc_auc_score(is_poison, scores)),
        "average_precision": float(average_precision_score(is_poison, scores)),
        "precision_at_budget": true_positives / max(int(flagged.sum()), 1),
        "recall_at_budget": true_positives / int(is_poison.sum()),
        "roc": {"fpr": _thin(fpr), "tpr": _thin(tpr)},
        "pr": {"precision": _thin(precision[::-1]), "recall": _thin(recall[::-1])},
    }


def _defended_scores(
    cell: Cell, poisoned: Poisoned, test: Dataset, clean_triggered: npt.NDArray[np.int64] | None
) -> tuple[dict[str, Any], dict[str, Any]]:
    from poisonlab.defenses import DEFENSES

    defense = DEFENSES.get(cell.defense["name"])(**_params(cell.defense))
    defended = defense.fit(poisoned.poisoned, cell.victim["name"], random_state=cell.seed)
    predictions = defended.predict(test.texts)
    scores: dict[str, Any] = score_predictions(test.labels, predictions, test.classes).to_dict()
    if poisoned.trigger is not None and clean_triggered is not None:
        source, target = poisoned.source_class, poisoned.target_class
        assert source is not None and target is not None
        members = np.flatnonzero(test.labels == source)
        triggered = defended.predict(poisoned.trigger.apply([test.texts[i] for i in members]))
        eligible = metrics.asr_eligible(test.labels[members], clean_triggered, source=source)
        scores["asr"] = metrics.attack_success_rate(triggered, eligible, target=target)
    info: dict[str, Any] = {
        "removed": None if defended.removed is None else int(defended.removed.sum()),
        "removed_poison": None
        if defended.removed is None
        else int((defended.removed & poisoned.is_poison).sum()),
        **defended.info,
    }
    if hasattr(defended.model, "certify"):  # partition aggregation: certified accuracy by radius
        from poisonlab.defenses.partition_aggregation import certified_accuracy_curve

        certificate = defended.model.certify(test.texts)
        curve = certified_accuracy_curve(test.labels, certificate.predictions, certificate.radii)
        info["certified_accuracy"] = {str(r): float(v) for r, v in enumerate(curve)}
    return scores, info


def run_cell(cell: Cell) -> dict[str, Any]:
    """Run one cell and return its JSON-ready result: metrics, timings and the data fingerprint.

    Examples
    --------
    >>> from poisonlab.experiments.spec import Cell
    >>> cell = Cell("article", 2026, {"name": "nb"}, {"name": "label_flip", "n": 2}, {"name": "none"}, (), 0)
    >>> result = run_cell(cell)
    >>> result["metrics"]["n_poison"], result["metrics"]["clean"]["accuracy"]
    (2, 0.75)
    """
    from poisonlab.attacks import ATTACKS

    timings: dict[str, float] = {}
    started = time.perf_counter()
    train, test = load_cell_data(cell.data, cell.split_seed)
    cache = _CACHES[(cell.data, cell.split_seed)]
    attack = ATTACKS.get(cell.attack["name"])(**_params(cell.attack))
    poisoned = attack.apply(train, random_state=cell.seed)
    timings["attack"] = time.perf_counter() - started
    mark = time.perf_counter()
    features = cell.victim.get("features", "count")
    result = evaluate_poisoned(
        poisoned, test, cell.victim["name"], random_state=cell.seed, features=features, cache=cache
    )
    timings["train_and_score"] = time.perf_counter() - mark
    measured: dict[str, Any] = {
        "n_train": len(train),
        "n_test": len(test),
        "n_poison": poisoned.n_poison,
        "poison_share": poisoned.poison_share,
        "clean": result.clean.to_dict(),
        "attacked": result.attacked.to_dict(),
    }
    clean_triggered = None
    if result.backdoor is not None:
        measured["backdoor"] = result.backdoor.to_dict()
        measured["attacked"]["asr"] = result.backdoor.asr
        assert poisoned.trigger is not None and poisoned.source_class is not None
        members = np.flatnonzero(test.labels == poisoned.source_class)
        clean_triggered = cache.predict(
            result.clean_model, tuple(poisoned.trigger.apply([test.texts[i] for i in members]))
        )
    if cell.defense["name"] != NO_DEFENSE:
        mark = time.perf_counter()
        measured["defended"], measured["defense_info"] = _defended_scores(
            cell, poisoned, test, clean_triggered
        )
        timings["defense"] = time.perf_counter() - mark
    if cell.detectors:
        from poisonlab.detectors import DETECTORS

        measured["detectors"] = {}
        for spec in cell.detectors:
            mark = time.perf_counter()
            detector = DETECTORS.get(spec["name"])(**_params(spec))
            scores = np.asarray(detector.score(poisoned.poisoned), dtype=np.float64)
            label = spec["name"] + "".join(f" {k}={v}" for k, v in _params(spec).items())
            measured["detectors"][label] = detector_scores(scores, poisoned.is_poison)
            timings[f"detector {label}"] = time.perf_counter() - mark
    timings["total"] = time.perf_counter() - started
    return {
        "metrics": measured,
        "timings": timings,
        "fingerprint": data_fingerprint(cell.data, cell.split_seed),
    }
