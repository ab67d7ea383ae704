"""The ``dramatiq`` backend: jobs as Dramatiq actors on Redis or RabbitMQ.

The API process dispatches through the outbox and runs the relay; ``loom worker``
processes consume (see :mod:`loom.jobs.cli`). Config::

    jobs:
      backend: dramatiq
      broker: redis://127.0.0.1:6379/0     # or amqp://guest:guest@127.0.0.1:5672/
      namespace: shop                      # queue prefix (and Redis key prefix); default "loom"
      status_store: database               # or redis (needs a redis:// broker)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import dramatiq

from loom.core.application import Application
from loom.core.config import JobsSettings
from loom.core.errors import ConfigurationError
from loom.core.job.service import JobState
from loom.core.stores import Store
from loom.jobs._acks import StateWrite
from loom.jobs._actors import (
    ActorTable,
    CurrentMessage,
    DramatiqSender,
    Namespace,
    quiet_loggers,
)
from loom.jobs._brokers import broker_scheme, open_broker, redis_url
from loom.jobs._engine import JobObserver
from loom.jobs._names import JobRegistry
from loom.jobs._relay import RelaySettings
from loom.jobs._service import OutboxJobService
from loom.jobs._status import DatabaseStatusStore, StatusStore

__all__ = [
    "DEFAULT_NAMESPACE",
    "DramatiqJobRuntime",
    "DramatiqJobService",
    "open_dramatiq_runtime",
]

DEFAULT_NAMESPACE = "loom"


class DramatiqJobService(OutboxJobService):
    """The ``JobService`` of the Dramatiq backend: the outbox sends to the broker."""

    def __init__(
        self,
        application: Application,
        registry: JobRegistry,
        statuses: StatusStore,
        sender: DramatiqSender,
        *,
        relay: RelaySettings | None = None,
        observer: JobObserver | None = None,
    ) -> None:
        super().__init__(
            application, registry, statuses, sender, relay=relay, observer=observer, timeouts=False
        )
        self.sender = sender


def _status_store(settings: JobsSettings, application: Application, namespace: str) -> StatusStore:
    if settings.status_store == "database":
        return DatabaseStatusStore(application.uow_factory)
    if broker_scheme(settings.broker) != "redis":
        raise ConfigurationError(
            "jobs.status_store: redis needs a redis:// jobs.broker (states live next to the "
            "queues); use status_store: database with RabbitMQ",
            key="jobs.status_store",
        )
    from loom.jobs._redis_status import RedisStatusStore

    return RedisStatusStore(redis_url(settings.broker)[0], namespace=namespace)


def _final_writes(
    settings: JobsSettings, statuses: StatusStore, broker: dramatiq.Broker
) -> Callable[[JobState], StateWrite] | None:
    """How final states ride on acks, when they live on the broker's Redis (else None)."""
    if settings.status_store != "redis":
        return None
    from loom.jobs._acks import route_acks
    from loom.jobs._redis_status import RedisStatusStore

    if not isinstance(statuses, RedisStatusStore) or not route_acks(broker):
        return None
    return statuses.final_write


class DramatiqJobRuntime:
    """The Dramatiq backend of one process: broker, actors, service and relay.

    Building it declares every job's actor on the broker; ``start`` starts the relay.
    Consuming is ``loom worker``'s business (:func:`loom.jobs.cli.worker`).

    Args:
        settings: The ``jobs`` section.
        application: The application jobs run on.
        jobs: Its job classes.
        relay: Relay timing (default: environment variables, see ``RelaySettings``).
        broker: A ready broker (tests); default: built from ``settings.broker``.
    """

    def __init__(
        self,
        settings: JobsSettings,
        *,
        application: Application,
        jobs: Sequence[type[Any]],
        relay: RelaySettings | None = None,
        broker: dramatiq.Broker | None = None,
    ) -> None:
        self.settings = settings
        self.namespace = Namespace(settings.namespace or DEFAULT_NAMESPACE)
        own_broker = broker is None
        self.broker = broker or open_broker(settings.broker, namespace=self.namespace.name)
        self.broker.add_middleware(CurrentMessage())
        quiet_loggers()
        self.registry = JobRegistry(jobs)
        self.sender = DramatiqSender(self.broker, self.namespace)
        statuses = _status_store(settings, application, self.namespace.name)
        self._service = DramatiqJobService(
            application, self.registry, statuses, self.sender, relay=relay
        )
        self.actors = ActorTable(
            self.broker,
            self.namespace,
            self._service.engine,
            final_writes=_final_writes(settings, statuses, self.broker) if own_broker else None,
        )
        for job in self.registry.jobs:
            self.actors.declare(job)

    @property
    def service(self) -> DramatiqJobService:
        """The job service."""
        return self._service

    def add_callbacks(self, callbacks: Iterable[type[Any]]) -> None:
        """Register callback classes found by discovery (others are imported by name)."""
        for callback in callbacks:
            self.registry.add_callback(callback)

    def queue_names(self, queues: Iterable[str] | None = None) -> set[str]:
        """Dramatiq queue names of loom ``queues`` (default: every job's queue)."""
        if queues is None:
            queues = {job.__queue__ for job in self.registry.jobs}
        return {self.namespace.queue(q) for q in queues}

    async def start(self) -> None:
        """Start the relay."""
        self._service.relay.start()

    async def stop(self) -> None:
        """Stop the relay, flush pending writes, stop the sender and close the broker."""
        try:
            await self._service.close()
        finally:
            self.sender.close()
            self.broker.close()


def open_dramatiq_runtime(
    settings: JobsSettings,
    *,
    application: Application,
    jobs: Sequence[type[Any]],
    store: Store | None,
) -> DramatiqJobRuntime:
    """The ``loom.job_backends`` provider for ``jobs.backend: dramatiq``."""
    return DramatiqJobRuntime(settings, application=application, jobs=jobs)
