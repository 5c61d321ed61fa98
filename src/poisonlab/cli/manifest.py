"""``poisonlab manifest create|verify|keygen``: record a dataset's rows, and check a copy against them."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from poisonlab._errors import DataError
from poisonlab.cli._common import EXIT_CHECK_FAILED, EXIT_OK, add_output_options, print_json

DESCRIPTION = """\
A manifest records a dataset row by row: for each row its id, a SHA-256 of its text (after
Unicode NFC and CRLF/CR -> LF; whitespace kept) and of its label, and where it came from;
then a Merkle root over all rows, the input file's SHA-256 and the rows per class. Verify a
later copy against it to see exactly which rows were added, removed, relabelled or modified.
Sign it with an Ed25519 key so nobody can edit the manifest itself unnoticed.

The file is JSON Lines (a header line, then one line per row), so git or DVC can version it.

examples:
  poisonlab manifest create sms_spam -o sms_spam.manifest.jsonl
  poisonlab manifest verify sms_spam --manifest sms_spam.manifest.jsonl
  poisonlab manifest keygen -o data-signing.key
  poisonlab manifest create train.csv -o train.manifest.jsonl --sign data-signing.key
  poisonlab manifest verify train.csv --manifest train.manifest.jsonl --verify-key data-signing.key.pub
"""

VERIFY_DESCRIPTION = """\
Compare DATA with a manifest. Rows are matched by id (a file's 'id' column, else row
numbers): a row is added (id not in the manifest), removed (id only in the manifest),
relabelled (label differs) or modified (text differs after normalisation). The manifest is
checked too: its rows must hash to its Merkle root and, with --verify-key, its header must
carry a valid signature by that key.

exit codes: 0 identical and intact; 1 rows differ, or the manifest fails a check (edited
after it was made, bad signature, wrong key); 2 bad input (missing file, a manifest that is
not valid JSON).

examples:
  poisonlab manifest verify train.csv --manifest train.manifest.jsonl
  poisonlab manifest verify train.csv --manifest train.manifest.jsonl --verify-key team.key.pub --json
"""

KEYGEN_DESCRIPTION = """\
Make an Ed25519 key pair for signing manifests: the private key at KEYFILE (PEM, file mode
0600: keep it secret) and the public key at KEYFILE.pub (PEM: share it, commit it). The
fingerprint printed is the one ssh-keygen -l would show. An existing key is never replaced
unless --force is given.

example:
  poisonlab manifest keygen -o ~/.config/poisonlab/data-signing.key
"""


def _non_negative(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid int value: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {value}")
    return value


def _data_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "data",
        metavar="DATA",
        help="bundled corpus (sms_spam, spamassassin, article) or a data file (CSV/TSV/JSONL/Parquet/UCI, "
        "or e-mail)",
    )
    group = parser.add_argument_group("reading DATA (give the same options to create and verify)")
    group.add_argument("--text-column", metavar="NAME", help="text column of a file (default: detected)")
    group.add_argument("--label-column", metavar="NAME", help="label column of a file (default: detected)")
    group.add_argument(
        "--format",
        dest="file_format",
        metavar="FORMAT",
        help="csv, tsv, jsonl, parquet or uci (default: detected)",
    )
    group.add_argument("--encoding", metavar="NAME", help="text encoding of a file (default: UTF-8)")
    group.add_argument(
        "--labels", metavar="CSV", help="e-mail only: CSV of message location or Message-ID, label"
    )


def add_parser(commands: Any) -> None:
    """Register ``manifest`` and its three subcommands."""
    parser = commands.add_parser(
        "manifest",
        help="record a dataset's rows in a (signed) manifest; verify a copy against it",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = parser.add_subparsers(dest="manifest_action", metavar="ACTION", required=True)
    create = actions.add_parser(
        "create",
        help="write the manifest of a dataset",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _data_options(create)
    create.add_argument("-o", "--out", required=True, metavar="MANIFEST", help="manifest file to write")
    create.add_argument("--sign", metavar="KEY", help="sign with this Ed25519 private key (PEM or OpenSSH)")
    create.add_argument(
        "--created",
        metavar="TIME",
        help="record this ISO 8601 time, or 'now' (default: none, so the same data gives the same bytes)",
    )
    add_output_options(create)
    create.set_defaults(handler=run_create)

    verify = actions.add_parser(
        "verify",
        help="check a dataset against a manifest: rows added, removed, relabelled, modified",
        description=VERIFY_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _data_options(verify)
    verify.add_argument("--manifest", required=True, metavar="MANIFEST", help="the manifest to check against")
    verify.add_argument(
        "--verify-key", metavar="PUB", help="require a valid signature by this Ed25519 public key"
    )
    verify.add_argument(
        "--limit",
        type=_non_negative,
        default=10,
        metavar="N",
        help="rows of each kind of change to list (default: 10; --json lists all)",
    )
    add_output_options(verify)
    verify.set_defaults(handler=run_verify)

    keygen = actions.add_parser(
        "keygen",
        help="make an Ed25519 key pair for signing manifests",
        description=KEYGEN_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    keygen.add_argument("-o", "--out", required=True, metavar="KEYFILE", help="private key file to write")
    keygen.add_argument("--force", action="store_true", help="replace an existing key pair")
    add_output_options(keygen)
    keygen.set_defaults(handler=run_keygen)


def _load(options: argparse.Namespace) -> Any:
    from poisonlab.data import load_dataset

    given = {
        "text_column": options.text_column,
        "label_column": options.label_column,
        "file_format": options.file_format,
        "encoding": options.encoding,
        "labels": options.labels,
    }
    return load_dataset(options.data, **{k: v for k, v in given.items() if v is not None})


def run_create(options: argparse.Namespace) -> int:
    """Write the manifest of DATA."""
    from poisonlab.data.manifest import create_manifest, describe_source, parse_created

    created = None if options.created is None else parse_created(options.created)
    if Path(options.data).exists() and Path(options.out).resolve() == Path(options.data).resolve():
        raise DataError(f"-o {options.out!r} is the data file itself; name another file for the manifest.")
    key = None
    if options.sign:
        from poisonlab.data.signing import load_private_key

        key = load_private_key(options.sign)
    dataset = _load(options)
    source = describe_source(options.data)
    header = create_manifest(dataset, options.out, source=source, created=created, signing_key=key)
    payload = {"manifest": str(options.out), "data": str(options.data), "header": header.to_dict()}
    if options.json:
        print_json(payload)
        return EXIT_OK
    from rich.console import Console
    from rich.markup import escape

    console = Console(highlight=False, soft_wrap=True)  # soft wrap: a hash is never broken across lines
    counts = escape(", ".join(f"{name} {count:,}" for name, count in header.counts.items()))
    console.print(
        f"Manifest of {header.rows:,} rows of {escape(source.name)} ({counts}) "
        f"written to {escape(str(options.out))}."
    )
    console.print(f"  Merkle root  {header.merkle_root}")
    if source.sha256 is not None:
        console.print(f"  Source file  sha256 {source.sha256}, {source.size:,} bytes")
    console.print(
        f"  Signed by    {header.signed_by}" if header.signed_by else "  Not signed (add --sign KEY)."
    )
    return EXIT_OK


def run_verify(options: argparse.Namespace) -> int:
    """Check DATA against a manifest; exit 1 when anything differs or a check fails."""
    from poisonlab.data.manifest import describe_source, read_manifest_header, verify_manifest

    read_manifest_header(options.manifest)  # a missing or broken manifest fails before the data loads
    key = None
    if options.verify_key:
        from poisonlab.data.signing import load_public_key

        key = load_public_key(options.verify_key)
    dataset = _load(options)
    result = verify_manifest(dataset, options.manifest, public_key=key, source=describe_source(options.data))
    if options.json:
        print_json({"manifest": str(options.manifest), "data": str(options.data), **result.to_dict()})
    else:
        render_verification(result, options.manifest, len(dataset), options.limit)
    return EXIT_OK if result.is_identical else EXIT_CHECK_FAILED


def render_verification(result: Any, manifest: str, n_data: int, limit: int) -> None:
    """Print a verification for people."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = Console(highlight=False, soft_wrap=True)
    header = result.header
    made = f", made {header.created}" if header.created else ""
    console.print(
        f"Manifest {escape(str(manifest))}: {header.rows:,} rows of {escape(header.source.name)} "
        f"({escape(header.tool + made)}); the data has {n_data:,} rows."
    )
    signed_by = escape(str(header.signed_by))
    signature = {
        "valid": f"[green]valid[/green], by {signed_by}",
        "invalid": "[red]FAILED[/red]",
        "unsigned": "not signed",
        "not checked": f"by {signed_by}, not checked (pass --verify-key to check it)",
    }[result.signature]
    console.print(f"Signature: {signature}")
    file_state = {True: "same as the manifest's", False: "differ from the manifest's", None: "no file hash"}
    console.print(f"File bytes: {file_state[result.file_matches]}")
    for problem in result.problems:
        console.print(f"[red]Problem:[/red] {escape(problem)}")
    counts = result.diff.counts()
    table = Table()
    table.add_column("Change since the manifest")
    table.add_column("Rows", justify="right")
    for kind, count in counts.items():
        table.add_row(kind, f"{count:,}")
    console.print(table)
    if limit and not result.diff.is_empty:
        rows = Table(title_justify="left", title=f"Changed rows (up to {limit} of each kind)")
        for column in ("Change", "Id", "Manifest row", "Data row", "Label"):
            rows.add_column(column, justify="right" if "row" in column else "left")
        for kind in counts:
            for change in getattr(result.diff, kind)[:limit]:
                label = {
                    "added": change.label_after,
                    "removed": change.label_before,
                    "relabelled": f"{change.label_before} -> {change.label_after}",
                    "modified": change.label_after,
                }[kind]
                rows.add_row(
                    kind,
                    escape(change.id),
                    "" if change.manifest_row is None else str(change.manifest_row),
                    "" if change.data_row is None else str(change.data_row),
                    escape(str(label)),
                )
        console.print(rows)
    for note in result.notes:
        console.print(f"Note: {escape(note)}")
    if result.problems:
        console.print("[bold red]Verdict: FAILED[/bold red]: the manifest does not check out (see problems).")
    elif result.diff.is_empty:
        console.print("[bold green]Verdict: identical[/bold green]: every row matches the manifest.")
    else:
        changed = ", ".join(f"{count:,} {kind}" for kind, count in counts.items() if count)
        console.print(f"[bold red]Verdict: CHANGED[/bold red]: {changed}.")


def run_keygen(options: argparse.Namespace) -> int:
    """Write an Ed25519 key pair."""
    from poisonlab.data.signing import generate_key

    keys = generate_key(options.out, overwrite=options.force)
    payload = {
        "private_key": str(keys.private),
        "public_key": str(keys.public),
        "fingerprint": keys.fingerprint,
    }
    if options.json:
        print_json(payload)
        return EXIT_OK
    from rich.console import Console
    from rich.markup import escape

    console = Console(highlight=False, soft_wrap=True)
    private, public = escape(str(keys.private)), escape(str(keys.public))
    console.print(f"Private key written to {private} (mode 0600; keep it secret).")
    console.print(f"Public key written to {public} (share it with whoever verifies).")
    console.print(f"Fingerprint: {keys.fingerprint}")
    console.print(
        f"Sign with:   poisonlab manifest create DATA -o MANIFEST --sign {private}\n"
        f"Verify with: poisonlab manifest verify DATA --manifest MANIFEST --verify-key {public}"
    )
    return EXIT_OK
