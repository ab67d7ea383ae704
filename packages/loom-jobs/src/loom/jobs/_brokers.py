"""Dramatiq brokers from ``jobs.broker`` URLs: ``redis://``, ``amqp://`` and ``stub://``."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import dramatiq
from dramatiq.brokers.stub import StubBroker

from loom.core.errors import ConfigurationError
from loom.core.extras import import_extra

__all__ = ["REDIS_OPTIONS", "broker_scheme", "open_broker", "redis_url"]

REDIS_OPTIONS = ("heartbeat_timeout", "maintenance_chance", "dead_message_ttl")
"""Query parameters of a ``redis://`` URL that tune Dramatiq's broker, not the client.

``heartbeat_timeout`` (ms, default 60000): how long a silent worker is presumed alive
before its unacknowledged messages go back to their queues; ``maintenance_chance``
(per million commands, default 1000): how often that check runs; ``dead_message_ttl``
(ms): how long dead-lettered messages are kept.
"""


def broker_scheme(url: str) -> str:
    """``redis``, ``amqp`` or ``stub`` for a broker URL (``rediss``/``amqps`` included).

    Raises:
        ConfigurationError: any other scheme.
    """
    scheme = urlsplit(url).scheme.lower()
    if scheme in ("redis", "rediss", "unix"):
        return "redis"
    if scheme in ("amqp", "amqps"):
        return "amqp"
    if scheme == "stub":
        return "stub"
    raise ConfigurationError(
        f"jobs.broker {url!r}: use a redis://, amqp:// or stub:// URL", key="jobs.broker"
    )


def redis_url(url: str) -> tuple[str, dict[str, int]]:
    """Split a ``redis://`` URL into the client's URL and Dramatiq's broker options.

    Raises:
        ConfigurationError: a broker option is not an integer.
    """
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    options: dict[str, int] = {}
    rest: list[tuple[str, str]] = []
    for key, value in query:
        if key in REDIS_OPTIONS:
            try:
                options[key] = int(value)
            except ValueError:
                raise ConfigurationError(
                    f"jobs.broker: {key}={value!r} is not an integer", key="jobs.broker"
                ) from None
        else:
            rest.append((key, value))
    return urlunsplit(parts._replace(query=urlencode(rest))), options


def open_broker(url: str, *, namespace: str) -> dramatiq.Broker:
    """Build the Dramatiq broker for ``url`` with Dramatiq's default middleware.

    ``redis://`` gives a ``RedisBroker`` whose keys are prefixed with ``namespace``;
    ``amqp://`` a ``RabbitmqBroker`` with publisher confirms (a message counts as sent
    only once RabbitMQ has it); ``stub://`` an in-memory ``StubBroker`` for tests.

    Raises:
        ConfigurationError: an unsupported scheme.
        MissingDependencyError: the ``redis`` or ``rabbitmq`` extra is not installed.
    """
    scheme = broker_scheme(url)
    if scheme == "stub":
        return StubBroker()
    if scheme == "redis":
        import_extra("redis", distribution="loom-jobs", extra="redis")
        from dramatiq.brokers.redis import RedisBroker

        client_url, options = redis_url(url)
        redis_broker: Any = RedisBroker
        broker: dramatiq.Broker = redis_broker(url=client_url, namespace=namespace, **options)
        return broker
    import_extra("pika", distribution="loom-jobs", extra="rabbitmq")
    from dramatiq.brokers.rabbitmq import RabbitmqBroker

    return RabbitmqBroker(url=url, confirm_delivery=True)
