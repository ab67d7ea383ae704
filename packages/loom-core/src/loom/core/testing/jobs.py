"""``RecordingJobService``: a job service for tests that records dispatches.

It honours the dispatch contract: inside a use case, a dispatch is held until the unit
of work commits and dropped if it rolls back; outside one it is recorded at once. It does
not run jobs (loom-jobs' inline backend does).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from loom.core.engine import current_unit_of_work
from loom.core.job.job import Job
from loom.core.job.service import JobHandle, JobState, JobStatus

__all__ = ["DispatchedJob", "RecordingJobService"]


@dataclass(frozen=True, slots=True)
class DispatchedJob:
    """One recorded dispatch."""

    job_id: str
    job: type[Job[Any]]
    queue: str
    params: Mapping[str, Any]
    payload: Mapping[str, Any]
    on_success: type[Any] | None = None
    on_failure: type[Any] | None = None


@dataclass
class RecordingJobService:
    """Records what is dispatched (after commit, like a real backend); runs nothing."""

    dispatched: list[DispatchedJob] = field(default_factory=list)

    def dispatch(
        self,
        job: type[Job[Any]],
        *,
        params: Mapping[str, Any] | None = None,
        payload: Mapping[str, Any] | None = None,
        on_success: type[Any] | None = None,
        on_failure: type[Any] | None = None,
        queue: str | None = None,
    ) -> JobHandle:
        """Record the dispatch now, or after the current unit of work commits."""
        record = DispatchedJob(
            job_id=uuid.uuid4().hex,
            job=job,
            queue=queue or job.__queue__,
            params=dict(params or {}),
            payload=dict(payload or {}),
            on_success=on_success,
            on_failure=on_failure,
        )
        uow = current_unit_of_work()
        if uow is None:
            self.dispatched.append(record)
        else:

            async def send() -> None:
                self.dispatched.append(record)

            uow.after_commit(send)
        return JobHandle(job_id=record.job_id, queue=record.queue, service=self)

    def jobs(self, job: type[Job[Any]]) -> list[DispatchedJob]:
        """The recorded dispatches of one job class."""
        return [d for d in self.dispatched if d.job is job]

    async def status(self, job_id: str) -> JobState | None:
        """``QUEUED`` for a recorded dispatch, else ``None``."""
        for d in self.dispatched:
            if d.job_id == job_id:
                return JobState(job_id, d.job.job_name(), d.queue, JobStatus.QUEUED)
        return None

    async def wait(self, job_id: str, *, timeout: float = 30.0) -> JobState:
        """Recorded jobs never run: waiting always times out."""
        await asyncio.sleep(0)
        raise TimeoutError(f"RecordingJobService does not run jobs ({job_id})")
