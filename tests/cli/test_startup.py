"""The CLI starts lean: building the parser imports no heavy library (the demo's speed depends on it)."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = (
    "sklearn",
    "scipy",
    "matplotlib",
    "cryptography",
    "cleanlab",
    "skops",
    "distributed",
    "dask",
    "opendp",
)


def test_parser_and_help_import_no_heavy_library():
    probe = (
        "import json, sys\n"
        "from poisonlab.cli.app import build_parser\n"
        "build_parser().format_help()\n"
        f"print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}} & set({list(HEAVY)!r}))))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert json.loads(done.stdout) == []
