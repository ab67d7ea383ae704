"""The ``JobService`` both backends share: transactional dispatch, status, waiting."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from loom.core.application import Application
from loom.core.engine import current_unit_of_work
from loom.core.job.job import Job
from loom.core.job.service import JobHandle, JobState
from loom.jobs._engine import JobEngine, JobObserver
from loom.jobs._message import JobMessage, build_message
from loom.jobs._names import JobRegistry
from loom.jobs._outbox import Outbox, Sender
from loom.jobs._relay import Relay, RelaySettings
from loom.jobs._status import FINAL, StatusStore

__all__ = ["OutboxJobService"]


class OutboxJobService:
    """Dispatches through the outbox, reports states from the status store.

    Subclasses provide the :class:`~loom.jobs._outbox.Sender` that hands committed
    messages to their backend.

    Args:
        application: The application jobs run on.
        registry: Its job and callback classes.
        statuses: Where job states live.
        sender: The backend's sender.
        relay: Relay timing (interval, grace).
        observer: Receives attempt metrics.
        timeouts: Whether the engine enforces ``__timeout__`` (else the backend does).
    """

    def __init__(
        self,
        application: Application,
        registry: JobRegistry,
        statuses: StatusStore,
        sender: Sender,
        *,
        relay: RelaySettings | None = None,
        observer: JobObserver | None = None,
        timeouts: bool = True,
    ) -> None:
        self.application = application
        self.registry = registry
        self.statuses = statuses
        self.outbox = Outbox(application.uow_factory, statuses, sender)
        self.engine = JobEngine(
            application, registry, statuses, observer=observer, timeouts=timeouts
        )
        self.relay = Relay(self.outbox, relay)

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
        """Queue ``job`` with its ``params`` and command ``payload``; return its handle.

        Inside a use case the dispatch is written with the use case's transaction and
        sent once it commits (nothing is sent on rollback); outside one it is recorded
        and sent from a task of the running loop.

        Raises:
            JobError: not a job, a callback without its method, values that are not
                JSON, or (outside a use case) no running event loop.
        """
        message = build_message(
            job,
            params=params,
            payload=payload,
            on_success=on_success,
            on_failure=on_failure,
            queue=queue,
        )
        self.registry.add_job(job)
        for callback in (on_success, on_failure):
            if callback is not None:
                self.registry.add_callback(callback)
        self.dispatch_message(message)
        return JobHandle(job_id=message.job_id, queue=message.queue, service=self)

    def dispatch_message(self, message: JobMessage) -> None:
        """Dispatch an already built message (transactionally when in a use case)."""
        uow = current_unit_of_work()
        if uow is not None:
            self.outbox.hold(uow, message)
        else:
            self.outbox.record_soon(message)

    async def status(self, job_id: str) -> JobState | None:
        """The job's current state, or ``None`` for an unknown id."""
        pending = self.outbox.pending.get(job_id)
        state = await self.statuses.get(job_id)
        return state if state is not None or pending is None else pending

    async def wait(self, job_id: str, *, timeout: float = 30.0) -> JobState:
        """Wait until the job succeeded or failed for good (polling its state).

        Raises:
            TimeoutError: it is not done within ``timeout`` seconds.
            KeyError: no such job.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        pause = 0.005
        state = await self.status(job_id)
        if state is None:
            raise KeyError(job_id)
        while state is None or state.status not in FINAL:
            remaining = deadline - loop.time()
            if remaining <= 0:
                status = state.status if state is not None else "unknown"
                raise TimeoutError(f"job {job_id} is still {status} after {timeout:g} s")
            await asyncio.sleep(min(pause, remaining))
            pause = min(pause * 2, 0.25)
            state = await self.status(job_id)
        return state

    async def close(self, grace: float = 30.0) -> list[str]:
        """Stop the relay, flush pending writes, release the status store.

        Returns the ids of jobs this process abandoned (none here: a broker keeps them).
        """
        await self.relay.stop()
        await self.outbox.close()
        await self.statuses.close()
        return []
