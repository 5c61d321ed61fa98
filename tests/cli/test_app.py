"""`poisonlab.cli.main`: the single error boundary, exit codes, --help and --version."""

from __future__ import annotations

import pytest

import poisonlab
import poisonlab.data
from poisonlab import DataError
from poisonlab.cli import main
from poisonlab.cli._common import EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE


def test_documented_exit_codes():
    assert (EXIT_OK, EXIT_USAGE, EXIT_INTERNAL, EXIT_INTERRUPTED) == (0, 2, 70, 130)


def test_version(cli):
    run = cli("--version")
    assert run.code == 0
    import numpy
    import sklearn

    assert run.out.strip() == (
        f"poisonlab {poisonlab.__version__} scikit-learn {sklearn.__version__} numpy {numpy.__version__}"
    )


@pytest.mark.parametrize(
    ("argv", "mentions"),
    [
        ([], ["demo", "attack", "--traceback", "--version", "exit codes"]),
        (["demo"], ["--seed", "--split-seed", "--json", "Part 1", "Part 2"]),
        (["attack"], ["label-flip", "backdoor"]),
        (["attack", "label-flip"], ["--strategy", "--rate", "--n", "--out", "--data", "--victim"]),
        (
            ["attack", "backdoor"],
            [
                "--trigger",
                "--position",
                "--repeat",
                "--mode",
                "--carrier",
                "--rate",
                "--n",
                "--source",
                "--target",
                "--out",
                "--data",
                "--test",
                "--text-column",
                "--label-column",
                "--victim",
                "--features",
                "--seed",
                "--json",
            ],
        ),
    ],
)
def test_help_exits_0_and_names_the_options(cli, argv, mentions):
    run = cli(*argv, "--help")
    assert run.code == 0
    assert run.out.startswith("usage: poisonlab")
    missing = [word for word in mentions if word not in run.out]
    assert not missing, f"--help of {argv} does not mention {missing}"


def test_no_command_prints_help_and_exits_2(cli):
    run = cli()
    assert run.code == 2
    assert "usage: poisonlab" in run.out
    assert "Traceback" not in run.err


@pytest.mark.parametrize(
    "argv",
    [
        ["frobnicate"],
        ["attack"],  # no attack named
        ["attack", "label-smash", "--rate", "0.1"],
        ["demo", "--no-such-option"],
        ["--no-such-option"],
    ],
)
def test_unknown_command_or_option_is_a_usage_error(cli, check_error, argv):
    check_error(cli(*argv), usage=True)


@pytest.fixture
def no_data(monkeypatch):
    """Make loading data fail with an internal error, so no test here reads the corpus."""

    def fail(*args, **kwargs):
        raise AssertionError("load_train_test must not be reached")

    monkeypatch.setattr(poisonlab.data, "load_train_test", fail)


def test_parameter_error_becomes_one_line_and_exit_2(cli, check_error, no_data):
    line = check_error(cli("attack", "label-flip", "--rate", "1.5"))
    assert "'rate'" in line and "1.5" in line


def test_traceback_option_reraises_library_errors(no_data):
    with pytest.raises(DataError, match=r"\.csv"):
        main(["--traceback", "attack", "label-flip", "--rate", "0.1", "--out", "poisoned.txt"])


def _raiser(error):
    def raise_it(*args, **kwargs):
        raise error

    return raise_it


def test_internal_error_is_exit_70_with_one_line(cli, monkeypatch):
    monkeypatch.setattr(poisonlab.data, "load_train_test", _raiser(RuntimeError("disk on fire")))
    run = cli("attack", "label-flip", "--rate", "0.1", "--json")
    assert run.code == 70
    assert run.out == ""
    assert "Traceback" not in run.err
    lines = run.err.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("poisonlab: internal error: RuntimeError: disk on fire")
    assert "--traceback" in lines[0]


def test_internal_error_in_the_experiment_layer_is_exit_70(cli, monkeypatch):
    import poisonlab.experiments.evaluate as evaluate

    monkeypatch.setattr(evaluate, "evaluate_attack", _raiser(ZeroDivisionError("float division by zero")))
    run = cli("attack", "backdoor", "--n", "3")
    assert run.code == 70
    assert run.err.count("\n") == 1
    assert run.err.startswith("poisonlab: internal error: ZeroDivisionError")


def test_traceback_option_reraises_internal_errors(monkeypatch):
    monkeypatch.setattr(poisonlab.data, "load_train_test", _raiser(RuntimeError("disk on fire")))
    with pytest.raises(RuntimeError, match="disk on fire"):
        main(["--traceback", "attack", "label-flip", "--rate", "0.1"])


def test_ctrl_c_is_exit_130(cli, monkeypatch):
    monkeypatch.setattr(poisonlab.data, "load_train_test", _raiser(KeyboardInterrupt()))
    run = cli("attack", "label-flip", "--rate", "0.1")
    assert run.code == 130
    assert run.err.strip() == "poisonlab: interrupted"
    assert "Traceback" not in run.err


def test_closed_stdout_pipe_is_not_an_error(cli, monkeypatch):
    monkeypatch.setattr(poisonlab.data, "load_train_test", _raiser(BrokenPipeError()))
    run = cli("attack", "label-flip", "--rate", "0.1")
    assert run.code == 0
    assert "Traceback" not in run.err
