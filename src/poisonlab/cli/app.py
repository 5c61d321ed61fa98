"""The argument parser and the single error boundary, `main`."""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Sequence

from poisonlab._errors import DataWarning, PoisonlabError
from poisonlab.cli import attack as attack_command
from poisonlab.cli import demo as demo_command
from poisonlab.cli import manifest as manifest_command
from poisonlab.cli import report as report_command
from poisonlab.cli import search as search_command
from poisonlab.cli import sweep as sweep_command
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


def build_parser() -> argparse.ArgumentParser:
    """The full ``poisonlab`` parser."""
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
    demo_command.add_parser(commands)
    attack_command.add_parser(commands)
    search_command.add_parser(commands)
    manifest_command.add_parser(commands)
    sweep_command.add_parser(commands)
    report_command.add_parser(commands)
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
    parser = build_parser()
    arguments = list(sys.argv[1:] if argv is None else argv)
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
