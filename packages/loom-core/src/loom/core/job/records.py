"""Tables the job runtimes keep in the application's database (through its store).

``OutboxRecord``: a dispatch written in the dispatching use case's transaction, sent to
the backend after commit and marked sent, resent by a relay if the process died in
between (a relay claims a row by stamping ``claimed_at``, so two relays do not both send
it). ``JobStatusRecord``: where each job is, for ``JobService.status``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from loom.core.model import BaseModel, ColumnField

__all__ = ["JOB_MODELS", "JobStatusRecord", "OutboxRecord"]


class OutboxRecord(BaseModel, kw_only=True):
    """One dispatched job message, committed with the use case that dispatched it."""

    __tablename__ = "loom_job_outbox"
    id: str = ColumnField(primary_key=True, length=32)
    job: str = ColumnField(length=255)
    queue: str = ColumnField(length=120)
    params: dict[str, Any] = ColumnField(default_factory=dict)
    payload: dict[str, Any] | None = ColumnField(nullable=True)
    on_success: str | None = ColumnField(length=255, nullable=True)
    on_failure: str | None = ColumnField(length=255, nullable=True)
    created_at: datetime = ColumnField(server_default="now", index=True)
    sent_at: datetime | None = ColumnField(nullable=True, index=True)
    claimed_at: datetime | None = ColumnField(nullable=True)


class JobStatusRecord(BaseModel, kw_only=True):
    """The last known state of one job."""

    __tablename__ = "loom_job_status"
    job_id: str = ColumnField(primary_key=True, length=32)
    job: str = ColumnField(length=255)
    queue: str = ColumnField(length=120)
    status: str = ColumnField(length=16, index=True)
    attempts: int = ColumnField(default=0)
    error_type: str | None = ColumnField(length=255, nullable=True)
    error_message: str | None = ColumnField(nullable=True)
    updated_at: datetime = ColumnField(server_default="now", server_onupdate="now")


JOB_MODELS: tuple[type[BaseModel], ...] = (OutboxRecord, JobStatusRecord)
"""The job tables; a runtime adds them to the store's models when the app uses jobs."""
