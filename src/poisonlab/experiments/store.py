"""The results store: one SQLite row per finished sweep cell, safe to kill at any moment.

SQLite in WAL mode with ``synchronous=FULL``; every finished cell is committed in its own
transaction, so a run killed by SIGINT or SIGKILL keeps every cell it finished and never leaves
a half-written row. Rerunning a spec skips the cells whose key is already stored.
"""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path
from types import TracebackType
from typing import Any

from poisonlab._errors import DataError
from poisonlab._versions import library_versions

SCHEMA_VERSION = "1"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS cells (
    key TEXT PRIMARY KEY,
    sweep TEXT NOT NULL,
    cell TEXT NOT NULL,
    metrics TEXT NOT NULL,
    timings TEXT NOT NULL,
    versions TEXT NOT NULL,
    fingerprint TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS errors (
    key TEXT PRIMARY KEY,
    sweep TEXT NOT NULL,
    cell TEXT NOT NULL,
    error TEXT NOT NULL
);
"""


def _dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, allow_nan=True)


class ResultStore:
    """A sweep's results in an SQLite file.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "results.sqlite"
    >>> result = {"metrics": {"cacc": 0.9}, "timings": {}, "fingerprint": "f"}
    >>> with ResultStore(path) as store:
    ...     store.add("k1", "demo", {"seed": 0}, result)
    ...     sorted(store.finished_keys()), store.rows()[0]["metrics"]
    (['k1'], {'cacc': 0.9})
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        if self.path.is_dir():
            raise DataError(f"The store {self.path} is a folder; name an SQLite file.")
        try:
            self._connection = sqlite3.connect(self.path, isolation_level=None)
            self._connection.execute("PRAGMA journal_mode=WAL")
            self._connection.execute("PRAGMA synchronous=FULL")
            self._connection.executescript(_SCHEMA)
            stored = self._connection.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
        except sqlite3.DatabaseError as error:
            raise DataError(f"{self.path} is not a poisonlab results store ({error}).") from None
        if stored is None:
            self._connection.execute("INSERT INTO meta VALUES ('schema', ?)", (SCHEMA_VERSION,))
        elif stored[0] != SCHEMA_VERSION:
            raise DataError(
                f"{self.path} uses store schema {stored[0]}; this poisonlab reads {SCHEMA_VERSION}."
            )

    def __enter__(self) -> ResultStore:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the database."""
        self._connection.close()

    def finished_keys(self) -> set[str]:
        """Keys of every stored (finished) cell."""
        return {row[0] for row in self._connection.execute("SELECT key FROM cells")}

    def add(self, key: str, sweep: str, cell: dict[str, Any], result: dict[str, Any]) -> None:
        """Store one finished cell in its own transaction; clears an earlier error for it."""
        with self._transaction():
            self._connection.execute(
                "INSERT OR REPLACE INTO cells VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    key,
                    sweep,
                    _dumps(cell),
                    _dumps(result["metrics"]),
                    _dumps(result["timings"]),
                    _dumps(library_versions()),
                    result["fingerprint"],
                ),
            )
            self._connection.execute("DELETE FROM errors WHERE key = ?", (key,))

    def add_error(self, key: str, sweep: str, cell: dict[str, Any], error: str) -> None:
        """Record a cell that failed (it is not finished: a rerun tries it again)."""
        with self._transaction():
            self._connection.execute(
                "INSERT OR REPLACE INTO errors VALUES (?, ?, ?, ?)", (key, sweep, _dumps(cell), error)
            )

    def rows(self, *, sweep: str | None = None) -> list[dict[str, Any]]:
        """Every stored cell, ordered by key, with its JSON columns decoded."""
        query = "SELECT key, sweep, cell, metrics, timings, versions, fingerprint FROM cells"
        args: tuple[str, ...] = ()
        if sweep is not None:
            query += " WHERE sweep = ?"
            args = (sweep,)
        return [
            {
                "key": key,
                "sweep": name,
                "cell": json.loads(cell),
                "metrics": json.loads(measured),
                "timings": json.loads(timings),
                "versions": json.loads(versions),
                "fingerprint": fingerprint,
            }
            for key, name, cell, measured, timings, versions, fingerprint in self._connection.execute(
                query + " ORDER BY key", args
            )
        ]

    def errors(self) -> list[dict[str, Any]]:
        """Cells that failed, ordered by key."""
        return [
            {"key": key, "sweep": name, "cell": json.loads(cell), "error": error}
            for key, name, cell, error in self._connection.execute(
                "SELECT key, sweep, cell, error FROM errors ORDER BY key"
            )
        ]

    def _transaction(self) -> _Transaction:
        return _Transaction(self._connection)


class _Transaction:
    """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on any error: a row is written whole or not at all."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection = connection

    def __enter__(self) -> None:
        self.connection.execute("BEGIN IMMEDIATE")

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.connection.execute("COMMIT" if kind is None else "ROLLBACK")
