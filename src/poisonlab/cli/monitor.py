"""``poisonlab monitor``: watch a stream of predictions for drift from a healthy baseline."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any, TextIO

from poisonlab._errors import DataError
from poisonlab.cli._common import EXIT_CHECK_FAILED, EXIT_OK, print_json, seed
from poisonlab.cli.train import add_column_options, add_trust_option, load_holdout, load_model_file

DESCRIPTION = """\
Compare a production stream of predictions with a healthy baseline, window by window: the
predicted-class shares (chi-square test on the class counts, PSI) and the score distribution
(two-sample Kolmogorov-Smirnov test, PSI over the baseline's score deciles). A poisoned model
swapped into production shifts them: a label flip lets spam through, a backdoor does once its
trigger arrives in traffic.

Input: JSON lines on stdin or --input FILE, each with "text" (scored by --model) or "label"
and/or "score" (predictions made elsewhere, e.g. by `poisonlab predict --jsonl`), and
optionally "timestamp". Baseline: --baseline FILE (from `poisonlab monitor baseline`) or
--holdout DATA scored by --model.

Output: one JSON line per window on stdout; for each alarming window a line starting
"ALARM" on stderr. Exit code 1 if any window alarmed, 0 if none (for cron and CI). Memory is
one window, however long the stream.

examples:
  poisonlab monitor baseline --model model.skops --holdout sms_spam --out baseline.json
  poisonlab monitor --baseline baseline.json --input predictions.jsonl
  tail -f traffic.jsonl | poisonlab monitor --baseline baseline.json --model model.skops --window 200
  poisonlab monitor --holdout sms_spam --model model.skops --input traffic.jsonl --step 100
"""

BASELINE_DESCRIPTION = """\
Save a baseline: the predicted-class counts and a sample of the scores of a healthy model on
clean held-out data (--model with --holdout), or of a stretch of production predictions known
to be healthy (--input JSON lines, scored by --model when they hold text).

examples:
  poisonlab monitor baseline --model model.skops --holdout sms_spam --out baseline.json
  poisonlab monitor baseline --input last-week.jsonl --classes ham,spam --out baseline.json
"""


def add_parser(commands: Any) -> None:
    """Register ``monitor`` and ``monitor baseline``."""
    from poisonlab.monitoring.thresholds import DEFAULT_WINDOW, DriftThresholds

    defaults = DriftThresholds()
    parser = commands.add_parser(
        "monitor",
        help="alarm when production predictions drift from a healthy baseline",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--baseline", metavar="FILE", help="baseline file from `poisonlab monitor baseline`")
    parser.add_argument(
        "--holdout", metavar="NAME|PATH", help="build the baseline from this clean data with --model instead"
    )
    parser.add_argument("--model", metavar="FILE.skops", help="model scoring 'text' lines (and --holdout)")
    parser.add_argument("--input", metavar="FILE", default="-", help="JSON lines to watch (default: stdin)")
    parser.add_argument(
        "--window",
        type=int,
        default=DEFAULT_WINDOW,
        metavar="N",
        help=f"messages per window (default: {DEFAULT_WINDOW})",
    )
    parser.add_argument(
        "--step",
        type=int,
        metavar="N",
        help="messages between window starts (default: the window: no overlap)",
    )
    parser.add_argument(
        "--psi",
        type=float,
        default=defaults.psi,
        metavar="X",
        help=f"alarm above this PSI (default: {defaults.psi})",
    )
    parser.add_argument(
        "--alpha",
        type=float,
        default=defaults.alpha,
        metavar="P",
        help=f"alarm below this chi-square or KS p-value (default: {defaults.alpha})",
    )
    add_trust_option(parser)
    add_column_options(parser)
    parser.set_defaults(handler=run)
    subcommands = parser.add_subparsers(dest="monitor_command", metavar="[baseline]")
    baseline = subcommands.add_parser(
        "baseline",
        help="save a baseline from a healthy model on clean data",
        description=BASELINE_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    baseline.add_argument("--model", metavar="FILE.skops", help="the healthy model")
    baseline.add_argument(
        "--holdout", metavar="NAME|PATH", help="clean held-out data (a corpus: its test split)"
    )
    baseline.add_argument("--input", metavar="FILE", help="healthy predictions as JSON lines ('-': stdin)")
    baseline.add_argument(
        "--classes", metavar="A,B", help="class names for --input without --model (default: ham,spam)"
    )
    baseline.add_argument("--out", required=True, metavar="FILE.json", help="the baseline file to write")
    baseline.add_argument(
        "--seed",
        type=seed,
        default=0,
        metavar="INT",
        help="seeds the score sample of long inputs (default: 0)",
    )
    baseline.add_argument("--json", action="store_true", help="print one JSON object instead of a summary")
    add_trust_option(baseline)
    add_column_options(baseline)
    baseline.set_defaults(handler=run_baseline)


def _lines(path: str, stack: ExitStack) -> Iterator[str]:
    if path == "-":
        if sys.stdin is None:
            raise DataError("No input: give --input FILE or pipe JSON lines on stdin.")
        return iter(sys.stdin)
    try:
        handle: TextIO = open(path, encoding="utf-8")  # noqa: SIM115 - closed by `stack`
    except OSError as error:
        raise DataError(f"Cannot read --input {path!r}: {error.strerror or error}.") from None
    stack.callback(handle.close)
    return iter(handle)


def _model(options: argparse.Namespace) -> Any:
    return load_model_file(options.model, options) if options.model else None


def run_baseline(options: argparse.Namespace) -> int:
    """Build and save a baseline."""
    from poisonlab.monitoring.baseline import baseline_from_model, baseline_from_records
    from poisonlab.monitoring.records import read_records

    if (options.holdout is None) == (options.input is None):
        raise DataError("Give exactly one of --holdout (clean data, with --model) and --input (JSON lines).")
    loaded = _model(options)
    fingerprint = None if loaded is None else loaded.card.training_data.get("fingerprint")
    if options.holdout is not None:
        if loaded is None:
            raise DataError("--holdout needs --model: the baseline is the model's predictions on it.")
        holdout = load_holdout(options.holdout, options, loaded.classes)
        base = baseline_from_model(
            loaded.model,
            holdout,
            source=f"{options.model} on {options.holdout}",
            model_fingerprint=fingerprint,
            random_state=options.seed,
        )
    else:
        classes = loaded.classes if loaded is not None else _classes(options.classes)
        with ExitStack() as stack:
            batches = read_records(
                _lines(options.input, stack), classes, model=None if loaded is None else loaded.model
            )
            base = baseline_from_records(
                batches, classes, source=str(options.input), random_state=options.seed
            )
    try:
        base.save(options.out)
    except OSError as error:
        raise DataError(f"Cannot write --out {options.out!r}: {error.strerror or error}.") from None
    payload = {
        "out": options.out,
        "source": base.source,
        "n": base.n,
        "classes": list(base.classes),
        "class_counts": list(base.class_counts),
        "scores_kept": int(base.scores.size),
    }
    if options.json:
        print_json(payload)
    else:
        shares = ", ".join(f"{c} {s:.1%}" for c, s in zip(base.classes, base.shares()))
        print(
            f"Baseline from {base.source}: {base.n} predictions ({shares}); {base.scores.size} scores kept."
        )
        print(f"Wrote {options.out}.")
    return EXIT_OK


def _classes(text: str | None) -> tuple[str, ...]:
    names = tuple(c.strip() for c in (text or "ham,spam").split(",") if c.strip())
    if len(names) < 2 or len(set(names)) != len(names):
        raise DataError(f"--classes needs two or more distinct names separated by commas, got {text!r}.")
    return names


def run(options: argparse.Namespace) -> int:
    """Watch the stream; one JSON line per window; exit 1 on any alarm."""
    from poisonlab.monitoring.baseline import Baseline, baseline_from_model
    from poisonlab.monitoring.drift import DriftMonitor, DriftThresholds
    from poisonlab.monitoring.records import read_records

    thresholds = DriftThresholds(psi=options.psi, alpha=options.alpha)
    if (options.baseline is None) == (options.holdout is None):
        raise DataError("Give exactly one baseline: --baseline FILE or --holdout DATA (with --model).")
    loaded = _model(options)
    if options.baseline is not None:
        base = Baseline.load(options.baseline)
    else:
        if loaded is None:
            raise DataError("--holdout needs --model: the baseline is the model's predictions on it.")
        holdout = load_holdout(options.holdout, options, loaded.classes)
        base = baseline_from_model(loaded.model, holdout, source=f"{options.model} on {options.holdout}")
    if loaded is not None and loaded.classes != base.classes:
        raise DataError(
            f"The model's classes {loaded.classes!r} differ from the baseline's {base.classes!r}."
        )
    monitor = DriftMonitor(base, window=options.window, step=options.step, thresholds=thresholds)
    alarms = windows = 0
    with ExitStack() as stack:
        batches = read_records(
            _lines(options.input, stack),
            base.classes,
            model=None if loaded is None else loaded.model,
            batch_size=min(monitor.step, 1000),  # a window completes as soon as its messages arrive
        )
        for batch in batches:
            for report in monitor.update(batch):
                windows += 1
                alarms += _emit(report)
        for report in monitor.finish():
            windows += 1
            alarms += _emit(report)
    if windows == 0:
        print(
            f"poisonlab: the stream ended after {monitor.count} messages, less than half a window "
            f"({options.window}); nothing was compared.",
            file=sys.stderr,
        )
    else:
        print(
            f"poisonlab: {monitor.count} messages, {windows} windows, {alarms} alarmed.",
            file=sys.stderr,
        )
    return EXIT_CHECK_FAILED if alarms else EXIT_OK


def _emit(report: Any) -> int:
    sys.stdout.write(json.dumps(report.to_dict(), ensure_ascii=False, allow_nan=False) + "\n")
    sys.stdout.flush()
    if not report.alarm:
        return 0
    when = ""
    if report.first_timestamp is not None or report.last_timestamp is not None:
        when = f", {report.first_timestamp} to {report.last_timestamp}"
    print(
        f"ALARM window {report.index} (messages {report.start}-{report.end - 1}{when}): "
        + "; ".join(report.reasons),
        file=sys.stderr,
    )
    sys.stderr.flush()
    return 1
