"""Helpers for testing code that dispatches jobs, on either backend.

Run jobs for real inside the test process — the inline backend, or the Dramatiq backend
with a worker whose threads run attempts on the test's own event loop (with a
``stub://`` broker for no broker at all, or a real one) — then assert what was
dispatched and wait for the queue to drain::

    async with job_tester(runtime) as jobs:
        await runtime.application.invoker.invoke(DispatchRestockEmailUseCase, ...)
        await jobs.drain()
        (message,) = jobs.assert_dispatched(SendRestockEmailJob, count=1)
        assert (await jobs.state(message.job_id)).status is JobStatus.SUCCEEDED
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from typing import Any

import dramatiq
from dramatiq.asyncio import EventLoopThread, get_event_loop_thread, set_event_loop_thread

from loom.core.bootstrap import Runtime
from loom.core.job.job import Job
from loom.core.job.service import JobState
from loom.jobs._message import JobMessage
from loom.jobs._service import OutboxJobService
from loom.jobs._status import FINAL
from loom.jobs.dramatiq_backend import DramatiqJobRuntime
from loom.jobs.inline import InlineJobRuntime, InlineJobService

__all__ = ["JobTester", "SimulatedCrash", "job_tester"]


class SimulatedCrash(BaseException):
    """Raised by :meth:`JobTester.crash_before_send`: the process "dies" after commit."""


class _RunningLoop(EventLoopThread):
    """Dramatiq's loop-thread interface over an already running loop (the test's)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(logging.getLogger("loom.jobs.testing"))
        self.loop.close()
        self.loop = loop

    def start(self, *, timeout: float | None = None) -> None:
        """Nothing to start: the loop already runs."""

    def stop(self) -> None:
        """Nothing to stop: the loop belongs to the test."""


class JobTester:
    """Records what a job service sent and waits for the jobs to finish.

    Args:
        service: The job service under test.
    """

    def __init__(self, service: OutboxJobService) -> None:
        self.service = service
        self.dispatched: list[JobMessage] = []
        """Every message the backend accepted, in order."""
        service.outbox.on_sent.append(self.dispatched.extend)

    def detach(self) -> None:
        """Stop recording."""
        with contextlib.suppress(ValueError):
            self.service.outbox.on_sent.remove(self.dispatched.extend)

    def dispatched_of(self, job: type[Job[Any]]) -> list[JobMessage]:
        """The messages sent for ``job``."""
        name = job.job_name()
        return [m for m in self.dispatched if m.job == name]

    def assert_dispatched(
        self,
        job: type[Job[Any]],
        *,
        count: int | None = None,
        params: Mapping[str, Any] | None = None,
        payload: Mapping[str, Any] | None = None,
    ) -> list[JobMessage]:
        """Assert ``job`` was sent (``count`` times, with these ``params``/``payload``).

        Returns the matching messages.

        Raises:
            AssertionError: no (or not ``count``) matching message was sent.
        """
        found = [
            m
            for m in self.dispatched_of(job)
            if (params is None or m.params == dict(params))
            and (payload is None or m.payload == dict(payload))
        ]
        if count is None and not found:
            raise AssertionError(f"{job.job_name()} was not dispatched; sent: {self._summary()}")
        if count is not None and len(found) != count:
            raise AssertionError(
                f"{job.job_name()} dispatched {len(found)} time(s), expected {count}; "
                f"sent: {self._summary()}"
            )
        return found

    def _summary(self) -> str:
        return ", ".join(f"{m.job}({m.params})" for m in self.dispatched) or "nothing"

    async def state(self, job_id: str) -> JobState | None:
        """A job's current state."""
        return await self.service.status(job_id)

    async def drain(self, timeout: float = 30.0, *, expect: int = 0) -> list[JobState]:
        """Wait until every dispatched job (including ones dispatched by jobs) is final.

        Args:
            timeout: Seconds to wait at most.
            expect: Also wait until at least this many messages were sent (say, by the
                relay).

        Returns their final states, in dispatch order.

        Raises:
            TimeoutError: some job is not final within ``timeout`` seconds.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            if isinstance(self.service, InlineJobService):
                await self.service.drain(max(0.0, deadline - loop.time()))
            await asyncio.gather(*self.service.outbox.tasks)
            seen = list(self.dispatched)
            states = [await self.service.status(m.job_id) for m in seen]
            final = all(s is not None and s.status in FINAL for s in states)
            if final and len(seen) == len(self.dispatched) and len(seen) >= expect:
                return [s for s in states if s is not None]
            if loop.time() >= deadline:
                waiting = [m.job_id for m, s in zip(seen, states, strict=True)
                           if s is None or s.status not in FINAL]  # fmt: skip
                raise TimeoutError(
                    f"{len(waiting)} job(s) not final and {len(seen)} of {expect} expected "
                    f"sent after {timeout:g}s"
                )
            await asyncio.sleep(0.01)

    @contextlib.contextmanager
    def crash_before_send(self) -> Iterator[None]:
        """Make the next after-commit send raise :class:`SimulatedCrash`.

        The dispatching transaction has committed; nothing is sent; the relay must
        deliver the rows later.
        """

        def crash(_messages: Sequence[JobMessage]) -> None:
            self.service.outbox.before_send = None
            raise SimulatedCrash("simulated crash between commit and send")

        self.service.outbox.before_send = crash
        try:
            yield
        finally:
            self.service.outbox.before_send = None


@contextlib.asynccontextmanager
async def job_tester(
    target: Runtime | InlineJobRuntime | DramatiqJobRuntime | InlineJobService,
    *,
    threads: int = 4,
) -> AsyncIterator[JobTester]:
    """A :class:`JobTester` for a runtime, running its jobs in this process.

    For the Dramatiq backend a ``dramatiq.Worker`` consumes the runtime's queues with
    ``threads`` threads whose attempts run on the calling event loop; it stops (and its
    unfinished messages go back to the broker) when the block exits.
    """
    jobs: Any = target.jobs if isinstance(target, Runtime) else target
    if isinstance(jobs, InlineJobService):
        tester = JobTester(jobs)
        try:
            yield tester
        finally:
            tester.detach()
        return
    if isinstance(jobs, InlineJobRuntime):
        tester = JobTester(jobs.service)
        try:
            yield tester
        finally:
            tester.detach()
        return
    if not isinstance(jobs, DramatiqJobRuntime):
        raise TypeError(f"no job runtime to test: {target!r}")
    tester = JobTester(jobs.service)
    previous = get_event_loop_thread()
    set_event_loop_thread(_RunningLoop(asyncio.get_running_loop()))
    queues = jobs.queue_names()
    for queue in queues:
        jobs.broker.declare_queue(queue)
    jobs.broker.emit_after("process_boot")
    worker = dramatiq.Worker(jobs.broker, queues=queues, worker_threads=threads, worker_timeout=100)
    worker.queue_prefetch = threads
    worker.start()
    try:
        yield tester
    finally:
        tester.detach()
        await asyncio.to_thread(worker.stop, 10_000)
        set_event_loop_thread(previous)
