"""The ``inline`` backend: jobs run on the application's event loop, after commit.

The embedded default: no broker, same semantics as the Dramatiq backend — at-least-once
runs, retries with exponential backoff and jitter, ``__timeout__`` per attempt,
``on_success`` after a success and ``on_failure`` once when a job failed for good, bounded
concurrency (``jobs.concurrency``) and a clean shutdown that lets running jobs finish
(within a grace period) and reports any it had to abandon.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from loom.core.application import Application
from loom.core.config import JobsSettings
from loom.core.engine import current_unit_of_work
from loom.core.job.job import Job
from loom.core.job.service import JobHandle, JobState, JobStatus
from loom.core.logging import logger
from loom.core.stores import Store
from loom.jobs._attempts import JobRun, run_callback, run_once
from loom.jobs._status import MemoryStatusStore

__all__ = ["InlineJobRuntime", "InlineJobService", "open_inline_runtime"]


class InlineJobService:
    """A ``JobService`` running jobs as tasks of the current event loop.

    Args:
        application: Where jobs run (its executor and DI container).
        concurrency: How many jobs run at once.
    """

    def __init__(self, application: Application, *, concurrency: int = 8) -> None:
        self._application = application
        self._slots = asyncio.Semaphore(concurrency)
        self._tasks: set[asyncio.Task[None]] = set()
        self._statuses = MemoryStatusStore()
        self._accepting = True

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
        """Queue ``job``; inside a use case it starts only once the use case commits."""
        run = JobRun(
            job=job,
            job_id=uuid.uuid4().hex,
            queue=queue or job.__queue__,
            params=dict(params or {}),
            payload=dict(payload) if payload is not None else None,
            on_success=on_success,
            on_failure=on_failure,
        )
        self._statuses.set(run.state(JobStatus.QUEUED, 0))
        uow = current_unit_of_work()
        if uow is None:
            self._start(run)
        else:

            async def after_commit() -> None:
                self._start(run)

            uow.after_commit(after_commit)
        return JobHandle(job_id=run.job_id, queue=run.queue, service=self)

    def _start(self, run: JobRun) -> None:
        if not self._accepting:
            logger.error(
                "job {job_id} ({job}) dispatched after shutdown: not run",
                job_id=run.job_id,
                job=run.job.job_name(),
            )
            self._statuses.set(
                run.state(JobStatus.FAILED, 0, RuntimeError("dispatched after shutdown"))
            )
            return
        task = asyncio.get_running_loop().create_task(self._run(run), name=f"loom-job-{run.job_id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, run: JobRun) -> None:
        attempts = 0
        async with self._slots:
            while True:
                attempts += 1
                self._statuses.set(run.state(JobStatus.RUNNING, attempts))
                try:
                    result = await run_once(self._application, run)
                except Exception as error:  # noqa: BLE001 - every failure is recorded
                    retry = attempts <= run.job.__retries__ and run.job.should_retry(error)
                    if not retry:
                        self._statuses.set(run.state(JobStatus.FAILED, attempts, error))
                        logger.warning(
                            "job {job_id} ({job}) failed for good after {n} attempt(s): {error!r}",
                            job_id=run.job_id, job=run.job.job_name(), n=attempts, error=error,
                        )  # fmt: skip
                        await run_callback(
                            self._application, run.on_failure, "on_failure", run, str(error)
                        )
                        return
                    self._statuses.set(run.state(JobStatus.RETRYING, attempts, error))
                    await asyncio.sleep(run.job.retry_delay(attempts))
                    continue
                self._statuses.set(run.state(JobStatus.SUCCEEDED, attempts))
                await run_callback(self._application, run.on_success, "on_success", run, result)
                return

    async def status(self, job_id: str) -> JobState | None:
        """The job's current state, or ``None`` for an unknown id."""
        return self._statuses.get(job_id)

    async def wait(self, job_id: str, *, timeout: float = 30.0) -> JobState:
        """Wait until the job succeeded or failed for good.

        Raises:
            TimeoutError: it is not done within ``timeout`` seconds.
            KeyError: no such job.
        """
        return await self._statuses.wait(job_id, timeout)

    async def drain(self, timeout: float = 30.0) -> None:
        """Wait until every running and queued job is done (tests and scripts)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while self._tasks:
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise TimeoutError(f"{len(self._tasks)} job(s) still running after {timeout}s")
            await asyncio.wait(set(self._tasks), timeout=remaining)

    async def close(self, grace: float = 30.0) -> list[str]:
        """Stop accepting jobs and wind down.

        Running jobs get ``grace`` seconds to finish; the rest are cancelled. Returns (and
        logs) the ids of the jobs that were abandoned.
        """
        self._accepting = False
        pending = set(self._tasks)
        if pending:
            await asyncio.wait(pending, timeout=grace)
        abandoned = [t.get_name().removeprefix("loom-job-") for t in self._tasks if not t.done()]
        for task in list(self._tasks):
            task.cancel()
        if abandoned:
            logger.error(
                "shutdown abandoned {n} job(s): {ids}", n=len(abandoned), ids=", ".join(abandoned)
            )
        return abandoned


class InlineJobRuntime:
    """The ``inline`` backend's runtime: its service, stopped with the application."""

    def __init__(self, service: InlineJobService) -> None:
        self._service = service

    @property
    def service(self) -> InlineJobService:
        """The job service."""
        return self._service

    async def start(self) -> None:
        """Nothing to start: jobs run on the application's loop."""
        return

    async def stop(self) -> None:
        """Let running jobs finish (30 s grace), then cancel and report the rest."""
        await self._service.close()


def open_inline_runtime(
    settings: JobsSettings,
    *,
    application: Application,
    jobs: Sequence[type[Any]],
    store: Store | None,
) -> InlineJobRuntime:
    """The ``loom.job_backends`` provider for ``jobs.backend: inline``."""
    return InlineJobRuntime(InlineJobService(application, concurrency=settings.concurrency))
