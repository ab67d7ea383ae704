"""Where job states live: the ``StatusStore`` contract and the database store.

Every write but ``queued`` is "unless final": once a job succeeded or failed for good,
its state no longer changes, which is how a worker recognises a duplicate delivery.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

from loom.core.job.records import JobStatusRecord
from loom.core.job.service import JobState, JobStatus
from loom.core.repository.abc import RepoFor, UnitOfWork, UnitOfWorkFactory
from loom.core.repository.abc.query import (
    FilterGroup,
    FilterOp,
    FilterSpec,
    PaginationMode,
    QuerySpec,
)
from loom.jobs._batch import Batcher
from loom.jobs.errors import JobError

__all__ = [
    "FINAL",
    "DatabaseStatusStore",
    "StatusStore",
    "last_of_each_job",
    "record_values",
    "state_of",
]

FINAL = frozenset({JobStatus.SUCCEEDED, JobStatus.FAILED})
_FINAL_TEXT = frozenset(str(s) for s in FINAL)
MAX_ERROR_MESSAGE = 4000


class StatusStore(Protocol):
    """Reads and writes job states."""

    @property
    def transactional(self) -> bool:
        """True when writes go through the application's units of work (the database)."""
        ...

    @property
    def running_delay(self) -> float | None:
        """Seconds into an attempt before RUNNING is written in the background.

        ``None``: RUNNING is written (and the job checked for being final) before the
        attempt starts.
        """
        ...

    async def get(self, job_id: str) -> JobState | None:
        """The job's state, or ``None`` for an unknown id."""
        ...

    async def queued(self, states: Sequence[JobState], uow: UnitOfWork | None = None) -> None:
        """Record newly dispatched jobs (inside ``uow`` when the store is transactional)."""
        ...

    async def begin(self, state: JobState) -> bool:
        """Record an attempt starting; ``False`` (and nothing written) when already final."""
        ...

    def begin_soon(self, state: JobState) -> None:
        """Record an attempt starting, without waiting (nothing is written if final)."""
        ...

    async def update(self, state: JobState) -> None:
        """Record a non-final state (``RETRYING``) unless the job is final."""
        ...

    async def finish(self, state: JobState, uow: UnitOfWork | None = None) -> bool:
        """Record a final state unless already final; ``False`` when it was.

        With ``uow``, a transactional store writes inside it (the write commits with the
        callback's); a non-transactional one writes once ``uow`` commits.
        """
        ...

    async def close(self) -> None:
        """Flush pending writes and release connections."""
        ...


def _text(value: str | None, limit: int) -> str | None:
    if value is None or len(value) <= limit:
        return value
    return value[: limit - 1] + "…"


def record_values(state: JobState) -> dict[str, Any]:
    """The ``JobStatusRecord`` columns of ``state``."""
    return {
        "job_id": state.job_id,
        "job": state.job,
        "queue": state.queue,
        "status": str(state.status),
        "attempts": state.attempts,
        "error_type": _text(state.error_type, 255),
        "error_message": _text(state.error_message, MAX_ERROR_MESSAGE),
    }


def state_of(record: JobStatusRecord) -> JobState:
    """The ``JobState`` a status row holds."""
    return JobState(
        job_id=record.job_id,
        job=record.job,
        queue=record.queue,
        status=JobStatus(record.status),
        attempts=record.attempts,
        error_type=record.error_type,
        error_message=record.error_message,
        updated_at=record.updated_at,
    )


def stamped(state: JobState) -> JobState:
    """``state`` with ``updated_at`` set to now (UTC)."""
    return JobState(
        job_id=state.job_id,
        job=state.job,
        queue=state.queue,
        status=state.status,
        attempts=state.attempts,
        error_type=state.error_type,
        error_message=state.error_message,
        updated_at=datetime.now(UTC),
    )


def _repo(uow: UnitOfWork) -> RepoFor[JobStatusRecord]:
    try:
        return uow.repository(JobStatusRecord)
    except (KeyError, LookupError, ValueError) as exc:
        raise JobError(
            "the store has no job tables: add loom.core.job.records.JOB_MODELS to its models "
            "(load_runtime does this when loom-jobs is installed)"
        ) from exc


def last_of_each_job(states: Sequence[JobState]) -> tuple[list[JobState], list[int]]:
    """The last state of each job in ``states``, and for every state the index of it.

    A batch that holds a job's RUNNING and then its final state only needs the final
    one: both are "unless final", so the outcome is the same.
    """
    last: dict[str, int] = {}
    for index, state in enumerate(states):
        last[state.job_id] = index
    kept = sorted(last.values())
    where = {states[i].job_id: n for n, i in enumerate(kept)}
    return [states[i] for i in kept], [where[s.job_id] for s in states]


async def _write_unless_final(
    repo: RepoFor[JobStatusRecord], states: Sequence[JobState]
) -> list[bool]:
    ids = list(dict.fromkeys(s.job_id for s in states))
    current: dict[str, str] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        query = QuerySpec(
            filters=FilterGroup(filters=(FilterSpec(field="job_id", op=FilterOp.IN, value=chunk),)),
            pagination=PaginationMode.CURSOR,
            limit=len(chunk),
        )
        page = await repo.list_with_query(query)
        current.update((row.job_id, row.status) for row in page.items)
    written: list[bool] = []
    for state in states:
        status = current.get(state.job_id)
        if status in _FINAL_TEXT:
            written.append(False)
            continue
        values = record_values(state)
        if status is None:
            await repo.create(values)
        else:
            del values["job_id"]
            await repo.update(state.job_id, values)
        current[state.job_id] = str(state.status)
        written.append(True)
    return written


class DatabaseStatusStore:
    """Job states as ``JobStatusRecord`` rows in the application's database.

    Writes outside a caller's unit of work are grouped: the attempts running at the same
    moment share one transaction.

    Args:
        uow_factory: The application's units of work.
    """

    transactional = True
    running_delay: float | None = None
    """RUNNING is written before the attempt: an attempt's own transaction may lock the
    database (SQLite) until it ends, which would hold back a later write."""

    def __init__(self, uow_factory: UnitOfWorkFactory) -> None:
        self._uow_factory = uow_factory
        self._writes: Batcher[JobState, bool] = Batcher(self._flush, name="status-writer")

    async def _flush(self, states: Sequence[JobState]) -> Sequence[bool]:
        kept, index = last_of_each_job(states)
        async with self._uow_factory() as uow:
            written = await _write_unless_final(_repo(uow), kept)
        return [written[i] for i in index]

    async def get(self, job_id: str) -> JobState | None:
        """The job's state, or ``None``."""
        async with self._uow_factory(read_only=True) as uow:
            record = await _repo(uow).get(job_id)
        return state_of(record) if record is not None else None

    async def queued(self, states: Sequence[JobState], uow: UnitOfWork | None = None) -> None:
        """Create the QUEUED rows, in ``uow`` when given."""
        rows = [record_values(s) for s in states]
        if uow is not None:
            await _repo(uow).create_many(rows)
            return
        async with self._uow_factory() as own:
            await _repo(own).create_many(rows)

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
        """Record the final state unless already final (inside ``uow`` when given)."""
        if uow is None:
            return await self._writes.submit(state)
        (written,) = await _write_unless_final(_repo(uow), [state])
        return written

    async def close(self) -> None:
        """Flush pending writes."""
        await self._writes.close()
