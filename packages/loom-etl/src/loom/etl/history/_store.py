"""``RunHistory``: runs, step attempts, lineage and high-water marks in SQLite."""

from __future__ import annotations

import json
import os
import socket
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from loom.etl.errors import HistoryError
from loom.etl.history._codec import decode_value, encode_value, from_iso, to_iso
from loom.etl.history._rows import LineageRow, RunRow, StepRow, Watermark
from loom.etl.history._sqlite import Database, path_from_url

__all__ = ["RunHistory"]

_STEP_COLUMNS = (
    "run_id, step, attempt, position, process, status, target, write_mode, rows_read, "
    "rows_written, duration_s, version, error, error_code, started_at, finished_at"
)


def _run_row(row: sqlite3.Row) -> RunRow:
    include = row["include_steps"]
    started = from_iso(row["started_at"])
    assert started is not None
    return RunRow(
        run_id=row["run_id"],
        pipeline=row["pipeline"],
        pipeline_ref=row["pipeline_ref"],
        status=row["status"],
        params=json.loads(row["params"]),
        include=None if include is None else tuple(json.loads(include)),
        attempt=row["attempt"],
        started_at=started,
        finished_at=from_iso(row["finished_at"]),
        error=row["error"],
        host=row["host"],
        pid=row["pid"],
    )


def _step_row(row: sqlite3.Row) -> StepRow:
    return StepRow(
        **{k: v for k, v in dict(row).items() if k not in ("started_at", "finished_at")},
        started_at=from_iso(row["started_at"]),
        finished_at=from_iso(row["finished_at"]),
    )


def _step_values(row: StepRow) -> tuple[Any, ...]:
    return (
        row.run_id,
        row.step,
        row.attempt,
        row.position,
        row.process,
        row.status,
        row.target,
        row.write_mode,
        row.rows_read,
        row.rows_written,
        row.duration_s,
        row.version,
        row.error,
        row.error_code,
        to_iso(row.started_at),
        to_iso(row.finished_at),
    )


def _newer(value: Any, than: Any) -> bool:
    try:
        return bool(value > than)
    except TypeError:
        return True


class RunHistory:
    """The run history of one lake: every run, step attempt, lineage edge and mark.

    Args:
        url: A ``sqlite:///path`` URL (``sqlite:///:memory:`` keeps it in memory).

    Every method opens its own short connection, so one history serves the threads of
    parallel groups and several processes at once (SQLite in WAL mode).

    The database is created on first use; any method raises :class:`HistoryError` when
    it cannot be opened, created or written.

    Raises:
        ConfigurationError: the URL is not a ``sqlite://`` URL.
    """

    __slots__ = ("_db", "url")

    def __init__(self, url: str) -> None:
        self.url = url
        self._db = Database(path_from_url(url))

    @property
    def path(self) -> str:
        """The database file (``:memory:`` for an in-memory history)."""
        return self._db.path

    @contextmanager
    def _tx(self, doing: str) -> Iterator[sqlite3.Connection]:
        try:
            with self._db.connect() as conn:
                yield conn
        except (sqlite3.Error, OSError) as exc:
            raise HistoryError(
                f"run history {self.url}: {doing} failed: {exc}",
                fix="check history.url, that its folder is writable and the file a database",
            ) from exc

    def close(self) -> None:
        """Release resources (an in-memory history is gone afterwards)."""
        self._db.close()

    # -- runs ---------------------------------------------------------------------------

    def start_run(
        self,
        *,
        run_id: str,
        pipeline: str,
        pipeline_ref: str | None,
        params: Mapping[str, Any],
        include: Sequence[str] | None,
        started_at: Any,
    ) -> None:
        """Record a new run as ``running``.

        Raises:
            HistoryError: a run with this id exists already.
        """
        with self._tx(f"starting run {run_id}") as conn:
            if conn.execute("SELECT 1 FROM loom_etl_runs WHERE run_id = ?", (run_id,)).fetchone():
                raise HistoryError(
                    f"run {run_id} is already in the history {self.url}",
                    fix="use a new run id, or resume the run",
                )
            conn.execute(
                "INSERT INTO loom_etl_runs (run_id, pipeline, pipeline_ref, status, params, "
                "include_steps, attempt, started_at, host, pid) "
                "VALUES (?, ?, ?, 'running', ?, ?, 1, ?, ?, ?)",
                (
                    run_id,
                    pipeline,
                    pipeline_ref,
                    json.dumps(dict(params), sort_keys=True),
                    None if include is None else json.dumps(list(include)),
                    to_iso(started_at),
                    socket.gethostname(),
                    os.getpid(),
                ),
            )

    def resume_run(self, run_id: str) -> int:
        """Mark run ``run_id`` as ``running`` again; return the new attempt number."""
        with self._tx(f"resuming run {run_id}") as conn:
            conn.execute(
                "UPDATE loom_etl_runs SET status = 'running', attempt = attempt + 1, "
                "finished_at = NULL, error = NULL, host = ?, pid = ? WHERE run_id = ?",
                (socket.gethostname(), os.getpid(), run_id),
            )
            row = conn.execute(
                "SELECT attempt FROM loom_etl_runs WHERE run_id = ?", (run_id,)
            ).fetchone()
        if row is None:
            raise HistoryError(f"run {run_id} is not in the history {self.url}")
        return int(row["attempt"])

    def finish_run(self, run_id: str, *, status: str, finished_at: Any, error: str | None) -> None:
        """Record how run ``run_id`` ended."""
        with self._tx(f"finishing run {run_id}") as conn:
            conn.execute(
                "UPDATE loom_etl_runs SET status = ?, finished_at = ?, error = ? WHERE run_id = ?",
                (status, to_iso(finished_at), error, run_id),
            )

    def run(self, run_id: str) -> RunRow | None:
        """Run ``run_id``, or ``None`` when the history does not have it."""
        with self._tx(f"reading run {run_id}") as conn:
            row = conn.execute("SELECT * FROM loom_etl_runs WHERE run_id = ?", (run_id,)).fetchone()
        return None if row is None else _run_row(row)

    def runs(self, pipeline: str | None = None, *, limit: int = 20) -> list[RunRow]:
        """The newest runs (of ``pipeline``, when given), newest first."""
        query = "SELECT * FROM loom_etl_runs"
        args: tuple[Any, ...] = ()
        if pipeline is not None:
            query += " WHERE pipeline = ?"
            args = (pipeline,)
        query += " ORDER BY started_at DESC, rowid DESC LIMIT ?"
        with self._tx("listing runs") as conn:
            rows = conn.execute(query, (*args, limit)).fetchall()
        return [_run_row(row) for row in rows]

    # -- steps and lineage ----------------------------------------------------------------

    def step_started(self, row: StepRow) -> None:
        """Record a step attempt as ``running`` (before it reads or writes anything)."""
        with self._tx(f"recording step {row.step}") as conn:
            conn.execute(
                f"INSERT OR REPLACE INTO loom_etl_steps ({_STEP_COLUMNS}) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                _step_values(row),
            )

    def stage_marks(
        self, run_id: str, pipeline: str, step: str, marks: Mapping[str, tuple[str, Any]]
    ) -> None:
        """Keep the marks a step will reach, before its commit (promoted once it commits)."""
        with self._tx(f"staging the marks of step {step}") as conn:
            conn.execute(
                "DELETE FROM loom_etl_pending_marks WHERE run_id = ? AND step = ?", (run_id, step)
            )
            for source, (cursor, value) in marks.items():
                text, tag = encode_value(value)
                conn.execute(
                    "INSERT INTO loom_etl_pending_marks VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (run_id, step, source, pipeline, cursor, text, tag),
                )

    def step_finished(
        self,
        row: StepRow,
        *,
        pipeline: str,
        lineage: Sequence[LineageRow] = (),
        marks: Mapping[str, tuple[str, Any]] | None = None,
    ) -> None:
        """Record how a step attempt ended, in one transaction with its lineage and marks.

        When the step succeeded, its marks advance: ``marks`` when given (read back from
        the commit), else the ones staged for it. Otherwise the staged marks are dropped
        and the marks stay where they were.
        """
        with self._tx(f"recording step {row.step}") as conn:
            conn.execute(
                f"INSERT OR REPLACE INTO loom_etl_steps ({_STEP_COLUMNS}) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                _step_values(row),
            )
            conn.executemany(
                "INSERT INTO loom_etl_lineage VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        e.run_id,
                        e.step,
                        e.attempt,
                        e.direction,
                        e.attribute,
                        e.kind,
                        e.name,
                        e.location,
                        e.rows,
                        e.version,
                    )
                    for e in lineage
                ],
            )
            if row.status == "succeeded":
                self._promote(conn, row, pipeline, marks)
            conn.execute(
                "DELETE FROM loom_etl_pending_marks WHERE run_id = ? AND step = ?",
                (row.run_id, row.step),
            )

    def _promote(
        self,
        conn: sqlite3.Connection,
        row: StepRow,
        pipeline: str,
        marks: Mapping[str, tuple[str, Any]] | None,
    ) -> None:
        if marks is None:
            staged = conn.execute(
                "SELECT source, cursor, value, value_type FROM loom_etl_pending_marks "
                "WHERE run_id = ? AND step = ?",
                (row.run_id, row.step),
            ).fetchall()
            marks = {
                s["source"]: (s["cursor"], decode_value(s["value"], s["value_type"]))
                for s in staged
            }
        for source, (cursor, value) in marks.items():
            current = self._mark(conn, pipeline, row.step, source)
            if (
                current is not None
                and current.cursor == cursor
                and not _newer(value, current.value)
            ):
                continue
            text, tag = encode_value(value)
            conn.execute(
                "INSERT OR REPLACE INTO loom_etl_watermarks VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    pipeline,
                    row.step,
                    source,
                    cursor,
                    text,
                    tag,
                    row.run_id,
                    to_iso(row.finished_at),
                ),
            )

    def steps(self, run_id: str) -> list[StepRow]:
        """Every attempt of every step of run ``run_id``, by attempt then position."""
        with self._tx(f"reading the steps of run {run_id}") as conn:
            rows = conn.execute(
                f"SELECT {_STEP_COLUMNS} FROM loom_etl_steps WHERE run_id = ? "
                "ORDER BY attempt, position, started_at",
                (run_id,),
            ).fetchall()
        return [_step_row(row) for row in rows]

    def latest_steps(self, run_id: str) -> list[StepRow]:
        """The latest attempt of each step of run ``run_id``, by position."""
        latest: dict[str, StepRow] = {}
        for row in self.steps(run_id):
            latest[row.step] = row
        return sorted(latest.values(), key=lambda r: (r.position or 0, r.step))

    def lineage(self, run_id: str) -> list[LineageRow]:
        """The lineage edges of run ``run_id``: step by step, sources (as declared) then target."""
        with self._tx(f"reading the lineage of run {run_id}") as conn:
            rows = conn.execute(
                "SELECT l.* FROM loom_etl_lineage l LEFT JOIN loom_etl_steps s "
                "ON s.run_id = l.run_id AND s.step = l.step AND s.attempt = l.attempt "
                "WHERE l.run_id = ? ORDER BY s.position, l.step, l.direction, l.rowid",
                (run_id,),
            ).fetchall()
        return [LineageRow(**dict(row)) for row in rows]

    # -- marks ----------------------------------------------------------------------------

    def _mark(
        self, conn: sqlite3.Connection, pipeline: str, step: str, source: str
    ) -> Watermark | None:
        row = conn.execute(
            "SELECT * FROM loom_etl_watermarks WHERE pipeline = ? AND step = ? AND source = ?",
            (pipeline, step, source),
        ).fetchone()
        if row is None:
            return None
        updated = from_iso(row["updated_at"])
        assert updated is not None
        return Watermark(
            pipeline,
            step,
            source,
            row["cursor"],
            decode_value(row["value"], row["value_type"]),
            row["run_id"],
            updated,
        )

    def watermark(self, pipeline: str, step: str, source: str) -> Watermark | None:
        """The high-water mark of ``pipeline``'s ``step``'s incremental ``source``."""
        with self._tx("reading a high-water mark") as conn:
            return self._mark(conn, pipeline, step, source)

    def watermarks(self, pipeline: str) -> list[Watermark]:
        """Every high-water mark of ``pipeline``."""
        with self._tx("reading high-water marks") as conn:
            keys = conn.execute(
                "SELECT step, source FROM loom_etl_watermarks WHERE pipeline = ? "
                "ORDER BY step, source",
                (pipeline,),
            ).fetchall()
            marks = [self._mark(conn, pipeline, k["step"], k["source"]) for k in keys]
        return [m for m in marks if m is not None]

    def unfinished_steps(self, pipeline: str) -> list[tuple[StepRow, str]]:
        """Step attempts of ``pipeline`` still ``running`` in the history, with the run's status.

        After a crash these are steps that may have committed without the history
        knowing; :class:`~loom.etl.ETLRunner` checks them against the tables' commits.
        """
        with self._tx("reading unfinished steps") as conn:
            rows = conn.execute(
                f"SELECT {', '.join('s.' + c.strip() for c in _STEP_COLUMNS.split(','))}, "
                "r.status AS run_status FROM loom_etl_steps s "
                "JOIN loom_etl_runs r ON r.run_id = s.run_id "
                "WHERE r.pipeline = ? AND s.status = 'running'",
                (pipeline,),
            ).fetchall()
        out = []
        for row in rows:
            data = dict(row)
            status = data.pop("run_status")
            started, finished = data.pop("started_at"), data.pop("finished_at")
            out.append(
                (
                    StepRow(**data, started_at=from_iso(started), finished_at=from_iso(finished)),
                    status,
                )
            )
        return out
