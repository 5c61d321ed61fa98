"""Atomic file output: write to a temporary file beside the target, then rename."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO, TextIO


@contextlib.contextmanager
def atomic_text_writer(path: str | os.PathLike[str], *, newline: str | None = None) -> Iterator[TextIO]:
    """Open a text file that appears at `path` only when the block finishes without error.

    On any exception (Ctrl-C included) the temporary file is removed and `path` is untouched.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "out.txt"
    >>> with atomic_text_writer(target) as f:
    ...     _ = f.write("done")
    >>> target.read_text()
    'done'
    """
    with _atomic(path, "w", newline) as handle:
        yield handle


@contextlib.contextmanager
def atomic_binary_writer(path: str | os.PathLike[str]) -> Iterator[BinaryIO]:
    """`atomic_text_writer` for bytes.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "out.bin"
    >>> with atomic_binary_writer(target) as f:
    ...     _ = f.write(bytes([0]) + b"done")
    >>> target.read_bytes()
    b'\\x00done'
    """
    with _atomic(path, "wb", None) as handle:
        yield handle


@contextlib.contextmanager
def _atomic(path: str | os.PathLike[str], mode: str, newline: str | None) -> Iterator[Any]:
    target = Path(path)
    fd, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent or ".")
    try:
        os.chmod(temporary, _final_mode(target))
        if "b" in mode:
            handle = os.fdopen(fd, mode)
        else:
            handle = os.fdopen(fd, mode, encoding="utf-8", newline=newline)
        with handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def _final_mode(target: Path) -> int:
    """The mode a plain ``open(target, "w")`` would leave: the old file's, or 0o666 less the umask."""
    try:
        return target.stat().st_mode & 0o777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask
