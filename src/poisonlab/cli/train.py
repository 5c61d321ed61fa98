"""``poisonlab train``: fit a victim and save it as a safe skops model file with a model card."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from poisonlab._errors import DataError
from poisonlab.cli._common import EXIT_OK, add_output_options, add_victim_options, percent, print_json

DESCRIPTION = """\
Train a victim on labelled messages and save it as a skops model file (never pickle), with a
model card: the training data's fingerprint, the victim and its parameters, held-out metrics
and the poisonlab version.

A bundled corpus (--data sms_spam, spamassassin) trains on its training split and --holdout sms_spam scores
on its test split: the one fixed split every poisonlab command uses (split seed 2026,
independent of --seed, which only seeds the model), so a holdout never overlaps a model's
training rows. A file given to --data is trained on whole; a file given to --holdout is
scored whole. Without --holdout a bundled corpus is scored on its own test split.

examples:
  poisonlab train --out model.skops
  poisonlab train --data sms_spam --victim logreg --holdout sms_spam --out logreg.skops
  poisonlab train --data mail.csv --holdout mail-test.csv --out mail.skops --json
  poisonlab train --data spamassassin --holdout spamassassin --out mail.skops
  poisonlab attack backdoor --rate 0.01 --out poisoned.csv && \\
      poisonlab train --data poisoned.csv --holdout sms_spam --out candidate.skops
"""


def add_data_argument(
    parser: argparse.ArgumentParser, flag: str, default: str | None, help_text: str
) -> None:
    """A data option naming a bundled corpus or a file."""
    parser.add_argument(flag, default=default, metavar="NAME|PATH", help=help_text)


def add_column_options(parser: argparse.ArgumentParser) -> None:
    """``--text-column`` and ``--label-column`` for data files."""
    group = parser.add_argument_group("data files")
    group.add_argument("--text-column", metavar="NAME", help="text column of a file (default: detected)")
    group.add_argument("--label-column", metavar="NAME", help="label column of a file (default: detected)")


def add_trust_option(parser: argparse.ArgumentParser) -> None:
    """``--trust``: load model files holding types skops does not trust by default."""
    parser.add_argument(
        "--trust",
        action="store_true",
        help="load model files even if they hold types skops does not trust (only files you made or checked)",
    )


def add_parser(commands: Any) -> None:
    """Register ``train``."""
    parser = commands.add_parser(
        "train",
        help="train a victim and save it as a safe model file",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_data_argument(
        parser, "--data", "sms_spam", "bundled corpus (its training split) or a data file (default: sms_spam)"
    )
    add_data_argument(
        parser,
        "--holdout",
        None,
        "clean held-out data for the card's metrics: a corpus (its test split) or a file",
    )
    parser.add_argument("--out", required=True, metavar="FILE.skops", help="the model file to write")
    add_column_options(parser)
    add_victim_options(parser)
    add_output_options(parser)
    parser.set_defaults(handler=run)


def load_training(name: str, options: argparse.Namespace) -> tuple[Any, dict[str, Any]]:
    """Training data: a corpus's training split, or a file whole; with how it was split."""
    from poisonlab.data import CORPORA, DEFAULT_SPLIT_SEED, load_dataset, load_train_test

    if name in CORPORA:
        train, _ = load_train_test(name)
        return train, {"split": "train", "split_seed": None if name == "article" else DEFAULT_SPLIT_SEED}
    data = load_dataset(name, text_column=options.text_column, label_column=options.label_column)
    return data, {"split": None, "split_seed": None}


def load_holdout(name: str, options: argparse.Namespace, classes: tuple[str, ...] | None = None) -> Any:
    """Held-out data: a corpus's test split, or a file whole (its labels read into `classes`)."""
    from poisonlab.data import CORPORA, load_dataset, load_train_test

    if name in CORPORA:
        _, test = load_train_test(name)
        if classes is not None and test.classes != classes:
            raise DataError(f"The {name} corpus has classes {test.classes!r}, the model {classes!r}.")
        return test
    return load_dataset(
        name,
        text_column=options.text_column,
        label_column=options.label_column,
        classes=classes,
        min_classes=1,
    )


def load_model_file(path: str, options: argparse.Namespace) -> Any:
    """A model file, refusing pickles and untrusted types unless ``--trust``."""
    from poisonlab.victims.model_file import load_model

    return load_model(path, trust=bool(getattr(options, "trust", False)))


def run(options: argparse.Namespace) -> int:
    """Train, score on the holdout, save."""
    from poisonlab.experiments.evaluate import score_predictions
    from poisonlab.victims import make_victim
    from poisonlab.victims.model_file import ModelCard, data_summary, require_skops, save_model

    require_skops()  # a missing extra is reported before any work
    out = Path(options.out)
    if out.suffix.lower() != ".skops":
        raise DataError(f"--out must name a .skops file, got {options.out!r}.")
    started = time.perf_counter()
    train, split = load_training(options.data, options)
    holdout_name = options.holdout
    if holdout_name is None and options.data in _corpora():
        holdout_name = options.data
    holdout = load_holdout(holdout_name, options, train.classes) if holdout_name else None
    model = make_victim(options.victim, features=options.features, random_state=options.seed)
    model.fit(list(train.texts), train.labels)
    metrics = None
    if holdout is not None:
        predicted = model.predict(list(holdout.texts))
        scores = score_predictions(holdout.labels, predicted, holdout.classes).to_dict()
        metrics = {
            "holdout": _describe(holdout_name, holdout_name in _corpora(), "test"),
            "rows": len(holdout),
            **scores,
        }
    classifier = model.steps[-1][1]
    card = ModelCard(
        victim=options.victim,
        features=options.features,
        classes=train.classes,
        parameters={
            "random_state": options.seed,
            "classifier": type(classifier).__name__,
            **classifier.get_params(),
        },
        training_data={
            **data_summary(train, split=split["split"], split_seed=split["split_seed"]),
            "name": _describe(options.data, options.data in _corpora(), "train"),
        },
        metrics=metrics,
        versions=_library_versions(),
    )
    saved = save_model(model, out, card)
    payload = {
        "out": str(out),
        "size": saved.size,
        "untrusted_types": list(saved.untrusted_types),
        "seconds": time.perf_counter() - started,
        "card": card.to_dict(),
    }
    if options.json:
        print_json(payload)
    else:
        render(payload)
    return EXIT_OK


def _corpora() -> tuple[str, ...]:
    from poisonlab.data import CORPORA

    return CORPORA


def _describe(name: str, is_corpus: bool, split: str) -> str:
    return f"{name} ({split} split)" if is_corpus else str(name)


def _library_versions() -> dict[str, str]:
    import numpy
    import sklearn
    import skops

    return {"scikit-learn": sklearn.__version__, "numpy": numpy.__version__, "skops": skops.__version__}


def render(payload: dict[str, Any]) -> None:
    """Print what was trained and saved, for people."""
    from rich.console import Console

    console = Console(highlight=False)
    card = payload["card"]
    data = card["training_data"]
    counts = ", ".join(f"{k} {v}" for k, v in data["counts"].items())
    console.print(
        f"Trained [bold]{card['victim']}[/bold] ({card['features']}, "
        f"seed {card['parameters']['random_state']}) "
        f"on {data['name']}: {data['rows']} messages ({counts})."
    )
    console.print(f"Training data fingerprint ({data['fingerprint_kind']}): {data['fingerprint']}")
    metrics = card["metrics"]
    if metrics is None:
        console.print("No holdout given: the card holds no held-out metrics (add --holdout DATA).")
    else:
        line = (
            f"Holdout {metrics['holdout']} ({metrics['rows']} messages): CACC {percent(metrics['accuracy'])}"
        )
        if len(card["classes"]) == 2:
            line += f", ham loss {percent(metrics['ham_loss'])}, spam leak {percent(metrics['spam_leak'])}"
        console.print(line + ".")
    console.print(f"Wrote {payload['out']} ({payload['size'] / 1024:.0f} KB) in {payload['seconds']:.2f} s.")
    if payload["untrusted_types"]:
        console.print(
            "Loading it will need --trust: it holds types skops does not trust by default: "
            + ", ".join(payload["untrusted_types"])
        )
