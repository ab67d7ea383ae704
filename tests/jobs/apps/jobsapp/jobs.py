"""Jobs of the worker tests: an idempotent effect, a slow one, one that always fails."""

from __future__ import annotations

import asyncio
import os
from typing import Any

from loom.core.command import Command
from loom.core.errors import Conflict
from loom.core.job.job import Job
from loom.core.repository.abc import UnitOfWork
from loom.core.use_case import Input

from .models import Effect, FailureNote


class RecordEffect(Job[bool]):
    """Writes the row of ``key`` unless it exists: running it twice changes nothing."""

    __queue__ = "effects"
    __backoff__ = 0.05

    def __init__(self, uow: UnitOfWork) -> None:
        self.effects = uow.repository(Effect)

    async def execute(self, key: str) -> bool:
        if await self.effects.get(key) is not None:
            return False
        try:
            await self.effects.create({"key": key, "worker": os.getpid()})
        except Conflict:
            return False  # a duplicate delivery ran concurrently: the effect exists
        return True


class Pause(Command, frozen=True):
    seconds: float


class SlowEffect(RecordEffect):
    """Like ``RecordEffect``, after a pause (to be caught running by a SIGTERM)."""

    __queue__ = "slow"

    async def execute(self, key: str, cmd: Pause = Input()) -> bool:  # type: ignore[override]
        await asyncio.sleep(cmd.seconds)
        return await super().execute(key)


class AlwaysFails(Job[None]):
    __queue__ = "effects"
    __retries__ = 3
    __backoff__ = 0.05

    async def execute(self, key: str) -> None:
        raise ConnectionError(f"{key}: the remote end is down")


class NoteFailure:
    """Writes one note per ``on_failure`` call."""

    def __init__(self, uow: UnitOfWork) -> None:
        self.notes = uow.repository(FailureNote)

    async def on_failure(self, job_id: str, error: str, **context: Any) -> None:
        await self.notes.create({"job_id": job_id, "error": error[:500]})
