"""Command-line options derived from a component's parameters, so every component gets a CLI.

A component is a frozen dataclass whose fields are its parameters and whose numpydoc
docstring documents each of them (the contract suites check both). Each field becomes an
option: its type from the annotation, its default from the dataclass, its help text and its
choices (``{"start", "end"}``) from the docstring. The budget fields `rate` and `n` become one
required either-or pair when the component has both. A parameter named like an option the
command has anyway (`victim`, `features`) becomes ``--attack-victim``, defaulting to the
command's own ``--victim``: the attacker's model is the victim under attack unless told apart.
"""

from __future__ import annotations

import argparse
import dataclasses
import inspect
import re
import types
import typing
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from poisonlab._errors import DataError

BUDGET_FIELDS = ("rate", "n")


@dataclasses.dataclass(frozen=True)
class ParameterDoc:
    """One parameter as its numpydoc docstring documents it."""

    spec: str
    description: str

    @property
    def choices(self) -> tuple[str, ...] | None:
        """The quoted values of a ``{"a", "b"}`` type spec, in order; None for other specs.

        Examples
        --------
        >>> ParameterDoc('{"start", "end"}', "").choices
        ('start', 'end')
        """
        match = re.match(r"\s*\{(.*)\}", self.spec)
        if not match:
            return None
        found = tuple(a or b for a, b in re.findall(r"\"([^\"]*)\"|'([^']*)'", match.group(1)))
        return found or None


def parameter_docs(doc: str | None) -> dict[str, ParameterDoc]:
    """The Parameters section of a numpydoc docstring: name -> spec and description.

    A line ``source, target : str`` documents both names with one description.

    Examples
    --------
    >>> doc = '''Summary.
    ...
    ... Parameters
    ... ----------
    ... rate, n : float or int
    ...     The budget.
    ... mode : {"insert", "inject"}
    ...
    ... Examples
    ... --------
    ... '''
    >>> docs = parameter_docs(doc)
    >>> docs["n"].description, docs["mode"].choices
    ('The budget.', ('insert', 'inject'))
    """
    lines = inspect.cleandoc(doc or "").splitlines()
    found: dict[str, ParameterDoc] = {}
    inside = False
    names: list[str] = []
    spec = ""
    description: list[str] = []

    def flush() -> None:
        for name in names:
            found[name] = ParameterDoc(spec, " ".join(description))

    for i, line in enumerate(lines):
        underline = lines[i + 1].strip() if i + 1 < len(lines) else ""
        if line.strip() and underline and set(underline) == {"-"}:
            flush()
            names, description = [], []
            inside = line.strip() == "Parameters"
            continue
        if not inside or (line.strip() and set(line.strip()) == {"-"}):
            continue
        if line and not line[0].isspace():
            flush()
            head, _, spec = line.partition(" : ")
            names = [part.strip() for part in head.split(",") if part.strip()]
            spec, description = spec.strip(), []
        elif line.strip():
            description.append(line.strip())
    flush()
    return found


@dataclasses.dataclass(frozen=True)
class Option:
    """How one parameter appears on the command line."""

    field: str
    flags: tuple[str, ...]
    kind: str  # "text", "int", "float", "flag" or "list"
    default: Any
    is_required: bool
    choices: tuple[str, ...] | None
    help: str
    file_flag: str | None = None
    is_optional: bool = False
    is_shared: bool = False

    @property
    def dest(self) -> str:
        """The attribute of the parsed options that holds the value."""
        return f"param_{self.field}"

    @property
    def file_dest(self) -> str:
        """The attribute holding the file of values, for list options."""
        return f"param_{self.field}_file"


def _kind(hint: Any) -> str:
    """The option kind of a field's type annotation."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        kinds = {_kind(arg) for arg in args if arg is not type(None)}
        if len(kinds) == 1:
            return kinds.pop()
        return "float" if kinds == {"int", "float"} else "text"
    if origin in (tuple, list, Sequence) or hint in (tuple, list):
        return "list"
    return {bool: "flag", int: "int", float: "float"}.get(hint, "text")


def _is_optional(hint: Any) -> bool:
    """Whether None is a value of the annotation (``int | None``)."""
    return typing.get_origin(hint) in (typing.Union, types.UnionType) and type(None) in typing.get_args(hint)


def _number(kind: str, is_optional: bool) -> Any:
    """The argparse type of a number option; ``none`` gives None where the parameter allows it."""
    convert = int if kind == "int" else float

    def number(text: str) -> int | float | None:
        if is_optional and text.strip().lower() == "none":
            return None
        return convert(text)

    number.__name__ = convert.__name__  # argparse names the type in its error: "invalid int value"
    return number


def _singular(name: str) -> str:
    return name[:-1] if name.endswith("s") and not name.endswith("ss") else name


def component_options(cls: type, shared: Sequence[str] = ()) -> list[Option]:
    """The options of every parameter of `cls` except the budget.

    A parameter named in `shared` is an option the command already has: it becomes
    ``--attack-NAME`` and, when not given, takes the value of the command's ``--NAME``.

    Examples
    --------
    >>> from poisonlab.attacks import Backdoor
    >>> [o.flags for o in component_options(Backdoor)][-1]
    ('--carrier', '--carriers')
    """
    try:
        hints = typing.get_type_hints(cls)
    except (NameError, TypeError):  # an annotation only a type checker can resolve: options take text
        hints = {}
    docs = parameter_docs(cls.__doc__)
    options = []
    for field in dataclasses.fields(cls):
        if field.name in BUDGET_FIELDS:
            continue
        hint = hints.get(field.name, str)
        kind = _kind(hint)
        is_optional = _is_optional(hint)
        has_default = (
            field.default is not dataclasses.MISSING or field.default_factory is not dataclasses.MISSING
        )
        default = field.default if field.default is not dataclasses.MISSING else None
        doc = docs.get(field.name, ParameterDoc("", ""))
        is_shared = field.name in shared
        flag = ("--attack-" if is_shared else "--") + field.name.replace("_", "-")
        flags: tuple[str, ...] = (flag,)
        file_flag = None
        if kind == "list":
            single = "--" + _singular(field.name).replace("_", "-")
            flags = (single, flag) if single != flag else (flag,)
            file_flag = f"{flag}-file"
        choices = doc.choices if kind == "text" else None
        text = doc.description or doc.spec or field.name.replace("_", " ")
        if kind == "list":
            text += f" Repeatable; or one per line from {file_flag} FILE."
        if is_shared:
            text += f" (default: the value of --{field.name.replace('_', '-')})"
        elif not has_default:
            text += " (required)"
        elif default is not None and kind != "flag":
            unset = "; none for None" if is_optional and kind in ("int", "float") else ""
            text += f" (default: {default}{unset})"
        options.append(
            Option(
                field.name,
                flags,
                kind,
                default,
                not has_default,
                choices,
                text.replace("%", "%%"),
                file_flag,
                is_optional,
                is_shared,
            )
        )
    return options


def has_budget(cls: type) -> bool:
    """Whether `cls` takes the usual budget: both `rate` and `n`."""
    return {f.name for f in dataclasses.fields(cls)} >= set(BUDGET_FIELDS)


def add_component_options(parser: argparse.ArgumentParser, cls: type, shared: Sequence[str] = ()) -> None:
    """Add an option per parameter of `cls` to `parser`, and the budget pair (see `component_options`)."""
    group = parser.add_argument_group("parameters")
    for option in component_options(cls, shared):
        metavar = option.field.upper()
        if option.kind == "flag":
            group.add_argument(
                *option.flags,
                dest=option.dest,
                action=argparse.BooleanOptionalAction,
                default=option.default,
                help=option.help,
            )
        elif option.kind == "list":
            group.add_argument(
                *option.flags, dest=option.dest, action="extend", nargs="+", metavar="TEXT", help=option.help
            )
            if option.file_flag is not None:
                group.add_argument(
                    option.file_flag,
                    dest=option.file_dest,
                    metavar="FILE",
                    help="UTF-8 text file, one per line",
                )
        else:
            group.add_argument(
                *option.flags,
                dest=option.dest,
                type=_number(option.kind, option.is_optional) if option.kind in ("int", "float") else str,
                default=None if option.is_shared else option.default,
                required=option.is_required and not option.is_shared,
                choices=option.choices,
                metavar=None if option.choices else metavar,
                help=option.help,
            )
    if has_budget(cls):
        budget = parser.add_argument_group("budget (give one)")
        fields = {f.name: f for f in dataclasses.fields(cls)}
        is_required = fields["rate"].default is None and fields["n"].default is None
        pair = budget.add_mutually_exclusive_group(required=is_required)
        pair.add_argument(
            "--rate",
            dest="param_rate",
            type=float,
            metavar="FRACTION",
            help="poison rate: fraction of the training set, in (0, 1]",
        )
        pair.add_argument("--n", dest="param_n", type=int, metavar="ROWS", help="number of poison rows")


def _read_lines(path: str, flag: str) -> list[str]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DataError(f"{flag}: no such file: {path}.") from None
    except IsADirectoryError:
        raise DataError(f"{flag}: {path} is a folder, not a file.") from None
    except UnicodeDecodeError:
        raise DataError(f"{flag}: {path} is not UTF-8 text.") from None
    except OSError as error:
        raise DataError(f"{flag}: cannot read {path}: {error.strerror or error}.") from None
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        raise DataError(f"{flag}: {path} holds no non-blank lines.")
    return lines


def component_kwargs(cls: type, options: argparse.Namespace, shared: Sequence[str] = ()) -> dict[str, Any]:
    """The parameters of `cls` as parsed into `options` by `add_component_options`.

    A list parameter collects its repeated option and its file's lines (None when neither
    is given); a shared parameter not given takes the command's own option; the component
    validates every value itself.
    """
    kwargs: dict[str, Any] = {}
    for option in component_options(cls, shared):
        value = getattr(options, option.dest)
        if option.is_shared and value is None:
            value = getattr(options, option.field)
        if option.kind == "list":
            items = list(value or [])
            path = getattr(options, option.file_dest)
            if path is not None:
                items += _read_lines(path, option.file_flag or "")
            value = tuple(items) if items else option.default
        kwargs[option.field] = value
    if has_budget(cls):
        kwargs["rate"] = options.param_rate
        kwargs["n"] = options.param_n
    return kwargs


def summary(cls: type) -> str:
    """The first line of the docstring of `cls`."""
    return inspect.cleandoc(cls.__doc__ or "").split("\n", 1)[0].strip()


def description(cls: type) -> str:
    """The docstring of `cls` up to its first section (Parameters, Examples, ...)."""
    lines = inspect.cleandoc(cls.__doc__ or "").splitlines()
    kept = []
    for i, line in enumerate(lines):
        underline = lines[i + 1].strip() if i + 1 < len(lines) else ""
        if line.strip() and underline and set(underline) == {"-"}:
            break
        kept.append(line)
    return "\n".join(kept).strip()


def command_line(component: Any, shared: Sequence[str] = ()) -> list[str]:
    """The options that rebuild `component` from its defaults: its non-default parameters.

    Examples
    --------
    >>> from poisonlab.attacks import Backdoor
    >>> command_line(Backdoor(trigger="limited offer", n=3, mode="inject"))
    ['--trigger', 'limited offer', '--mode', 'inject', '--n', '3']
    """
    cls = type(component)
    argv: list[str] = []
    for option in component_options(cls, shared):
        value = getattr(component, option.field)
        if value == option.default and not option.is_required:
            continue
        if option.kind == "flag":
            argv.append(option.flags[0] if value else "--no-" + option.flags[0][2:])
        elif option.kind == "list":
            for item in value:
                argv += [option.flags[0], str(item)]
        else:
            argv += [option.flags[0], "none" if value is None else str(value)]
    for name in BUDGET_FIELDS if has_budget(cls) else ():
        if getattr(component, name) is not None:
            argv += [f"--{name}", str(getattr(component, name))]
    return argv


def command_name(name: str) -> str:
    """The subcommand of a registered component: its registry name with hyphens (``label-flip``)."""
    return name.replace("_", "-")


def add_component_commands(
    parser: argparse.ArgumentParser,
    registry: Any,
    *,
    dest: str,
    metavar: str,
    examples: Any,
    on_list: Any,
) -> list[tuple[str, type, argparse.ArgumentParser]]:
    """Give `parser` a ``--list [--json]`` and one subcommand per component of `registry`.

    Each subcommand is the component's hyphenated name (its registry name as an alias), with its
    description, paper and `examples(name, cls)` as help. `on_list(options, parser)` handles the
    command given without a component. Returns ``(name, class, subparser)`` for the caller to
    add the component's own options.
    """
    parser.add_argument(
        "--list",
        action="store_true",
        help=f"list every {metavar.lower()} with its parameters and paper, then exit",
    )
    parser.add_argument("--json", dest="list_json", action="store_true", help="with --list: print JSON")
    parser.set_defaults(handler=lambda options: on_list(options, parser))
    kinds = parser.add_subparsers(dest=dest, metavar=metavar)
    made = []
    for name in registry.names():
        cls = registry.get(name)
        text = f"{description(cls)}\n\npaper: {cls.paper}"
        sub = kinds.add_parser(
            command_name(name),
            aliases=[name] if command_name(name) != name else [],
            help=summary(cls).replace("%", "%%"),
            description=text.replace("%", "%%"),
            epilog=examples(name, cls).replace("%", "%%"),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        made.append((name, cls, sub))
    return made


def describe_parameters(cls: type, shared: Sequence[str] = ()) -> list[dict[str, Any]]:
    """A component's command-line parameters, JSON-ready, for ``--list --json``."""
    return [
        {
            "name": option.field,
            "option": option.flags[0],
            "kind": option.kind,
            "default": list(option.default) if isinstance(option.default, tuple) else option.default,
            "required": option.is_required,
            "choices": None if option.choices is None else list(option.choices),
            "help": option.help.replace("%%", "%"),
        }
        for option in component_options(cls, shared)
    ]
