"""Writing a run's steps, lineage and marks to the run history as the run goes.

A failure to write the history is logged and does not stop the run: the tables' own
commits (``loom.run_id`` + ``loom.step``, and ``loom.watermarks``) are the ground truth
a later resume or run reconciles the history with.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from loom.core.logging import logger
from loom.etl.backend._protocol import StepContext
from loom.etl.compiler._plan import StepPlan
from loom.etl.errors import HistoryError
from loom.etl.history._rows import LineageRow, StepRow
from loom.etl.history._store import RunHistory
from loom.etl.runner._incremental import Marks
from loom.etl.runner._records import StepRecord, StepStatus

__all__ = ["Recorder", "lineage_of", "step_row"]


def step_row(
    record: StepRecord,
    *,
    run_id: str,
    attempt: int,
    position: int | None,
    finished_at: dt.datetime | None,
    status: str | None = None,
) -> StepRow:
    """The history row of ``record``."""
    return StepRow(
        run_id=run_id,
        step=record.name,
        attempt=attempt,
        position=position,
        process=record.process,
        status=status or record.status.value,
        target=record.target,
        write_mode=record.write_mode,
        rows_read=record.rows_read,
        rows_written=record.rows_written,
        duration_s=record.duration_s,
        version=record.version,
        error=record.error,
        error_code=record.error_code,
        started_at=record.started_at,
        finished_at=finished_at,
    )


def lineage_of(
    step: StepPlan,
    *,
    run_id: str,
    attempt: int,
    rows_written: int | None,
    version: int | None,
    ctx: StepContext | None = None,
) -> list[LineageRow]:
    """The step's edges: each source (rows and version read, when counted) and the target."""
    edges = [
        LineageRow(
            run_id,
            step.name,
            attempt,
            "in",
            source.attribute,
            source.kind,
            source.name,
            source.location.uri,
            ctx.rows_read_from(source.attribute) if ctx is not None else None,
            ctx.version_read(source.attribute) if ctx is not None else None,
        )
        for source in step.sources
    ]
    target = step.target
    edges.append(
        LineageRow(
            run_id,
            step.name,
            attempt,
            "out",
            target.attribute,
            target.kind,
            target.name,
            target.location.uri,
            rows_written,
            version,
        )
    )
    return edges


class Recorder:
    """The run history of one run attempt (a no-op when the runner keeps none)."""

    def __init__(
        self, history: RunHistory | None, *, pipeline: str, run_id: str, attempt: int
    ) -> None:
        self.history = history
        self.pipeline = pipeline
        self.run_id = run_id
        self.attempt = attempt

    def _safely(self, what: str, write: Callable[[RunHistory], None]) -> None:
        if self.history is None:
            return
        try:
            write(self.history)
        except HistoryError as exc:
            logger.bind(etl_run_id=self.run_id).error("etl history: {}: {}", what, exc)

    def started(self, step: StepPlan, started_at: dt.datetime) -> None:
        """The step starts: a ``running`` row, so a crash leaves a trace."""
        record = StepRecord(
            step.name,
            step.process,
            StepStatus.SUCCEEDED,
            f"{step.target.kind} {step.target.name}",
            step.target.mode.value,
            started_at=started_at,
        )
        row = step_row(
            record,
            run_id=self.run_id,
            attempt=self.attempt,
            position=step.index,
            finished_at=None,
            status="running",
        )
        self._safely(f"recording step {step.name}", lambda h: h.step_started(row))

    def stage(self, step: StepPlan, marks: Marks) -> None:
        """Keep the marks the step will reach if it commits."""
        if marks:
            self._safely(
                f"staging the marks of {step.name}",
                lambda h: h.stage_marks(self.run_id, self.pipeline, step.name, marks),
            )

    def finished(
        self,
        step: StepPlan,
        record: StepRecord,
        *,
        ctx: StepContext | None = None,
        marks: Marks | None = None,
    ) -> None:
        """The step ended: its row, its lineage and (when it succeeded) its new marks."""
        now = dt.datetime.now(dt.UTC)
        ok = record.status is StepStatus.SUCCEEDED
        row = step_row(
            record, run_id=self.run_id, attempt=self.attempt, position=step.index, finished_at=now
        )
        lineage = (
            lineage_of(
                step,
                run_id=self.run_id,
                attempt=self.attempt,
                rows_written=record.rows_written,
                version=record.version,
                ctx=ctx,
            )
            if ok
            else []
        )
        self._safely(
            f"recording step {step.name}",
            lambda h: h.step_finished(
                row, pipeline=self.pipeline, lineage=lineage, marks=marks if ok else None
            ),
        )
