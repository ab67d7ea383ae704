"""A use case that dispatches many jobs in one transaction."""

from __future__ import annotations

import msgspec

from loom.core.command import Command
from loom.core.job.service import JobService
from loom.core.use_case import Input
from loom.core.use_case.use_case import UseCase

from .jobs import RecordEffect
from .models import Effect


class EffectBatch(Command, frozen=True):
    prefix: str
    count: int


class Dispatched(msgspec.Struct, frozen=True):
    job_ids: list[str]


class DispatchEffects(UseCase[Effect, Dispatched]):
    def __init__(self, jobs: JobService) -> None:
        self.jobs = jobs

    async def execute(self, cmd: EffectBatch = Input()) -> Dispatched:
        handles = [
            self.jobs.dispatch(RecordEffect, params={"key": f"{cmd.prefix}-{i}"})
            for i in range(cmd.count)
        ]
        return Dispatched(job_ids=[h.job_id for h in handles])
