"""Jobs, callbacks and use cases the in-process loom-jobs tests dispatch."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any, ClassVar

import msgspec
from tests.core.seed.models import Record

from loom.core.command import Command
from loom.core.engine import current_unit_of_work
from loom.core.job.job import Job
from loom.core.job.service import JobService
from loom.core.use_case import Input
from loom.core.use_case.use_case import UseCase


class Note(Command, frozen=True):
    text: str
    count: int = 1


class Recorded(msgspec.Struct, frozen=True):
    job_ids: list[str]


class RecordingJob(Job[int]):
    """Appends its text to :attr:`calls` (per process) and returns its length."""

    __queue__ = "recording"
    __backoff__ = 0.01
    calls: ClassVar[list[str]] = []

    async def execute(self, cmd: Note = Input()) -> int:
        RecordingJob.calls.append(cmd.text)
        return len(cmd.text)


class DispatchNotes(UseCase[Record, Recorded]):
    """Dispatches ``count`` RecordingJobs, then fails when the text is "fail"."""

    def __init__(self, jobs: JobService) -> None:
        self.jobs = jobs

    async def execute(self, cmd: Note = Input()) -> Recorded:
        handles = [
            self.jobs.dispatch(RecordingJob, payload={"text": f"{cmd.text}-{i}"})
            for i in range(cmd.count)
        ]
        if cmd.text == "fail":
            raise RuntimeError("rolled back")
        return Recorded(job_ids=[h.job_id for h in handles])


class DispatchThenFailBeforeCommit(UseCase[Record, Recorded]):
    """Dispatches, then a later before-commit hook fails: the outbox rows roll back too."""

    def __init__(self, jobs: JobService) -> None:
        self.jobs = jobs

    async def execute(self, cmd: Note = Input()) -> Recorded:
        handle = self.jobs.dispatch(RecordingJob, payload={"text": cmd.text})
        uow = current_unit_of_work()
        assert uow is not None

        async def refuse() -> None:
            raise RuntimeError("the commit is refused")

        uow.before_commit(refuse)
        return Recorded(job_ids=[handle.job_id])


class ReadOnlyDispatch(UseCase[Record, Recorded]):
    read_only = True

    def __init__(self, jobs: JobService) -> None:
        self.jobs = jobs

    async def execute(self, cmd: Note = Input()) -> Recorded:
        handle = self.jobs.dispatch(RecordingJob, payload={"text": cmd.text})
        return Recorded(job_ids=[handle.job_id])


class DispatchAwkwardParams(UseCase[Record, Recorded]):
    """Dispatches with a value that cannot travel as JSON."""

    def __init__(self, jobs: JobService) -> None:
        self.jobs = jobs

    async def execute(self) -> Recorded:
        handle = self.jobs.dispatch(RecordingJob, params={"when": object()})
        return Recorded(job_ids=[handle.job_id])


class Flaky(Job[str]):
    """Always fails with a retryable error."""

    __queue__ = "flaky"
    __retries__ = 3
    __backoff__ = 0.01
    attempts: ClassVar[int] = 0

    async def execute(self) -> str:
        Flaky.attempts += 1
        raise ConnectionError(f"attempt {Flaky.attempts}")


class Picky(Job[str]):
    """Fails with an error that is never retried."""

    __queue__ = "flaky"
    __no_retry_on__ = (PermissionError,)

    async def execute(self) -> str:
        raise PermissionError("not allowed")


class Dawdle(Job[None]):
    __queue__ = "slow"
    __timeout__ = 0.05
    __retries__ = 0

    async def execute(self) -> None:
        await asyncio.sleep(2)


class FailureLog:
    seen: ClassVar[list[tuple[str, str, dict[str, Any]]]] = []

    async def on_failure(self, job_id: str, error: str, **context: Any) -> None:
        FailureLog.seen.append((job_id, error, context))


class SuccessLog:
    seen: ClassVar[list[tuple[str, Any]]] = []

    async def on_success(self, job_id: str, result: Any, **context: Any) -> None:
        SuccessLog.seen.append((job_id, result))


class Chain(Job[str]):
    """Dispatches a RecordingJob from inside a job (held until this job commits)."""

    __queue__ = "recording"

    def __init__(self, jobs: JobService) -> None:
        self.jobs = jobs

    async def execute(self, text: str) -> str:
        self.jobs.dispatch(RecordingJob, payload={"text": f"chained {text}"})
        return datetime.now(UTC).isoformat()


FLOW_MODULES = ["tests.core.seed.models", "tests.jobs.flows"]
