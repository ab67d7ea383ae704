"""Running one job with its retries, timeout and callbacks: shared by every backend."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from loom.core import tracing
from loom.core.application import Application
from loom.core.job.job import Job
from loom.core.job.service import JobState, JobStatus
from loom.core.logging import logger

__all__ = ["JobRun", "run_callback", "run_once"]


class JobRun:
    """What a backend needs to run one dispatched job."""

    __slots__ = ("job", "job_id", "on_failure", "on_success", "params", "payload", "queue")

    def __init__(
        self,
        job: type[Job[Any]],
        job_id: str,
        queue: str,
        params: Mapping[str, Any],
        payload: Mapping[str, Any] | None,
        on_success: type[Any] | None,
        on_failure: type[Any] | None,
    ) -> None:
        self.job = job
        self.job_id = job_id
        self.queue = queue
        self.params = params
        self.payload = payload
        self.on_success = on_success
        self.on_failure = on_failure

    def state(
        self, status: JobStatus, attempts: int, error: BaseException | None = None
    ) -> JobState:
        """The job's state record."""
        return JobState(
            job_id=self.job_id,
            job=self.job.job_name(),
            queue=self.queue,
            status=status,
            attempts=attempts,
            error_type=type(error).__name__ if error is not None else None,
            error_message=str(error) if error is not None else None,
        )


async def run_once(application: Application, run: JobRun) -> Any:
    """One attempt: the job's plan (params bound, command decoded, loads resolved) inside
    its own unit of work, limited to ``__timeout__`` seconds."""
    coroutine = application.executor.run(run.job, params=run.params, payload=run.payload)
    if tracing.is_enabled():
        with tracing.span(f"job {run.job.job_name()}", {"loom.job_id": run.job_id}):
            return await asyncio.wait_for(coroutine, run.job.__timeout__)
    return await asyncio.wait_for(coroutine, run.job.__timeout__)


async def run_callback(
    application: Application,
    callback: type[Any] | None,
    method: str,
    run: JobRun,
    value: Any,
) -> None:
    """Build ``callback`` through DI and call its ``on_success``/``on_failure`` once."""
    if callback is None:
        return
    try:
        instance = application.container.build(callback)
        hook: Callable[..., Awaitable[None]] = getattr(instance, method)
        await hook(run.job_id, value, **dict(run.payload or {}))
    except Exception:  # noqa: BLE001 - a failing callback must not fail the job
        logger.exception(
            "callback {callback}.{method} of job {job_id} failed",
            callback=callback.__qualname__,
            method=method,
            job_id=run.job_id,
        )
