"""Loom jobs as Dramatiq actors, and the sender that enqueues committed messages.

Each job becomes an actor named ``Job.job_name()`` on its namespaced ``__queue__``. The
actor function runs on a Dramatiq worker thread and hands the attempt to the process's
one asyncio loop (the application's store pools live on that loop), then turns the
outcome into Dramatiq's language: return (acknowledge) or ``Retry(delay)``.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import dramatiq
import msgspec
from dramatiq.asyncio import EventLoopThread, get_event_loop_thread
from dramatiq.middleware import TimeLimitExceeded

from loom.core.job.job import Job
from loom.core.job.service import JobState, JobStatus
from loom.jobs._acks import StateWrite, write_with_ack
from loom.jobs._engine import Directive, JobEngine, job_state
from loom.jobs._hop import run_on_loop
from loom.jobs._message import JobMessage
from loom.jobs.errors import BadJobMessage, JobError

__all__ = [
    "ACTOR_LOGGER",
    "RELAYED",
    "ActorTable",
    "CurrentMessage",
    "DramatiqSender",
    "Namespace",
    "quiet_loggers",
]

_local = threading.local()

RELAYED = "loom_relayed"
"""Message option of messages the relay sent (they may have been sent before)."""

ACTOR_LOGGER = "loom.jobs.actors"
"""Parent of the actors' loggers (Dramatiq logs every call at DEBUG level there)."""


def quiet_loggers(level: int = logging.INFO) -> None:
    """Raise Dramatiq's, the actors' and pika's loggers to ``level`` (WARNING for chatty ones).

    loom routes stdlib logging through loguru with every level enabled, so a logger left
    at NOTSET would format a record for each DEBUG call Dramatiq makes per message.
    """
    for name, floor in (
        ("dramatiq", level),
        (ACTOR_LOGGER, level),
        ("dramatiq.middleware.retries", max(level, logging.WARNING)),
        ("pika", max(level, logging.WARNING)),
    ):
        logger = logging.getLogger(name)
        if logger.level < floor:
            logger.setLevel(floor)


class CurrentMessage(dramatiq.Middleware):
    """Keeps the message a worker thread is processing (for its retry count)."""

    def before_process_message(self, broker: dramatiq.Broker, message: Any) -> None:
        _local.message = message

    def after_process_message(
        self,
        broker: dramatiq.Broker,
        message: Any,
        *,
        result: Any = None,
        exception: BaseException | None = None,
    ) -> None:
        _local.message = None

    after_skip_message = after_process_message


class Namespace:
    """Maps loom queue names to Dramatiq queue names: ``<namespace>.<queue>``."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._prefix = f"{name}."

    def queue(self, queue: str) -> str:
        """The Dramatiq queue of a loom queue."""
        return self._prefix + queue

    def loom_queue(self, dramatiq_queue: str) -> str:
        """The loom queue of a Dramatiq queue (delay and dead-letter suffixes removed)."""
        name = dramatiq_queue
        if name.endswith((".DQ", ".XQ")):
            name = name[:-3]
        return name.removeprefix(self._prefix)


class ActorTable:
    """Declares one actor per job and runs their messages through a :class:`JobEngine`.

    Args:
        broker: The broker to declare actors on.
        namespace: Queue naming.
        engine: Runs attempts.
        loop: The event loop thread attempts run on (default: Dramatiq's global one).
        final_writes: Turns a final state into a write the broker's ack carries (see
            :mod:`loom.jobs._acks`); ``None``: the engine writes final states itself.
    """

    def __init__(
        self,
        broker: dramatiq.Broker,
        namespace: Namespace,
        engine: JobEngine,
        *,
        loop: Callable[[], EventLoopThread | None] = get_event_loop_thread,
        final_writes: Callable[[JobState], StateWrite] | None = None,
    ) -> None:
        self.broker = broker
        self.namespace = namespace
        self.engine = engine
        self._loop = loop
        self._final_writes = final_writes
        self._defer = final_writes is not None
        self.actors: dict[str, dramatiq.Actor[..., None]] = {}

    def declare(self, job: type[Job[Any]]) -> dramatiq.Actor[..., None]:
        """Declare ``job``'s actor (once): retries, backoff and time limit from the job."""
        name = job.job_name()
        existing = self.actors.get(name)
        if existing is not None:
            return existing

        def run(**kwargs: Any) -> None:
            self.process(job, kwargs)

        run.__name__ = run.__qualname__ = job.__qualname__
        run.__module__ = ACTOR_LOGGER  # Dramatiq names the actor's logger after it
        declare = dramatiq.actor(
            broker=self.broker,
            actor_name=name,
            queue_name=self.namespace.queue(job.__queue__),
            max_retries=job.__retries__,
            min_backoff=max(1, int(job.__backoff__ * 1000)),
            max_backoff=max(1, int(job.__max_backoff__ * 1000)),
            time_limit=max(1, int(job.__timeout__ * 1000)),
            throws=(BadJobMessage,),
        )
        actor: dramatiq.Actor[..., None] = declare(run)
        self.actors[name] = actor
        return actor

    def _loop_thread(self) -> EventLoopThread:
        loop = self._loop()
        if loop is None:
            raise JobError("no event loop thread: run jobs through `loom worker`")
        return loop

    def process(self, job: type[Job[Any]], kwargs: dict[str, Any]) -> None:
        """Run one delivery of ``job`` on the loop (called on a worker thread).

        Raises:
            dramatiq.Retry: the attempt failed and is retried after the job's backoff.
            BadJobMessage: the message is not a job message (dead-lettered).
        """
        current = getattr(_local, "message", None)
        retries = current.options.get("retries", 0) if current is not None else 0
        attempt = int(retries) + 1
        queue = self.namespace.loom_queue(current.queue_name if current else job.__queue__)
        loop = self._loop_thread()
        try:
            message = JobMessage.from_kwargs(job.job_name(), queue, kwargs)
        except msgspec.ValidationError as exc:
            error = BadJobMessage(f"not a job message for {job.job_name()}: {exc}")
            job_id = kwargs.get("job_id")
            if isinstance(job_id, str) and job_id:
                bad = JobMessage(job_id=job_id, job=job.job_name(), queue=queue)
                state = job_state(bad, JobStatus.FAILED, attempt, error)
                run_on_loop(loop.loop, self.engine.statuses.finish(state))
            raise error from exc
        # a relayed message, or one RabbitMQ redelivers, may be a duplicate: check first
        check = current is not None and bool(
            current.options.get(RELAYED) or getattr(current, "redelivered", False)
        )
        # the final state of an attempt without a callback rides on the ack (one round trip)
        defer = self._defer and current is not None
        try:
            outcome = run_on_loop(
                loop.loop, self.engine.attempt(message, attempt, check=check, defer_final=defer)
            )
        except TimeLimitExceeded:
            timeout = TimeoutError(
                f"the attempt took longer than __timeout__ ({job.__timeout__:g} s)"
            )
            outcome = run_on_loop(
                loop.loop, self.engine.failed(message, job, attempt, timeout, defer_final=defer)
            )
        if outcome.final is not None and self._final_writes is not None:
            write_with_ack(current, self._final_writes(outcome.final))
        if outcome.directive is Directive.RETRY:
            raise dramatiq.Retry(delay=max(1, int(outcome.delay * 1000)))


class DramatiqSender:
    """Enqueues committed job messages from one dedicated thread.

    Broker clients block (and RabbitMQ connections belong to a thread), so sends leave
    the event loop for this thread, a batch at a time.

    Args:
        broker: Where messages go.
        namespace: Queue naming.
    """

    def __init__(self, broker: dramatiq.Broker, namespace: Namespace) -> None:
        self.broker = broker
        self.namespace = namespace
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="loom-jobs-send")

    def broker_message(
        self, message: JobMessage, *, relayed: bool = False
    ) -> dramatiq.Message[None]:
        """The Dramatiq message of a job message; its id is the job id."""
        return dramatiq.Message(
            queue_name=self.namespace.queue(message.queue),
            actor_name=message.job,
            args=(),
            kwargs=message.to_kwargs(),
            options={RELAYED: True} if relayed else {},
            message_id=message.job_id,
        )

    def send_now(self, messages: Sequence[JobMessage], *, relayed: bool = False) -> None:
        """Enqueue ``messages`` on the calling thread."""
        for message in messages:
            outgoing = self.broker_message(message, relayed=relayed)
            self.broker.declare_queue(outgoing.queue_name)
            self.broker.enqueue(outgoing)

    async def send(self, messages: Sequence[JobMessage], *, relayed: bool = False) -> None:
        """Enqueue ``messages`` from the sender thread."""
        send = functools.partial(self.send_now, list(messages), relayed=relayed)
        await asyncio.get_running_loop().run_in_executor(self._pool, send)

    def close(self) -> None:
        """Wait for sends in progress and stop the thread."""
        self._pool.shutdown(wait=True)
