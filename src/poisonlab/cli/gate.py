"""``poisonlab gate``: refuse a poisoned candidate model before it replaces the deployed one."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from poisonlab._errors import DataError
from poisonlab.cli._common import EXIT_CHECK_FAILED, EXIT_OK, percent, print_json, seed
from poisonlab.cli.train import (
    add_column_options,
    add_trust_option,
    load_holdout,
    load_model_file,
    load_training,
)

DESCRIPTION = """\
A/B test a new model version against the deployed one on a clean holdout before deploying it:

  1. holdout metrics: accuracy and per-class precision, recall and F1 of both models, with
     paired bootstrap confidence intervals; a significant drop beyond --max-drop fails;
  2. prediction agreement: both models must classify at least --min-agreement of the
     holdout alike;
  3. canary probes: messages that must stay spam (the holdout spam the reference catches, or
     --canaries FILE), as they are and with candidate triggers mined from the candidate's
     training data (--data), inserted once and three times; the candidate fails when it
     lets through more than --max-canary-drop of them beyond the reference, significantly
     (McNemar's exact test).

A targeted label flip shows in the metrics; a backdoor barely moves them and shows in the
trigger probes, so give --data whenever you have the candidate's training set.

Exit code 0: pass; 1: fail (the reasons are printed); 2: bad input.

examples:
  poisonlab gate --candidate new.skops --reference deployed.skops --holdout sms_spam
  poisonlab gate --candidate new.skops --reference deployed.skops --holdout sms_spam --data new-train.csv
  poisonlab gate --candidate new.skops --reference deployed.skops --holdout test.csv \
      --canaries must-block.txt --json
"""


def add_parser(commands: Any) -> None:
    """Register ``gate``."""
    from poisonlab.monitoring.thresholds import GateThresholds

    defaults = GateThresholds()
    parser = commands.add_parser(
        "gate",
        help="pass or fail a candidate model against the deployed one before deploying it",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--candidate", required=True, metavar="NEW.skops", help="the model to be deployed")
    parser.add_argument("--reference", required=True, metavar="OLD.skops", help="the model deployed now")
    parser.add_argument(
        "--holdout",
        required=True,
        metavar="NAME|PATH",
        help="clean held-out data: a corpus (its test split) or a file",
    )
    parser.add_argument(
        "--data",
        metavar="NAME|PATH",
        help="the candidate's training data (a corpus: its training split), to mine triggers",
    )
    parser.add_argument("--canaries", metavar="FILE", help="messages that must stay spam, one per line")
    thresholds = parser.add_argument_group("thresholds")
    thresholds.add_argument(
        "--max-drop",
        type=float,
        default=defaults.max_drop,
        metavar="X",
        help=f"largest tolerated significant drop of any metric (default: {defaults.max_drop})",
    )
    thresholds.add_argument(
        "--min-agreement",
        type=float,
        default=defaults.min_agreement,
        metavar="X",
        help=f"least share of holdout predictions both models share (default: {defaults.min_agreement})",
    )
    thresholds.add_argument(
        "--max-canary-drop",
        type=float,
        default=defaults.max_canary_drop,
        metavar="X",
        help=f"share of canaries lost beyond the reference tolerated (default: {defaults.max_canary_drop})",
    )
    thresholds.add_argument(
        "--confidence",
        type=float,
        default=defaults.confidence,
        metavar="X",
        help=f"confidence level of intervals and tests (default: {defaults.confidence})",
    )
    thresholds.add_argument(
        "--resamples",
        type=int,
        default=defaults.n_resamples,
        metavar="N",
        help=f"bootstrap resamples (default: {defaults.n_resamples})",
    )
    thresholds.add_argument(
        "--max-triggers",
        type=int,
        default=defaults.max_triggers,
        metavar="N",
        help=f"most mined triggers probed (default: {defaults.max_triggers})",
    )
    parser.add_argument(
        "--seed", type=seed, default=0, metavar="INT", help="seeds the bootstrap (default: 0)"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of tables")
    add_trust_option(parser)
    add_column_options(parser)
    parser.set_defaults(handler=run)


def _read_canaries(path: str) -> tuple[str, ...]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise DataError(f"Cannot read --canaries {path!r}: {error.strerror or error}.") from None
    except UnicodeDecodeError:
        raise DataError(f"--canaries {path!r} is not UTF-8 text (one message per line).") from None
    canaries = tuple(line for line in text.splitlines() if line.strip())
    if not canaries:
        raise DataError(f"--canaries {path!r} holds no messages (one per line).")
    return canaries


def run(options: argparse.Namespace) -> int:
    """Run the gate; exit 0 on pass, 1 on fail."""
    from poisonlab.monitoring.gate import GateThresholds, run_gate

    thresholds = GateThresholds(
        max_drop=options.max_drop,
        confidence=options.confidence,
        min_agreement=options.min_agreement,
        max_canary_drop=options.max_canary_drop,
        n_resamples=options.resamples,
        max_triggers=options.max_triggers,
    )
    candidate = load_model_file(options.candidate, options)
    reference = load_model_file(options.reference, options)
    if candidate.classes != reference.classes:
        raise DataError(
            f"The candidate's classes {candidate.classes!r} differ from the reference's "
            f"{reference.classes!r}."
        )
    holdout = load_holdout(options.holdout, options, candidate.classes)
    training = None
    data_check = None
    if options.data is not None:
        training, _ = load_training(options.data, options)
        if training.classes != candidate.classes:
            raise DataError(f"--data has classes {training.classes!r}, the candidate {candidate.classes!r}.")
        recorded = candidate.card.training_data.get("dataset_sha256")
        if recorded is not None:
            data_check = recorded == training.fingerprint()
    canaries = _read_canaries(options.canaries) if options.canaries else None
    report = run_gate(
        candidate.model,
        reference.model,
        holdout,
        training_data=training,
        canaries=canaries,
        thresholds=thresholds,
        random_state=options.seed,
    )
    payload = {
        "candidate": options.candidate,
        "reference": options.reference,
        "holdout": options.holdout,
        "data": options.data,
        "data_matches_candidate_card": data_check,
        "seed": options.seed,
        **report.to_dict(),
    }
    if options.json:
        print_json(payload)
    else:
        render(payload)
    return EXIT_OK if report.passed else EXIT_CHECK_FAILED


def render(payload: dict[str, Any]) -> None:
    """The verdict and its evidence, for people."""
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False)
    verdict = "[bold green]PASS[/bold green]" if payload["passed"] else "[bold red]FAIL[/bold red]"
    console.print(
        f"{verdict}: candidate {payload['candidate']} vs reference {payload['reference']} on "
        f"{payload['holdout']} ({payload['n_holdout']} messages)"
    )
    for reason in payload["reasons"]:
        console.print(f"  - {reason}")
    if payload["data_matches_candidate_card"] is False:
        console.print(
            "[yellow]Note:[/yellow] --data is not the data the candidate's card says it was trained on "
            "(fingerprints differ); triggers were mined from the data given."
        )
    checks = Table(title="Checks", title_justify="left")
    for column in ("Check", "Result", "Detail"):
        checks.add_column(column)
    for check in payload["checks"]:
        checks.add_row(check["name"], "pass" if check["passed"] else "[red]fail[/red]", check["detail"])
    console.print(checks)
    level = f"{payload['thresholds']['confidence']:.0%}"
    metrics = Table(title=f"Holdout metrics ({level} bootstrap intervals)", title_justify="left")
    for column in ("Metric", "Reference", "Candidate", "Change"):
        metrics.add_column(column, justify="left" if column == "Metric" else "right")
    for row in payload["metrics"]:
        low, high = row["delta_ci"]
        metrics.add_row(
            row["label"],
            percent(row["reference"]),
            percent(row["candidate"]),
            f"{row['delta'] * 100:+.1f} pts [{low * 100:+.1f}, {high * 100:+.1f}]",
        )
    console.print(metrics)
    probes = Table(
        title=f"Canary probes ({payload['canary_source']}; triggers {payload['trigger_source']})",
        title_justify="left",
    )
    for column in ("Probe", f"Kept as {payload['protected']}: reference", "candidate", "McNemar p"):
        probes.add_column(column, justify="left" if column == "Probe" else "right")
    for row in payload["probes"]:
        probes.add_row(
            row["label"],
            percent(row["reference_kept"]),
            percent(row["candidate_kept"]),
            f"{row['p_value']:.2g}",
        )
    console.print(probes)
