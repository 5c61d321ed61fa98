"""The argument parser and the single error boundary, `main`."""

from __future__ import annotations

import argparse
import importlib
import sys
import warnings
from collections.abc import Sequence

from poisonlab._errors import DataWarning, PoisonlabError
from poisonlab.cli._common import EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE

DESCRIPTION = """\
Training-data poisoning of text classifiers, spam filters first.

Start with `poisonlab demo`: it replays the "train a tiny spam model and break it" article
with its own 14 messages, checks each of its claims, then runs the same attacks on the real
SMS Spam Collection (5,574 messages, bundled).
"""

EPILOG = """\
exit codes: 0 success; 1 a check failed; 2 bad usage or input; 70 internal error;
130 interrupted. Add --traceback to see the full trace of an error.
"""


class _VersionAction(argparse.Action):
    """``--version``: poisonlab's version and those of the libraries that decide its numbers."""

    def __call__(self, parser: argparse.ArgumentParser, *args: object, **kwargs: object) -> None:
        from poisonlab.cli._common import versions

        print(" ".join(f"{name} {version}" for name, version in versions().items()))
        parser.exit()


COMMANDS = (
    "demo",
    "attack",
    "defend",
    "search",
    "scan",
    "manifest",
    "train",
    "predict",
    "monitor",
    "gate",
    "sweep",
    "report",
)
"""Every command, in ``--help`` order; each is the module ``poisonlab.cli.<name>``."""


def _command_in(argv: Sequence[str] | None) -> str | None:
    """The command named in `argv`: its first word that is not an option."""
    for word in argv or ():
        if not word.startswith("-"):
            return word if word in COMMANDS else None
    return None


def _summary(module: object) -> str:
    """A command's one-line help: its module's ``HELP``, else its docstring's first line."""
    text = getattr(module, "HELP", None) or (getattr(module, "__doc__", None) or "").strip().splitlines()[0]
    return text.split(": ", 1)[-1].rstrip(".")


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The ``poisonlab`` parser, with full options for the command `argv` names.

    Only that command's options are built (building some imports scikit-learn or the detector
    registry); the others are listed with their one-line help, which is all ``--help`` shows.
    """
    parser = argparse.ArgumentParser(
        prog="poisonlab",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--version",
        action=_VersionAction,
        nargs=0,
        help="show the versions of poisonlab, scikit-learn, numpy",
    )
    parser.add_argument("--traceback", action="store_true", help="show the full trace on errors")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    wanted = _command_in(argv)
    for name in COMMANDS:
        module = importlib.import_module(f"poisonlab.cli.{name}")
        if name == wanted:
            module.add_parser(commands)
        else:  # listed for --help only: its options (and their imports) are built when it runs
            commands.add_parser(name, help=_summary(module))
    return parser


def _show_warning(message: Warning | str, category: type[Warning], *args: object, **kwargs: object) -> None:
    """Print a warning as one line on stderr: data warnings are for users, not developers."""
    if issubclass(category, DataWarning):
        print(f"poisonlab: warning: {message}", file=sys.stderr)
    else:
        print(f"poisonlab: warning ({category.__name__}): {message}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``poisonlab`` with `argv`; return the exit code. Never raises, never exits.

    Examples
    --------
    >>> main(["--version"])
    poisonlab 0.1.0 scikit-learn ... numpy ...
    0
    """
    arguments = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(arguments)
    try:
        options = parser.parse_args(arguments)
    except SystemExit as stop:  # argparse has printed usage or --help/--version
        return int(stop.code) if isinstance(stop.code, int) else EXIT_USAGE
    if options.command is None:
        parser.print_help()
        return EXIT_USAGE
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("always", DataWarning)
            warnings.showwarning = _show_warning
            code: int = options.handler(options)
        return code
    except PoisonlabError as error:
        if options.traceback:
            raise
        print(f"poisonlab: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("poisonlab: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return EXIT_OK
    except Exception as error:
        if options.traceback:
            raise
        print(
            f"poisonlab: internal error: {type(error).__name__}: {error} "
            "(this is a bug; rerun with --traceback and report it)",
            file=sys.stderr,
        )
        return EXIT_INTERNAL
