"""What the run history holds: runs, step attempts, lineage edges and high-water marks."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["LineageRow", "RunRow", "StepRow", "Watermark"]


@dataclass(frozen=True, slots=True)
class RunRow:
    """One run of a pipeline.

    Attributes:
        run_id: The run's id (also ``loom.run_id`` in its Delta commits).
        pipeline: Pipeline name (its class name).
        pipeline_ref: ``module:qualname`` of the pipeline class, to import it on resume.
        status: ``running``, ``succeeded`` or ``failed``.
        params: The run's params as plain JSON data.
        include: The step names the run was limited to, or ``None`` for all.
        attempt: 1, plus one per resume.
        started_at: When the first attempt started (UTC).
        finished_at: When the last attempt finished (UTC), ``None`` while running.
        error: The first failing step's error, when it failed.
        host: Host name of the process running the latest attempt.
        pid: Process id of that process.

    """

    run_id: str
    pipeline: str
    pipeline_ref: str | None
    status: str
    params: dict[str, Any]
    include: tuple[str, ...] | None
    attempt: int
    started_at: dt.datetime
    finished_at: dt.datetime | None
    error: str | None
    host: str | None
    pid: int | None

    @property
    def duration_s(self) -> float | None:
        """Seconds from the first start to the last finish (``None`` while running)."""
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


@dataclass(frozen=True, slots=True)
class StepRow:
    """One attempt of one step of a run.

    Attributes:
        run_id: The run.
        step: Step name.
        attempt: The run attempt it belongs to (1 for the first run, 2 after a resume …).
        position: 1-based position of the step in the plan.
        process: The process holding it.
        status: ``running``, ``succeeded``, ``failed``, ``skipped`` or ``reused`` (committed
            by an earlier attempt, not run again).
        target: ``table staging.orders`` or ``file <path>``.
        write_mode: The write mode.
        rows_read: Rows the sources delivered.
        rows_written: Rows written.
        duration_s: Wall-clock seconds.
        version: The Delta version the step committed.
        error: Error message, when it failed.
        error_code: The error's stable code.
        started_at: Start (UTC).
        finished_at: End (UTC); ``None`` while running — or when the process died.

    """

    run_id: str
    step: str
    attempt: int
    position: int | None
    process: str | None
    status: str
    target: str | None
    write_mode: str | None
    rows_read: int | None
    rows_written: int | None
    duration_s: float | None
    version: int | None
    error: str | None
    error_code: str | None
    started_at: dt.datetime | None
    finished_at: dt.datetime | None


@dataclass(frozen=True, slots=True)
class LineageRow:
    """One edge of a run's lineage: a source a step read, or the target it wrote.

    Attributes:
        run_id: The run.
        step: The step.
        attempt: The attempt that ran the step.
        direction: ``in`` (a source) or ``out`` (the target).
        attribute: The step attribute (source name, or the target attribute).
        kind: ``table`` or ``file``.
        name: Table name, file path or ``alias <name>``.
        location: Resolved path or URI.
        rows: Rows read from it or written to it, when known.
        version: The Delta version read or written, when known.

    """

    run_id: str
    step: str
    attempt: int
    direction: Literal["in", "out"]
    attribute: str
    kind: str
    name: str
    location: str
    rows: int | None
    version: int | None


@dataclass(frozen=True, slots=True)
class Watermark:
    """The high-water mark of one incremental source of one step of one pipeline.

    Attributes:
        pipeline: Pipeline name.
        step: Step name.
        source: Source attribute.
        cursor: The cursor column.
        value: The largest cursor value read by the last successful run.
        run_id: The run that set it.
        updated_at: When it was set (UTC).

    """

    pipeline: str
    step: str
    source: str
    cursor: str
    value: Any
    run_id: str
    updated_at: dt.datetime
