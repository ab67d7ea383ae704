"""What a run leaves behind: one record per step and the run's result."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.table import Table

__all__ = ["RunResult", "RunStatus", "StepRecord", "StepStatus"]


class StepStatus(enum.StrEnum):
    """How a step ended."""

    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"
    """Not started because an earlier step of the run failed."""
    REUSED = "reused"
    """Committed by an earlier attempt of the same run (before a resume); not run again."""


class RunStatus(enum.StrEnum):
    """How a run ended."""

    SUCCEEDED = "succeeded"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class StepRecord:
    """The record of one step of a run.

    Attributes:
        name: Step name.
        process: The process holding it, if any.
        status: How it ended.
        target: The target, as ``table staging.orders`` or ``file <path>``.
        write_mode: The write mode used.
        rows_read: Rows the step's source scans delivered: after their ``where``, and
            after any filter of ``execute``/``sql`` the engine pushed into the scan;
            counted once per use of a source. ``None`` when the step did not run.
        rows_written: Rows written to the target (for ``upsert``: inserted + updated).
        duration_s: Wall-clock seconds.
        version: The Delta table version the step committed, if it wrote a table.
        error: The error message when it failed.
        error_code: The error's stable code when it failed.
        started_at: UTC start time (``None`` when skipped).
        attempt: The run attempt that ran the step (1, or more after resumes).

    """

    name: str
    process: str | None
    status: StepStatus
    target: str
    write_mode: str
    rows_read: int | None = None
    rows_written: int | None = None
    duration_s: float = 0.0
    version: int | None = None
    error: str | None = None
    error_code: str | None = None
    started_at: dt.datetime | None = None
    attempt: int = 1


@dataclass(frozen=True, slots=True)
class RunResult:
    """The result of one run: its id, status and every step's record, in execution order.

    ``print(result)`` shows a plain-text table; rich (``rich.print(result)``, a notebook
    cell ending in ``result``) shows :meth:`table`.

    Attributes:
        run_id: The run's id.
        pipeline: Pipeline name.
        status: How it ended.
        started_at: UTC start of this attempt.
        finished_at: UTC end of this attempt.
        steps: One record per step, in execution order.
        attempt: 1, or more for a resumed run.

    """

    run_id: str
    pipeline: str
    status: RunStatus
    started_at: dt.datetime
    finished_at: dt.datetime
    steps: tuple[StepRecord, ...]
    attempt: int = 1

    @property
    def ok(self) -> bool:
        """True when every step succeeded."""
        return self.status is RunStatus.SUCCEEDED

    @property
    def duration_s(self) -> float:
        """Wall-clock seconds of the whole run."""
        return (self.finished_at - self.started_at).total_seconds()

    def step(self, name: str) -> StepRecord:
        """The record of step ``name``.

        Raises:
            KeyError: the run has no step of that name.
        """
        for record in self.steps:
            if record.name == name:
                return record
        raise KeyError(name)

    def summary(self) -> str:
        """A plain-text table of the steps."""
        lines = [
            f"run {self.run_id} of {self.pipeline}: {self.status.value} in {self.duration_s:.2f}s"
        ]
        for r in self.steps:
            counts = f"read={r.rows_read} written={r.rows_written}"
            version = f" v{r.version}" if r.version is not None else ""
            timing = f"{r.duration_s:.2f}s"
            lines.append(
                f"  {r.name:<24} {r.status.value:<9} {counts} {timing} -> {r.target}{version}"
            )
            if r.error:
                lines.append(f"      {r.error_code}: {r.error.splitlines()[0]}")
        return "\n".join(lines)

    def table(self) -> Table:
        """The steps as a rich table (status, rows, duration, version, target, error)."""
        from loom.etl.runner._summary import run_table

        return run_table(self)

    def __rich__(self) -> Table:
        return self.table()

    def _repr_mimebundle_(
        self, include: Sequence[str] = (), exclude: Sequence[str] = (), **kwargs: Any
    ) -> dict[str, str]:
        bundle: dict[str, str] = self.table()._repr_mimebundle_(include, exclude, **kwargs)
        return bundle

    def __str__(self) -> str:
        return self.summary()
