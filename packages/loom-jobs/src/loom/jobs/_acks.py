"""A job's final state written in the round trip of its Redis acknowledgement.

With the Redis status store on a Redis broker, the final state of an attempt without a
callback need not cost a round trip of its own: the worker thread hands it to
:func:`write_with_ack`, and when Dramatiq acknowledges (or rejects) that message, one
pipeline carries the state's "unless final" write first and Dramatiq's own ack script
second. Redis runs them in that order, so a message is never acknowledged before its
state is written; a worker that dies before the pipeline is sent leaves both undone
(the message is delivered again).

Dramatiq's ``RedisBroker`` sends every command through its ``dispatch`` script;
:func:`route_acks` wraps that script on one broker so an ack of a message with a pending
state joins the pipeline. Any other command, or a message without a pending state, goes
through unchanged.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import dramatiq

from loom.core.extras import import_extra
from loom.core.logging import logger

__all__ = ["StateWrite", "route_acks", "routes_acks", "write_with_ack"]

_ACKS = frozenset({"ack", "nack"})


@dataclass(frozen=True, slots=True)
class StateWrite:
    """A state write as a Lua script call: the script's text, its keys and arguments."""

    job_id: str
    script: str
    keys: Sequence[str]
    args: Sequence[Any]


@dataclass(frozen=True, slots=True)
class _Pending:
    redis_message_id: str
    write: StateWrite


_local = threading.local()


def write_with_ack(message: Any, write: StateWrite) -> None:
    """Write ``write`` in the same round trip as the ack of ``message`` (this thread's).

    Call it on the worker thread processing ``message`` (a Dramatiq ``MessageProxy`` of
    a broker passed to :func:`route_acks`), before it is acknowledged.
    """
    _local.pending = _Pending(message.options["redis_message_id"], write)


def routes_acks(broker: dramatiq.Broker) -> bool:
    """True once :func:`route_acks` wrapped ``broker``'s dispatch script."""
    scripts = getattr(broker, "scripts", None)
    return isinstance(scripts, dict) and isinstance(scripts.get("dispatch"), _RoutedDispatch)


def route_acks(broker: dramatiq.Broker) -> bool:
    """Let acks on ``broker`` carry pending state writes; ``False`` if it cannot.

    Only a Dramatiq ``RedisBroker`` whose commands go through a ``dispatch`` script
    can; on any other broker states are written on their own.
    """
    if routes_acks(broker):
        return True
    scripts = getattr(broker, "scripts", None)
    client = getattr(broker, "client", None)
    if not isinstance(scripts, dict) or client is None:
        return False
    redis_commands: Any = import_extra(
        "redis.commands.core", distribution="loom-jobs", extra="redis"
    )
    dispatch = scripts.get("dispatch")
    if not isinstance(dispatch, redis_commands.Script):
        return False
    broker.scripts = {**scripts, "dispatch": _RoutedDispatch(dispatch, client)}  # type: ignore[attr-defined]
    return True


class _RoutedDispatch:
    """Dramatiq's ``dispatch`` script; an ack with a pending state write joins it."""

    def __init__(self, script: Any, client: Any) -> None:
        self._script = script
        self._client = client
        self.sha: str = script.sha
        exceptions: Any = import_extra("redis.exceptions", distribution="loom-jobs", extra="redis")
        self._no_script: type[Exception] = exceptions.NoScriptError

    def __call__(
        self,
        keys: Sequence[Any] | None = None,
        args: Sequence[Any] | None = None,
        client: Any = None,
    ) -> Any:
        pending: _Pending | None = getattr(_local, "pending", None)
        if (
            pending is None
            or client is not None
            or not args
            or args[0] not in _ACKS
            or args[-1] != pending.redis_message_id
        ):
            return self._script(keys=keys, args=args, client=client)
        keys = list(keys or ())
        write = pending.write
        pipe = self._client.pipeline(transaction=False)
        pipe.eval(write.script, len(write.keys), *write.keys, *write.args)
        pipe.evalsha(self._script.sha, len(keys), *keys, *args)
        written, reply = pipe.execute(raise_on_error=False)
        _local.pending = None  # both commands ran (a connection error raised above)
        if isinstance(written, Exception):
            logger.error("job {job_id}: its final state could not be written: {error!r}",
                         job_id=write.job_id, error=written)  # fmt: skip
        if isinstance(reply, self._no_script):  # the server lost its scripts
            return self._script(keys=keys, args=args)
        if isinstance(reply, Exception):
            raise reply
        return reply
