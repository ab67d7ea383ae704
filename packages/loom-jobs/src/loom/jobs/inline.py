"""The ``inline`` backend: jobs run on the application's event loop, after commit.

The embedded default: no broker, the same semantics as the Dramatiq backend — the
transactional outbox, at-least-once runs, retries with exponential backoff and jitter,
``__timeout__`` per attempt, ``on_success`` after a success and ``on_failure`` once when
a job failed for good, states in ``JobStatusRecord`` rows, bounded concurrency
(``jobs.concurrency``) and a clean shutdown that lets running jobs finish (within a grace
period) and puts the ones it abandons back in the outbox for the next start's relay.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from loom.core.application import Application
from loom.core.config import JobsSettings
from loom.core.job.records import OutboxRecord
from loom.core.logging import logger
from loom.core.stores import Store
from loom.jobs._engine import Directive, JobObserver, Outcome
from loom.jobs._message import JobMessage
from loom.jobs._names import JobRegistry
from loom.jobs._relay import RelaySettings
from loom.jobs._service import OutboxJobService
from loom.jobs._status import DatabaseStatusStore, StatusStore
from loom.jobs.errors import JobError

__all__ = ["InlineJobRuntime", "InlineJobService", "open_inline_runtime"]

MAX_INFRA_RETRIES = 10


class _InlineSender:
    """Sending a message inline means starting its task."""

    def __init__(self) -> None:
        self.service: InlineJobService | None = None

    async def send(self, messages: Sequence[JobMessage], *, relayed: bool = False) -> None:
        if self.service is None:  # pragma: no cover - set right after construction
            raise JobError("inline sender is not bound to a service")
        self.service.start_all(messages, relayed=relayed)


class InlineJobService(OutboxJobService):
    """A ``JobService`` running jobs as tasks of the current event loop.

    Args:
        application: Where jobs run (its executor and DI container).
        concurrency: How many attempts run at once.
        jobs: The application's job classes (dispatched ones are added as they come).
        statuses: Where states live (default: ``JobStatusRecord`` rows in the database).
        relay: Relay timing.
        observer: Receives attempt metrics.
    """

    def __init__(
        self,
        application: Application,
        *,
        concurrency: int = 8,
        jobs: Sequence[type[Any]] = (),
        statuses: StatusStore | None = None,
        relay: RelaySettings | None = None,
        observer: JobObserver | None = None,
    ) -> None:
        sender = _InlineSender()
        super().__init__(
            application,
            JobRegistry(jobs),
            statuses or DatabaseStatusStore(application.uow_factory),
            sender,
            relay=relay,
            observer=observer,
        )
        sender.service = self
        self._slots = asyncio.Semaphore(concurrency)
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._accepting = True

    def start_all(self, messages: Sequence[JobMessage], *, relayed: bool = False) -> None:
        """Start a task per message (the inline backend's "send").

        ``relayed`` messages may have run before: their first attempt checks first.

        Raises:
            JobError: the service is shut down (the rows stay in the outbox).
        """
        if not self._accepting:
            raise JobError("the inline job service is shut down")
        loop = asyncio.get_running_loop()
        for message in messages:
            if message.job_id in self._tasks:
                continue  # already running here (a relayed duplicate)
            run = self._run(message, check=relayed)
            task = loop.create_task(run, name=f"loom-job-{message.job_id}")
            self._tasks[message.job_id] = task
            task.add_done_callback(functools.partial(self._forget, message.job_id))

    def _forget(self, job_id: str, _task: asyncio.Task[None]) -> None:
        self._tasks.pop(job_id, None)

    async def _run(self, message: JobMessage, *, check: bool) -> None:
        attempt = 0
        while True:
            attempt += 1
            async with self._slots:
                try:
                    outcome = await self.engine.attempt(message, attempt, check=check)
                except Exception as error:  # noqa: BLE001 - the status store failed
                    if attempt > MAX_INFRA_RETRIES:
                        logger.error("job {job_id}: giving up: {error!r}",
                                     job_id=message.job_id, error=error)  # fmt: skip
                        return
                    logger.warning("job {job_id}: attempt could not run: {error!r}",
                                   job_id=message.job_id, error=error)  # fmt: skip
                    outcome = Outcome(Directive.RETRY, min(2.0**attempt, 30.0))
            if outcome.directive is not Directive.RETRY:
                return
            await asyncio.sleep(outcome.delay)

    def register_job(self, job: type[Any]) -> None:
        """Make ``job`` runnable here (jobs are also added when dispatched)."""
        self.registry.add_job(job)

    async def drain(self, timeout: float = 30.0) -> None:
        """Wait until every recorded and running job is done (tests and scripts).

        Raises:
            TimeoutError: jobs are still running after ``timeout`` seconds.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            pending = {*self._tasks.values(), *self.outbox.tasks}
            if not pending:
                return
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"{len(pending)} job(s) still running after {timeout:g}s")
            await asyncio.wait(pending, timeout=remaining)

    async def close(self, grace: float = 30.0) -> list[str]:
        """Stop accepting jobs and wind down.

        Running jobs get ``grace`` seconds to finish; the rest are cancelled and their
        outbox rows marked unsent, so the next start's relay runs them again. Returns
        (and logs) the ids of the jobs that were abandoned.
        """
        self._accepting = False
        await self.relay.stop()
        pending = set(self._tasks.values())
        if pending:
            await asyncio.wait(pending, timeout=grace)
        abandoned = [job_id for job_id, task in self._tasks.items() if not task.done()]
        leftovers = list(self._tasks.values())
        for task in leftovers:
            task.cancel()
        if leftovers:  # let cancelled attempts roll back before anything else is written
            await asyncio.gather(*leftovers, return_exceptions=True)
        if abandoned:
            logger.error("shutdown abandoned {n} job(s), back in the outbox: {ids}",
                         n=len(abandoned), ids=", ".join(abandoned))  # fmt: skip
            await self._requeue(abandoned)
        await self.outbox.close()
        await self.statuses.close()
        return abandoned

    async def _requeue(self, job_ids: Sequence[str]) -> None:
        try:
            async with self.application.uow_factory() as uow:
                repo = uow.repository(OutboxRecord)
                for job_id in job_ids:
                    await repo.update(job_id, {"sent_at": None, "claimed_at": None,
                                               "created_at": datetime.now(UTC)})  # fmt: skip
        except Exception as error:  # noqa: BLE001 - best effort on the way out
            logger.error("could not put abandoned jobs back in the outbox: {error!r}", error=error)


class InlineJobRuntime:
    """The ``inline`` backend's runtime: its service and relay, stopped with the application."""

    def __init__(self, service: InlineJobService) -> None:
        self._service = service

    @property
    def service(self) -> InlineJobService:
        """The job service."""
        return self._service

    async def start(self) -> None:
        """Start the relay (jobs run on the application's loop)."""
        self._service.relay.start()

    async def stop(self) -> None:
        """Let running jobs finish (30 s grace), put the rest back in the outbox."""
        await self._service.close()


def open_inline_runtime(
    settings: JobsSettings,
    *,
    application: Application,
    jobs: Sequence[type[Any]],
    store: Store | None,
) -> InlineJobRuntime:
    """The ``loom.job_backends`` provider for ``jobs.backend: inline``."""
    return InlineJobRuntime(
        InlineJobService(application, concurrency=settings.concurrency, jobs=jobs)
    )
