"""Job states in Redis (``jobs.status_store: redis``, Dramatiq on a ``redis://`` broker).

One string key per job, ``<namespace>:loom:job:<id>``, holding the state as JSON and
kept for :data:`STATUS_TTL` seconds after its last change. Writes are "unless final"
and grouped: one Lua call writes the states of every attempt that changed at the same
moment, so a busy worker makes one round trip (and one command) per batch, not per job.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import msgspec

from loom.core.extras import import_extra
from loom.core.job.service import JobState, JobStatus
from loom.core.repository.abc import UnitOfWork
from loom.jobs._acks import StateWrite
from loom.jobs._batch import Batcher
from loom.jobs._status import MAX_ERROR_MESSAGE, last_of_each_job

redis_asyncio: Any = import_extra("redis.asyncio", distribution="loom-jobs", extra="redis")
redis_exceptions: Any = import_extra("redis.exceptions", distribution="loom-jobs", extra="redis")

__all__ = ["STATUS_TTL", "RedisStatusStore"]

STATUS_TTL = 7 * 24 * 3600
"""Seconds a job's state is kept in Redis after its last change."""

_WRITE_UNLESS_FINAL = """
local ttl = ARGV[1]
local written = {}
for i, key in ipairs(KEYS) do
  local current = redis.call('GET', key)
  local head = current and string.sub(current, 1, 21) or ''
  if head == '{"status":"succeeded"' or string.sub(head, 1, 18) == '{"status":"failed"' then
    written[i] = 0
  else
    redis.call('SET', key, ARGV[i + 1], 'EX', ttl)
    written[i] = 1
  end
end
return written
"""


class _Stored(msgspec.Struct, frozen=True):
    """A state as stored; ``status`` comes first (the script checks the prefix)."""

    status: str
    job: str
    queue: str
    attempts: int = 0
    error_type: str | None = None
    error_message: str | None = None
    updated_at: datetime | None = None


_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder(_Stored).decode


class RedisStatusStore:
    """Job states in Redis.

    Args:
        url: The Redis URL (the broker's).
        namespace: Key prefix (the jobs namespace).
        ttl: Seconds a state is kept after its last change.
    """

    transactional = False
    running_delay: float | None = 0.05
    """RUNNING is written once an attempt has run 50 ms: quicker ones write one state."""

    def __init__(self, url: str, *, namespace: str, ttl: int = STATUS_TTL) -> None:
        self._client = redis_asyncio.Redis.from_url(url)
        self._prefix = f"{namespace}:loom:job:"
        self._ttl = ttl
        self._sha = hashlib.sha1(_WRITE_UNLESS_FINAL.encode()).hexdigest()
        self._writes: Batcher[JobState, bool] = Batcher(
            self._flush, name="redis-status", concurrency=4
        )

    def key(self, job_id: str) -> str:
        """The Redis key of a job's state."""
        return self._prefix + job_id

    async def _flush(self, states: Sequence[JobState]) -> Sequence[bool]:
        kept, index = last_of_each_job(states)
        now = datetime.now(UTC)
        keys = [self._prefix + s.job_id for s in kept]
        values = [_encode(self._stored(s, now)) for s in kept]
        try:
            replies = await self._client.evalsha(self._sha, len(keys), *keys, self._ttl, *values)
        except redis_exceptions.NoScriptError:  # first use, or the server restarted
            await self._client.script_load(_WRITE_UNLESS_FINAL)
            replies = await self._client.evalsha(self._sha, len(keys), *keys, self._ttl, *values)
        return [bool(replies[i]) for i in index]

    @staticmethod
    def _stored(state: JobState, now: datetime) -> _Stored:
        message = state.error_message
        return _Stored(
            status=state.status.value,
            job=state.job,
            queue=state.queue,
            attempts=state.attempts,
            error_type=state.error_type,
            error_message=message[:MAX_ERROR_MESSAGE] if message else message,
            updated_at=now,
        )

    def final_write(self, state: JobState) -> StateWrite:
        """The "unless final" write of ``state`` as a script call, for a worker to pipeline.

        The same script as every other write, run with ``EVAL`` (it never needs loading).
        """
        key = self._prefix + state.job_id
        value = _encode(self._stored(state, datetime.now(UTC)))
        return StateWrite(state.job_id, _WRITE_UNLESS_FINAL, (key,), (self._ttl, value))

    async def get(self, job_id: str) -> JobState | None:
        """The job's state, or ``None``."""
        raw = await self._client.get(self._prefix + job_id)
        if raw is None:
            return None
        stored = _decode(raw)
        return JobState(
            job_id=job_id,
            job=stored.job,
            queue=stored.queue,
            status=JobStatus(stored.status),
            attempts=stored.attempts,
            error_type=stored.error_type,
            error_message=stored.error_message,
            updated_at=stored.updated_at,
        )

    async def queued(self, states: Sequence[JobState], uow: UnitOfWork | None = None) -> None:
        """Record newly dispatched jobs (now: call it once their transaction committed)."""
        if states:
            await asyncio.gather(*(self._writes.submit(s) for s in states))

    async def begin(self, state: JobState) -> bool:
        """Mark the attempt running unless the job is final."""
        return await self._writes.submit(state)

    def begin_soon(self, state: JobState) -> None:
        """Mark the attempt running unless the job is final, without waiting."""
        self._writes.post(state)

    async def update(self, state: JobState) -> None:
        """Record a non-final state unless the job is final."""
        await self._writes.submit(state)

    async def finish(self, state: JobState, uow: UnitOfWork | None = None) -> bool:
        """Record the final state unless already final; after ``uow`` commits when given."""
        if uow is None:
            return await self._writes.submit(state)

        async def write() -> None:
            await self._writes.submit(state)

        uow.after_commit(write)
        return True

    async def close(self) -> None:
        """Flush pending writes and close the connection pool."""
        await self._writes.close()
        await self._client.aclose()
