"""The ``JobService`` contract: dispatch jobs, read their status."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

from loom.core.job.job import Job

__all__ = ["FailureCallback", "JobHandle", "JobService", "JobState", "JobStatus", "SuccessCallback"]


class JobStatus(StrEnum):
    """Where a job is in its life."""

    QUEUED = "queued"
    RUNNING = "running"
    RETRYING = "retrying"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class JobState:
    """A job's status, with the error of its last failed attempt."""

    job_id: str
    job: str
    queue: str
    status: JobStatus
    attempts: int = 0
    error_type: str | None = None
    error_message: str | None = None
    updated_at: datetime | None = None


@runtime_checkable
class SuccessCallback(Protocol):
    """A class resolved by DI whose ``on_success`` runs after the job succeeded."""

    async def on_success(self, job_id: str, result: Any, **context: Any) -> None:
        """Called once with the job's result; ``context`` is the dispatch payload."""
        ...


@runtime_checkable
class FailureCallback(Protocol):
    """A class resolved by DI whose ``on_failure`` runs once, when the job failed for good."""

    async def on_failure(self, job_id: str, error: str, **context: Any) -> None:
        """Called once with the error text; ``context`` is the dispatch payload."""
        ...


@dataclass(frozen=True, slots=True)
class JobHandle:
    """What a dispatch returns: the job's id and queue, and a way to wait for it."""

    job_id: str
    queue: str
    service: JobService | None = None

    async def wait(self, timeout: float = 30.0) -> JobState:
        """Wait until the job succeeded or failed for good (scripts and tests).

        Raises:
            TimeoutError: it did not finish within ``timeout`` seconds.

        """
        if self.service is None:
            raise RuntimeError("this handle is not bound to a job service")
        return await self.service.wait(self.job_id, timeout=timeout)


class JobService(Protocol):
    """Dispatches jobs and reports their status.

    Inside a use case a dispatch is held until its unit of work commits (and dropped on
    rollback); outside one it is sent at once.
    """

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
        """Queue ``job`` with its ``params`` and command ``payload``; return its handle."""
        ...

    async def status(self, job_id: str) -> JobState | None:
        """The job's current state, or ``None`` for an unknown id."""
        ...

    async def wait(self, job_id: str, *, timeout: float = 30.0) -> JobState:
        """Wait until the job has succeeded or failed for good."""
        ...
