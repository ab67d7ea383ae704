"""Job status records and the in-process store the inline backend keeps them in."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from loom.core.job.service import JobState, JobStatus

__all__ = ["FINAL", "MemoryStatusStore"]

FINAL = frozenset({JobStatus.SUCCEEDED, JobStatus.FAILED})


class MemoryStatusStore:
    """Job states in this process, with waiting until a job is final."""

    def __init__(self) -> None:
        self._states: dict[str, JobState] = {}
        self._done: dict[str, asyncio.Event] = {}

    def set(self, state: JobState) -> None:
        """Record ``state`` (stamped now)."""
        stamped = JobState(
            job_id=state.job_id,
            job=state.job,
            queue=state.queue,
            status=state.status,
            attempts=state.attempts,
            error_type=state.error_type,
            error_message=state.error_message,
            updated_at=datetime.now(UTC),
        )
        self._states[state.job_id] = stamped
        if state.status in FINAL:
            self._event(state.job_id).set()

    def get(self, job_id: str) -> JobState | None:
        """The last recorded state of ``job_id``."""
        return self._states.get(job_id)

    def _event(self, job_id: str) -> asyncio.Event:
        event = self._done.get(job_id)
        if event is None:
            event = self._done[job_id] = asyncio.Event()
        return event

    async def wait(self, job_id: str, timeout: float) -> JobState:
        """Wait until ``job_id`` succeeded or failed for good.

        Raises:
            TimeoutError: not final within ``timeout`` seconds.
            KeyError: the job is unknown.
        """
        if job_id not in self._states:
            raise KeyError(job_id)
        await asyncio.wait_for(self._event(job_id).wait(), timeout)
        return self._states[job_id]
