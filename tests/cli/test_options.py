"""Options derived from a component's parameters: types, defaults, choices, lists, the budget."""

from __future__ import annotations

import argparse
import dataclasses

import pytest

from poisonlab import DataError
from poisonlab.cli._options import (
    add_component_options,
    command_line,
    component_kwargs,
    component_options,
    description,
    parameter_docs,
    summary,
)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Toy:
    """A toy component with every kind of parameter.

    It exists for these tests.

    Parameters
    ----------
    message : str
        Required text, 100% needed.
    mode : {"fast", 'slow'}
        How.
    size : int, optional
        A count; None for all.
    share : float
    shout : bool
        Louder.
    words : tuple of str, optional
        Some words.
    victim : str
        Shared with the command.
    rate, n : float or int
        Budget.
    """

    message: str
    mode: str = "fast"
    size: int | None = 5
    share: float = 0.5
    shout: bool = False
    words: tuple[str, ...] | None = None
    victim: str = "nb"
    rate: float | None = None
    n: int | None = None


def parser() -> argparse.ArgumentParser:
    built = argparse.ArgumentParser(prog="toy", exit_on_error=False)
    built.add_argument("--victim", default="logreg")
    add_component_options(built, Toy, shared=("victim",))
    return built


def test_kinds_flags_and_help() -> None:
    options = {o.field: o for o in component_options(Toy, shared=("victim",))}
    assert set(options) == {"message", "mode", "size", "share", "shout", "words", "victim"}
    assert [(o.kind, o.flags) for o in options.values()] == [
        ("text", ("--message",)),
        ("text", ("--mode",)),
        ("int", ("--size",)),
        ("float", ("--share",)),
        ("flag", ("--shout",)),
        ("list", ("--word", "--words")),
        ("text", ("--attack-victim",)),
    ]
    assert options["message"].is_required and options["message"].help.endswith("(required)")
    assert "100%%" in options["message"].help, "argparse formats help with %"
    assert options["mode"].choices == ("fast", "slow")
    assert options["size"].help.endswith("(default: 5; none for None)")
    assert options["share"].help == "float (default: 0.5)", "no description: the type spec"
    assert options["words"].file_flag == "--words-file"
    assert options["victim"].help.endswith("(default: the value of --victim)")


def test_parsing_builds_the_parameters(tmp_path) -> None:
    listed = tmp_path / "words.txt"
    listed.write_text("c\nd\n", encoding="utf-8")
    argv = [
        "--message",
        "hi",
        "--size",
        "none",
        "--shout",
        "--word",
        "a",
        "--words",
        "b",
        "--words-file",
        str(listed),
    ]
    kwargs = component_kwargs(Toy, parser().parse_args([*argv, "--n", "3"]), shared=("victim",))
    assert kwargs == {
        "message": "hi",
        "mode": "fast",
        "size": None,
        "share": 0.5,
        "shout": True,
        "words": ("a", "b", "c", "d"),
        "victim": "logreg",
        "rate": None,
        "n": 3,
    }
    toy = Toy(**kwargs)
    assert component_kwargs(Toy, parser().parse_args(command_line(toy, ("victim",))), ("victim",)) == kwargs


@pytest.mark.parametrize(
    "argv",
    [
        ["--n", "1"],  # --message is required
        ["--message", "hi"],  # a budget is required
        ["--message", "hi", "--n", "1", "--rate", "0.1"],
        ["--message", "hi", "--n", "1", "--mode", "medium"],
        ["--message", "hi", "--n", "1", "--size", "lots"],
    ],
)
def test_bad_command_lines_are_usage_errors(argv: list[str]) -> None:
    with pytest.raises((argparse.ArgumentError, SystemExit)):
        parser().parse_args(argv)


def test_a_missing_words_file_is_a_data_error(tmp_path) -> None:
    options = parser().parse_args(["--message", "x", "--n", "1", "--words-file", str(tmp_path / "no.txt")])
    with pytest.raises(DataError, match="--words-file: no such file"):
        component_kwargs(Toy, options, ("victim",))


def test_docstring_pieces() -> None:
    assert summary(Toy) == "A toy component with every kind of parameter."
    assert description(Toy) == "A toy component with every kind of parameter.\n\nIt exists for these tests."
    docs = parameter_docs(Toy.__doc__)
    assert docs["rate"] == docs["n"] and docs["n"].description == "Budget."
    assert docs["shout"].spec == "bool" and docs["shout"].choices is None
    assert parameter_docs(None) == {}
