"""``poisonlab search triggers``: rank backdoor triggers against a victim, and say why they differ."""

from __future__ import annotations

import argparse
from typing import Any

from poisonlab._errors import ParameterError
from poisonlab.cli._common import (
    EXIT_OK,
    MAX_SEED,
    add_data_options,
    add_output_options,
    percent,
    print_json,
    seed,
)

HELP = "rank candidate triggers by attack success and clean-accuracy cost"
DESCRIPTION = """\
Plant each candidate trigger with the same budget (the Backdoor attack; --mode inject adds
triggered copies of training spam labelled ham, --mode insert triggers and relabels spam rows),
fit the victim on clean and poisoned data, and rank the triggers by attack success rate (ASR)
on held-out spam, then by the clean accuracy (CACC) they cost. Each candidate runs once per
seed (--seed, --seed+1, ...); figures are the mean (min to max) over the seeds.

Candidates are yours (--candidates) or generated from the training set (--kinds): synthetic
tokens absent from it (PROMO2026 first), rare tokens (in one training message), common words
(in most ham), frequent ham phrases, the base trigger repeated, and at each position.

Then it measures why a trigger works on one model and not another: per victim and budget, the
trigger's pull (log-odds it adds toward ham) against the margin of held-out spam (log-odds that
keep a message spam). A message is carried over exactly when the pull beats its margin.

examples:
  poisonlab search triggers
  poisonlab search triggers --victim nb logreg svm --rate 0.01 --seeds 5
  poisonlab search triggers --candidates PROMO2026 "limited offer" you --kinds repeat position
  poisonlab search triggers --data mail.csv --n 20 --mode insert --json
"""


KINDS = ("synthetic", "rare", "common", "phrase", "repeat", "position")
POSITIONS = ("start", "end", "random")
MODES = ("inject", "insert")
"""The library's choices, spelled out so that building the parser imports no attack module (a
test checks they match `trigger_candidates.KINDS`, `trigger.POSITIONS` and `backdoor.MODES`)."""


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid int value: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be an int >= 1, got {value}")
    return value


def add_parser(commands: Any) -> None:
    """Register ``search triggers``."""
    from poisonlab.victims import FEATURES, VICTIMS

    parser = commands.add_parser(
        "triggers", help=HELP, description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    found = parser.add_argument_group("candidates")
    found.add_argument(
        "--candidates", nargs="+", metavar="TEXT", help="your triggers (tokens or phrases) to rank"
    )
    found.add_argument(
        "--kinds",
        nargs="+",
        choices=KINDS,
        metavar="KIND",
        help=f"generated kinds: {', '.join(KINDS)} (default: all, or none with --candidates)",
    )
    found.add_argument(
        "--per-kind", type=_positive_int, default=3, metavar="K", help="generated per kind (default: 3)"
    )
    found.add_argument(
        "--position", default="start", choices=POSITIONS, help="where triggers go (default: start)"
    )
    found.add_argument(
        "--repeat", type=_positive_int, default=1, metavar="K", help="copies of your triggers (default: 1)"
    )
    attack = parser.add_argument_group("attack")
    budget = attack.add_mutually_exclusive_group()
    budget.add_argument(
        "--rate",
        type=float,
        metavar="FRACTION",
        help="poison rate, a fraction of the training set (default: 0.01)",
    )
    budget.add_argument("--n", type=int, metavar="ROWS", help="number of poison rows")
    attack.add_argument("--mode", default="inject", choices=MODES, help="default: inject")
    attack.add_argument(
        "--source", metavar="CLASS", help="class triggered messages come from (default: the last)"
    )
    attack.add_argument(
        "--target", metavar="CLASS", help="class the trigger should send them to (default: the first)"
    )
    attack.add_argument(
        "--seeds", type=_positive_int, default=3, metavar="N", help="runs per candidate (default: 3)"
    )
    attack.add_argument(
        "--seed",
        type=seed,
        default=0,
        metavar="INT",
        help="first seed; runs use seed, seed+1, ... (default: 0)",
    )
    victim = parser.add_argument_group("victim")
    victim.add_argument(
        "--victim",
        nargs="+",
        default=["nb"],
        choices=VICTIMS.names(),
        metavar="NAME",
        help=f"models to rank triggers against: {', '.join(VICTIMS.names())} (default: nb)",
    )
    victim.add_argument(
        "--features", default="count", choices=FEATURES, help="text features (default: count)"
    )
    why = parser.add_argument_group("why (pull against margin)")
    why.add_argument(
        "--explain",
        metavar="TEXT",
        help="trigger to explain (default: your first candidate, else PROMO2026)",
    )
    why.add_argument(
        "--explain-victims",
        nargs="+",
        default=["nb", "logreg", "svm"],
        choices=VICTIMS.names(),
        metavar="NAME",
        help="models to compare (default: nb logreg svm)",
    )
    why.add_argument(
        "--budgets",
        nargs="+",
        type=_positive_int,
        metavar="ROWS",
        help="poison rows of the curve (default: 1/4, 1/2, 1, 2 and 4 times the budget)",
    )
    why.add_argument("--no-explain", action="store_true", help="rank only; skip the pull-against-margin part")
    add_data_options(parser)
    add_output_options(parser)
    parser.set_defaults(handler=run)


def run(options: argparse.Namespace) -> int:
    """Generate or read the candidates, rank them, explain, print."""
    from poisonlab.attacks.trigger_candidates import (
        ARTICLE_TRIGGER,
        TriggerCandidate,
        describe_candidates,
        generate_candidates,
    )
    from poisonlab.data import DEFAULT_SPLIT_SEED, load_train_test
    from poisonlab.experiments.trigger_search import search_triggers

    if options.seed + options.seeds - 1 > MAX_SEED:
        raise ParameterError(
            f"--seed {options.seed} with --seeds {options.seeds} passes the largest seed, {MAX_SEED}."
        )
    rate = 0.01 if options.rate is None and options.n is None else options.rate
    split_seed = DEFAULT_SPLIT_SEED if options.split_seed is None else options.split_seed
    train, test = load_train_test(
        options.data,
        test=options.test,
        split_seed=split_seed,
        text_column=options.text_column,
        label_column=options.label_column,
    )
    classes = {"source": options.source, "target": options.target}
    given: tuple[TriggerCandidate, ...] = ()
    if options.candidates:
        given = describe_candidates(
            options.candidates, train, position=options.position, repeat=options.repeat, **classes
        )
    kinds = options.kinds if options.kinds is not None else (() if given else KINDS)
    generated: tuple[TriggerCandidate, ...] = ()
    if kinds:
        generated = generate_candidates(
            train,
            kinds=kinds,
            per_kind=options.per_kind,
            base=given[0].text if given else None,
            position=options.position,
            random_state=options.seed,
            **classes,
        )
    unique: dict[tuple[str, str, int], TriggerCandidate] = {}
    for candidate in (*given, *generated):  # yours first; a generated duplicate is dropped
        unique.setdefault((candidate.text, candidate.position, candidate.repeat), candidate)
    candidates = tuple(unique.values())
    explain = None
    if not options.no_explain:
        text = options.explain or (given[0].text if given else ARTICLE_TRIGGER)
        explain = describe_candidates(
            [text], train, position=options.position, repeat=options.repeat, **classes
        )[0]
    seeds = tuple(range(options.seed, options.seed + options.seeds))
    result = search_triggers(
        train,
        test,
        options.victim,
        candidates=candidates,
        rate=rate,
        n=options.n,
        mode=options.mode,
        seeds=seeds,
        features=options.features,
        explain=explain,
        explain_victims=options.explain_victims,
        budgets=options.budgets,
        **classes,
    )
    payload = {
        "data": str(options.data),
        "victims": list(options.victim),
        "split_seed": split_seed,
        "candidates": [c.to_dict() for c in candidates],
        **result.to_dict(),
    }
    if options.json:
        print_json(payload)
    else:
        render(result, str(options.data), split_seed)
    return EXIT_OK


def _range(spread: Any, signed: bool = False) -> str:
    """``mean (min to max)`` of a share, in percent or, `signed`, in percentage points."""
    if spread.mean != spread.mean:
        return "n/a"
    fmt = "{:+.2f}" if signed else "{:.1f}"
    low, high = (fmt.format(v * 100) for v in (spread.low, spread.high))
    return f"{fmt.format(spread.mean * 100)} ({low} to {high})"


def _ranking_table(name: str, ranking: Any, source: str, target: str) -> Any:
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=f"Triggers against {name}, best first", title_justify="left")
    for column in (
        "#",
        "Trigger",
        "Kind",
        f"In {source}/{target}",
        "ASR %",
        "CACC cost, pts",
        "Pull (clean)",
    ):
        table.add_column(column, justify="left" if column in ("Trigger", "Kind") else "right")
    for rank, item in enumerate(ranking.results, 1):
        c = item.candidate
        pulled, clean = item.spread("pull").mean, item.spread("clean_pull").mean
        table.add_row(
            str(rank),
            escape(c.label),
            c.kind,
            f"{c.in_source}/{c.in_target}",
            _range(item.asr),
            _range(item.cacc_cost, signed=True),
            "n/a" if pulled != pulled else f"{pulled:+.2f} ({clean:+.2f})",
        )
    return table


def _strength_table(result: Any) -> Any:
    from rich.markup import escape
    from rich.table import Table

    first = next(iter(result.strengths.values()))
    table = Table(
        title=(
            f"Why {escape(repr(first.candidate.label))} works on some victims and not others: its pull "
            f"toward {first.target} against the margin of held-out {first.source} (seed {result.seeds[0]})"
        ),
        title_justify="left",
    )
    for column in (
        "Victim",
        "Rows",
        "Pull",
        "Margin: median (IQR)",
        "Pull/margin",
        "Beaten",
        "ASR",
        "Fitted",
    ):
        table.add_column(column, justify="left" if column == "Victim" else "right")
    for name, strength in result.strengths.items():
        for p in strength.points:
            table.add_row(
                name,
                f"{p.n_poison} ({p.rate:.1%})",
                f"{p.pull:+.2f}",
                f"{p.margin:.2f} ({p.margin_low:.2f}-{p.margin_high:.2f})",
                "n/a" if p.ratio != p.ratio else f"{p.ratio:.2f}",
                percent(p.beaten),
                percent(p.asr),
                percent(p.poison_fit),
            )
    return table


def render(result: Any, data: str, split_seed: int) -> None:
    """Print the rankings and the explanation for people."""
    from rich.console import Console
    from rich.markup import escape

    console = Console(highlight=False)
    seeds = ", ".join(str(s) for s in result.seeds)
    console.print(
        f"[bold]Trigger search[/bold] on {escape(data)}: {result.n_train} training / {result.n_test} test "
        f"messages (split seed {split_seed}); budget {result.n_poison} poison rows "
        f"({result.rate:.2%} of the training set), mode {result.mode}, {result.source} -> "
        f"{result.target}; features {result.features}; seeds {seeds}. Figures: mean (min to max) "
        "over the seeds. In: training messages that already contain the trigger. Pull: median "
        "log-odds the trigger adds toward the target on held-out source messages, poisoned model "
        "(clean model)."
    )
    for name, ranking in result.rankings.items():
        console.print(_ranking_table(name, ranking, result.source, result.target))
        unlike = [
            f"{r.candidate.label!r} as {' '.join(r.tokens) or 'nothing'}"
            for r in ranking.results
            if r.tokens is not None and " ".join(r.tokens) != r.candidate.text.lower()
        ]
        if unlike:
            console.print(escape(f"  The {name} vectorizer sees " + "; ".join(unlike) + "."))
        for group in ranking.identical():
            console.print(escape(f"  Same ASR and CACC on every seed: {', '.join(group)}."))
    if result.strengths:
        console.print(_strength_table(result))
        console.print(
            "Pull and margin are in each model's own score units (log-odds for Naive Bayes and "
            "logistic regression, the decision function of a linear SVM); their ratio compares "
            "across models. Beaten: share of eligible "
            "held-out messages whose margin is below the median pull. Fitted: share of the "
            "poison training rows the poisoned model itself puts in the target class."
        )
        console.print(f"[bold]Why:[/bold] {escape(result.lesson)}")
    console.print(f"\nDone in {result.seconds:.1f} s.")
