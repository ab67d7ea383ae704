"""The SQLite database behind the run history: URLs, connections and the schema."""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

from loom.core.errors import ConfigurationError

__all__ = ["SCHEMA", "Database", "path_from_url"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS loom_etl_runs (
    run_id TEXT PRIMARY KEY,
    pipeline TEXT NOT NULL,
    pipeline_ref TEXT,
    status TEXT NOT NULL,
    params TEXT NOT NULL,
    include_steps TEXT,
    attempt INTEGER NOT NULL DEFAULT 1,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    error TEXT,
    host TEXT,
    pid INTEGER
);
CREATE INDEX IF NOT EXISTS loom_etl_runs_by_pipeline ON loom_etl_runs (pipeline, started_at);
CREATE TABLE IF NOT EXISTS loom_etl_steps (
    run_id TEXT NOT NULL,
    step TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    position INTEGER,
    process TEXT,
    status TEXT NOT NULL,
    target TEXT,
    write_mode TEXT,
    rows_read INTEGER,
    rows_written INTEGER,
    duration_s REAL,
    version INTEGER,
    error TEXT,
    error_code TEXT,
    started_at TEXT,
    finished_at TEXT,
    PRIMARY KEY (run_id, step, attempt)
);
CREATE TABLE IF NOT EXISTS loom_etl_lineage (
    run_id TEXT NOT NULL,
    step TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    direction TEXT NOT NULL,
    attribute TEXT NOT NULL,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    location TEXT NOT NULL,
    rows INTEGER,
    version INTEGER
);
CREATE INDEX IF NOT EXISTS loom_etl_lineage_by_run ON loom_etl_lineage (run_id, step);
CREATE TABLE IF NOT EXISTS loom_etl_watermarks (
    pipeline TEXT NOT NULL,
    step TEXT NOT NULL,
    source TEXT NOT NULL,
    cursor TEXT NOT NULL,
    value TEXT NOT NULL,
    value_type TEXT NOT NULL,
    run_id TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (pipeline, step, source)
);
CREATE TABLE IF NOT EXISTS loom_etl_pending_marks (
    run_id TEXT NOT NULL,
    step TEXT NOT NULL,
    source TEXT NOT NULL,
    pipeline TEXT NOT NULL,
    cursor TEXT NOT NULL,
    value TEXT NOT NULL,
    value_type TEXT NOT NULL,
    PRIMARY KEY (run_id, step, source)
);
"""


def path_from_url(url: str) -> str:
    """The database file of a ``sqlite:///path`` URL (``:memory:`` for an in-memory one).

    ``sqlite:///./lake/runs.db`` and ``sqlite:///lake/runs.db`` are relative to the
    current directory; ``sqlite:////srv/runs.db`` is absolute.

    Raises:
        ConfigurationError: not a ``sqlite://`` URL.
    """
    scheme, sep, rest = url.partition("://")
    if not sep or scheme.lower() not in ("sqlite", "sqlite3"):
        raise ConfigurationError(
            f"history.url: {url!r} is not supported; loom-etl keeps run history in SQLite: "
            "use sqlite:///path/to/runs.db"
        )
    if rest in ("", "/", "/:memory:"):
        return ":memory:"
    if not rest.startswith("/"):
        raise ConfigurationError(
            f"history.url: {url!r} has a host part; write sqlite:///relative/path.db or "
            "sqlite:////absolute/path.db"
        )
    return rest[1:]


class Database:
    """Short-lived connections to one SQLite file, one per operation (thread-safe).

    The file and its tables are created on first use, so a history nobody writes leaves
    nothing on disk. It is in WAL mode with ``synchronous=NORMAL``: a commit survives a
    crash of the process (not necessarily a power cut). One idle connection stays open
    for the object's lifetime, so closing the short ones does not checkpoint the log
    each time; an in-memory database (``:memory:``) lives as long as that connection.
    """

    __slots__ = ("_anchor", "_lock", "_target", "_uri", "path")

    def __init__(self, path: str) -> None:
        if path == ":memory:":
            self.path = ":memory:"
            self._target = f"file:loom-etl-{uuid.uuid4().hex}?mode=memory&cache=shared"
            self._uri = True
        else:
            self.path = str(Path(path).expanduser().resolve())
            self._target = self.path
            self._uri = False
        self._anchor: sqlite3.Connection | None = None
        self._lock = threading.Lock()

    def _open(self) -> None:
        with self._lock:
            if self._anchor is not None:
                return
            if not self._uri:
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            anchor = sqlite3.connect(
                self._target, uri=self._uri, timeout=30, check_same_thread=False
            )
            if not self._uri:
                anchor.execute("PRAGMA journal_mode=WAL")
            anchor.executescript(SCHEMA)
            self._anchor = anchor

    @contextlib.contextmanager
    def connect(self) -> Iterator[sqlite3.Connection]:
        """A connection inside one transaction: committed on success, rolled back on error.

        Raises:
            sqlite3.Error: the database cannot be opened or the statement fails.
            OSError: its folder cannot be created.
        """
        if self._anchor is None:
            self._open()
        conn = sqlite3.connect(self._target, uri=self._uri, timeout=30)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA synchronous=NORMAL")
        try:
            with conn:
                yield conn
        finally:
            conn.close()

    def close(self) -> None:
        """Release the idle connection (an in-memory database is gone afterwards)."""
        with self._lock:
            if self._anchor is not None:
                self._anchor.close()
                self._anchor = None
