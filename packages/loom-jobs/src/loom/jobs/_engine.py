"""Running one attempt of a job, deciding retries, finishing with callbacks: every backend.

A final state and its callback commit together: the callback runs inside a unit of work
that also writes the final status (database status store), so a redelivered message of
a finished job finds it final and is skipped — ``on_failure`` runs once.
"""

from __future__ import annotations

import asyncio
import contextvars
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any, Protocol

from loom.core import tracing
from loom.core.application import Application
from loom.core.engine import current_unit_of_work
from loom.core.job.job import Job
from loom.core.job.service import JobState, JobStatus
from loom.core.logging import logger
from loom.core.repository.abc import UnitOfWork
from loom.jobs._message import JobMessage
from loom.jobs._names import JobRegistry
from loom.jobs._status import StatusStore
from loom.jobs.errors import UnknownJob

__all__ = ["Directive", "JobEngine", "JobObserver", "Outcome", "job_state"]


class Directive(Enum):
    """What the backend does with the message after an attempt."""

    DONE = "done"
    SKIPPED = "skipped"
    RETRY = "retry"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Outcome:
    """An attempt's outcome: the directive, a retry's delay (s), a final state to write.

    ``final`` is set only when the caller asked to write the final state itself
    (``defer_final``): the backend must write it before it acknowledges the message.
    """

    directive: Directive
    delay: float = 0.0
    final: JobState | None = None


DONE = Outcome(Directive.DONE)
SKIPPED = Outcome(Directive.SKIPPED)
FAILED = Outcome(Directive.FAILED)


class JobObserver(Protocol):
    """Receives one call per finished attempt (metrics)."""

    def observe(self, job: str, queue: str, outcome: str, seconds: float) -> None:
        """Record an attempt of ``job`` that ended with ``outcome`` after ``seconds``."""
        ...


def job_state(
    message: JobMessage, status: JobStatus, attempts: int, error: BaseException | None = None
) -> JobState:
    """The state of ``message``'s job."""
    return JobState(
        job_id=message.job_id,
        job=message.job,
        queue=message.queue,
        status=status,
        attempts=attempts,
        error_type=type(error).__name__ if error is not None else None,
        error_message=str(error) if error is not None else None,
    )


@dataclass(frozen=True, slots=True)
class _Finishing:
    engine: JobEngine
    message: JobMessage
    state: JobState
    callback: type[Any]
    method: str
    value: Any


_finishing: contextvars.ContextVar[_Finishing] = contextvars.ContextVar("loom_jobs_finishing")


class _FinishJob:
    """Internal use case: the final status and the callback, in one unit of work."""

    async def execute(self) -> None:
        work = _finishing.get()
        uow = current_unit_of_work()
        statuses = work.engine.statuses
        if not statuses.transactional:  # the final write comes after commit: look first
            current = await statuses.get(work.message.job_id)
            if current is not None and current.status in (JobStatus.SUCCEEDED, JobStatus.FAILED):
                logger.warning("job {job_id} ({job}) was already final: {method} not run again",
                               job_id=work.message.job_id, job=work.message.job,
                               method=work.method)  # fmt: skip
                return
        if not await statuses.finish(work.state, uow):
            logger.warning(
                "job {job_id} ({job}) was already final: {method} not run again",
                job_id=work.message.job_id, job=work.message.job, method=work.method,
            )  # fmt: skip
            return
        values = {UnitOfWork: uow} if uow is not None else None
        async with work.engine.application.container.scope(values) as scope:
            instance = await scope.abuild(work.callback)
            hook: Callable[..., Awaitable[None]] = getattr(instance, work.method)
            await hook(work.message.job_id, work.value, **work.message.context)


class JobEngine:
    """Runs attempts of dispatched jobs on an application.

    Args:
        application: Where jobs run (its executor and DI container).
        registry: The job and callback classes.
        statuses: Where states are recorded.
        observer: Told about each finished attempt.
        timeouts: Enforce ``__timeout__`` here (``asyncio.timeout``); ``False`` when the
            backend does (Dramatiq's time limit).
    """

    def __init__(
        self,
        application: Application,
        registry: JobRegistry,
        statuses: StatusStore,
        *,
        observer: JobObserver | None = None,
        timeouts: bool = True,
    ) -> None:
        self.application = application
        self.registry = registry
        self.statuses = statuses
        self.observer = observer
        self.timeouts = timeouts

    async def attempt(
        self, message: JobMessage, attempt: int, *, check: bool = True, defer_final: bool = False
    ) -> Outcome:
        """Run attempt number ``attempt`` (1-based) of ``message``'s job.

        Returns what to do with the message: done, skipped (the job was already final),
        retry after a delay, or failed for good. Errors of the job itself are recorded,
        never raised; an error of the status store propagates (the backend retries).

        Args:
            message: The job message.
            attempt: Its attempt number.
            check: Wait for the RUNNING write, which finds out whether the job is final
                already (a duplicate delivery, skipped). ``False``, with a status store
                whose ``running_delay`` is set, writes RUNNING in the background once the
                attempt has run that long (a quicker one goes straight from queued to its
                outcome): a duplicate then runs again (jobs are at least once), but its
                final state and callback are still refused.
            defer_final: Return the final state of an attempt without a callback in
                ``Outcome.final`` instead of writing it (the backend writes it with its
                acknowledgement). A final state with a callback is always written here.
        """
        try:
            job = self.registry.job(message.job)
        except UnknownJob as error:
            await self._finish(message, job_state(message, JobStatus.FAILED, attempt, error))
            return FAILED
        running = job_state(message, JobStatus.RUNNING, attempt)
        timer: asyncio.TimerHandle | None = None
        delay = self.statuses.running_delay
        if not check and delay is not None:
            timer = asyncio.get_running_loop().call_later(delay, self.statuses.begin_soon, running)
        elif not await self.statuses.begin(running):
            logger.info("job {job_id} ({job}) is already final: skipped",
                        job_id=message.job_id, job=message.job)  # fmt: skip
            return SKIPPED
        started = time.perf_counter()
        try:
            result = await self._run(job, message)
        except Exception as error:  # noqa: BLE001 - every failure of a job is recorded
            if timer is not None:
                timer.cancel()
            outcome = await self.failed(message, job, attempt, error, defer_final=defer_final)
            self._observe(message, outcome.directive.value, started)
            return outcome
        finally:
            if timer is not None:
                timer.cancel()
        final = await self._finish(
            message,
            job_state(message, JobStatus.SUCCEEDED, attempt),
            message.on_success,
            "on_success",
            result,
            defer_final=defer_final,
        )
        self._observe(message, "succeeded", started)
        return DONE if final is None else Outcome(Directive.DONE, final=final)

    async def _run(self, job: type[Job[Any]], message: JobMessage) -> Any:
        run = self.application.executor.run(job, params=message.params, payload=message.payload)
        if tracing.is_enabled():
            with tracing.span(f"job {message.job}", {"loom.job_id": message.job_id}):
                return await self._limited(job, run)
        return await self._limited(job, run)

    async def _limited(self, job: type[Job[Any]], run: Awaitable[Any]) -> Any:
        if not self.timeouts:
            return await run
        try:
            async with asyncio.timeout(job.__timeout__):
                return await run
        except TimeoutError as exc:
            raise TimeoutError(
                f"the attempt took longer than __timeout__ ({job.__timeout__:g} s)"
            ) from exc

    async def failed(
        self,
        message: JobMessage,
        job: type[Job[Any]],
        attempt: int,
        error: BaseException,
        *,
        defer_final: bool = False,
    ) -> Outcome:
        """Record a failed attempt: retrying (with its delay) or failed for good.

        With ``defer_final``, a final FAILED state without a callback is returned in
        ``Outcome.final`` instead of written (see :meth:`attempt`).
        """
        if attempt <= job.__retries__ and job.should_retry(error):
            await self.statuses.update(job_state(message, JobStatus.RETRYING, attempt, error))
            delay = job.retry_delay(attempt)
            logger.info(
                "job {job_id} ({job}) attempt {n} failed: {error!r}; retrying in {delay:.2f} s",
                job_id=message.job_id, job=message.job, n=attempt, error=error, delay=delay,
            )  # fmt: skip
            return Outcome(Directive.RETRY, delay)
        logger.warning(
            "job {job_id} ({job}) failed for good after {n} attempt(s): {error!r}",
            job_id=message.job_id, job=message.job, n=attempt, error=error,
        )  # fmt: skip
        final = await self._finish(
            message,
            job_state(message, JobStatus.FAILED, attempt, error),
            message.on_failure,
            "on_failure",
            str(error),
            defer_final=defer_final,
        )
        return FAILED if final is None else Outcome(Directive.FAILED, final=final)

    async def _finish(
        self,
        message: JobMessage,
        state: JobState,
        callback_name: str | None = None,
        method: str = "",
        value: Any = None,
        *,
        defer_final: bool = False,
    ) -> JobState | None:
        """Write ``state`` and run the callback; return ``state`` when left to the caller."""
        callback: type[Any] | None = None
        if callback_name is not None:
            try:
                callback = self.registry.callback(callback_name, method)
            except UnknownJob as error:
                logger.error("job {job_id}: {error}", job_id=message.job_id, error=error)
        if callback is None:
            if defer_final:
                return state
            await self.statuses.finish(state)
            return None
        token = _finishing.set(_Finishing(self, message, state, callback, method, value))
        try:
            await self.application.executor.run(_FinishJob)
        except Exception:  # noqa: BLE001 - a failing callback must not fail the job
            logger.exception(
                "callback {callback}.{method} of job {job_id} failed",
                callback=callback.__qualname__, method=method, job_id=message.job_id,
            )  # fmt: skip
            await self.statuses.finish(state)
        finally:
            _finishing.reset(token)
        return None

    def _observe(self, message: JobMessage, outcome: str, started: float) -> None:
        if self.observer is not None:
            self.observer.observe(message.job, message.queue, outcome,
                                  time.perf_counter() - started)  # fmt: skip
