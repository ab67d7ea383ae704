"""The transactional outbox: dispatches commit with the use case, are sent after commit.

Inside a use case, the first dispatch registers two hooks on its unit of work:
``before_commit`` writes the ``OutboxRecord`` rows (and, with the database status store,
the QUEUED ``JobStatusRecord`` rows) in the same transaction; ``after_commit`` sends the
messages and marks the rows sent. A rollback runs neither: nothing is sent. A process
that dies between commit and send leaves its rows unsent; the relay sends them.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from loom.core.job.records import OutboxRecord
from loom.core.job.service import JobState, JobStatus
from loom.core.logging import logger
from loom.core.repository.abc import UnitOfWork, UnitOfWorkFactory
from loom.core.repository.abc.query import (
    FilterGroup,
    FilterOp,
    FilterSpec,
    PaginationMode,
    QuerySpec,
    SortSpec,
)
from loom.jobs._batch import Batcher
from loom.jobs._message import JobMessage
from loom.jobs._status import StatusStore
from loom.jobs.errors import JobError

__all__ = ["Outbox", "Sender"]


class Sender(Protocol):
    """Hands messages to the backend (a broker, or the in-process runner)."""

    async def send(self, messages: Sequence[JobMessage], *, relayed: bool = False) -> None:
        """Send every message or raise; ``relayed`` marks possible duplicates."""
        ...


def _queued(message: JobMessage) -> JobState:
    return JobState(message.job_id, message.job, message.queue, JobStatus.QUEUED)


class Outbox:
    """Records dispatches, sends them after commit, and finds the ones never sent.

    Args:
        uow_factory: The application's units of work.
        statuses: Where QUEUED states are written.
        sender: The backend's sender.
    """

    def __init__(
        self, uow_factory: UnitOfWorkFactory, statuses: StatusStore, sender: Sender
    ) -> None:
        self._uow_factory = uow_factory
        self._statuses = statuses
        self._sender = sender
        self._held: weakref.WeakKeyDictionary[Any, list[JobMessage]] = weakref.WeakKeyDictionary()
        self._sent: Batcher[str, None] = Batcher(self._mark_sent, name="outbox-marker")
        self._tasks: set[asyncio.Task[None]] = set()
        self.pending: dict[str, JobState] = {}
        """States of direct dispatches whose rows are not written yet."""
        self.before_send: Callable[[Sequence[JobMessage]], None] | None = None
        """Called after commit, just before sending (tests inject crashes here)."""
        self.on_sent: list[Callable[[Sequence[JobMessage]], None]] = []
        """Called with every batch the backend accepted (tests record dispatches)."""

    @property
    def tasks(self) -> set[asyncio.Task[None]]:
        """Tasks still recording direct dispatches."""
        return set(self._tasks)

    # -- dispatch -----------------------------------------------------------------------

    def hold(self, uow: UnitOfWork, message: JobMessage) -> None:
        """Write ``message`` with ``uow``'s transaction and send it once it commits."""
        if uow.read_only:

            async def after_read_only_commit() -> None:
                await self.record_and_deliver([message])

            uow.after_commit(after_read_only_commit)
            return
        try:
            batch = self._held.get(uow)
        except TypeError:  # a unit of work that cannot be weakly referenced
            batch = None
            self._register(uow, [message])
            return
        if batch is None:
            batch = [message]
            self._held[uow] = batch
            self._register(uow, batch)
        else:
            batch.append(message)

    def _register(self, uow: UnitOfWork, batch: list[JobMessage]) -> None:
        async def write() -> None:
            await self.write(uow, batch)

        async def send() -> None:
            if not self._statuses.transactional:
                await self._queued_after_commit(batch)
            await self.deliver(batch)

        uow.before_commit(write)
        uow.after_commit(send)

    async def write(self, uow: UnitOfWork, messages: Sequence[JobMessage]) -> None:
        """Write the outbox rows (and transactional QUEUED states) inside ``uow``."""
        await uow.repository(OutboxRecord).create_many([m.outbox_row() for m in messages])
        if self._statuses.transactional:
            await self._statuses.queued([_queued(m) for m in messages], uow)

    async def _queued_after_commit(self, messages: Sequence[JobMessage]) -> None:
        try:
            await self._statuses.queued([_queued(m) for m in messages])
        except Exception as error:  # noqa: BLE001 - the state appears when the job starts
            logger.warning("could not record {n} QUEUED state(s): {error!r}",
                           n=len(messages), error=error)  # fmt: skip

    def record_soon(self, message: JobMessage) -> None:
        """Record and send ``message`` from a task (a dispatch outside any use case).

        Raises:
            JobError: there is no running event loop to record it from.
        """
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            raise JobError(
                "dispatch() outside a use case needs a running event loop: call it from async code"
            ) from None
        self.pending[message.job_id] = _queued(message)
        task = loop.create_task(self._record_task(message), name=f"loom-dispatch-{message.job_id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _record_task(self, message: JobMessage) -> None:
        try:
            await self.record_and_deliver([message])
        except Exception:  # noqa: BLE001 - a background task has nobody to raise to
            logger.exception("dispatch of job {job_id} ({job}) could not be recorded",
                             job_id=message.job_id, job=message.job)  # fmt: skip
        finally:
            self.pending.pop(message.job_id, None)

    async def record_and_deliver(self, messages: Sequence[JobMessage]) -> None:
        """Record ``messages`` in their own transaction, then send them."""
        async with self._uow_factory() as uow:
            await self.write(uow, messages)
        if not self._statuses.transactional:
            await self._queued_after_commit(messages)
        await self.deliver(messages)

    async def deliver(self, messages: Sequence[JobMessage], *, relayed: bool = False) -> bool:
        """Send committed messages and mark their rows sent; ``False`` if sending failed.

        A failure is logged, not raised: the rows stay unsent and the relay retries.
        ``relayed`` tells the backend the messages may have been sent before (the worker
        then checks a job is not final before running it).
        """
        if self.before_send is not None:
            self.before_send(messages)
        try:
            await self._sender.send(messages, relayed=relayed)
        except Exception as error:  # noqa: BLE001 - the relay sends them later
            logger.warning(
                "sending {n} job(s) failed, the relay will retry: {error!r}",
                n=len(messages), error=error,
            )  # fmt: skip
            return False
        for listener in self.on_sent:
            listener(messages)
        if self._sent.closed:
            await self._mark_sent([m.job_id for m in messages])
        else:
            for message in messages:
                self._sent.post(message.job_id)
        return True

    async def _mark_sent(self, ids: Sequence[str]) -> Sequence[None]:
        now = datetime.now(UTC)
        async with self._uow_factory() as uow:
            repo = uow.repository(OutboxRecord)
            for job_id in ids:
                await repo.update(job_id, {"sent_at": now})
        return [None] * len(ids)

    # -- relay support ------------------------------------------------------------------

    async def due(self, older_than: float, limit: int = 100) -> list[OutboxRecord]:
        """Rows committed, not sent and not claimed for more than ``older_than`` seconds."""
        cutoff = datetime.now(UTC) - timedelta(seconds=older_than)
        query = QuerySpec(
            filters=FilterGroup(
                filters=(
                    FilterSpec(field="sent_at", op=FilterOp.IS_NULL, value=True),
                    FilterSpec(field="created_at", op=FilterOp.LT, value=cutoff),
                    FilterGroup(
                        op="OR",
                        filters=(
                            FilterSpec(field="claimed_at", op=FilterOp.IS_NULL, value=True),
                            FilterSpec(field="claimed_at", op=FilterOp.LT, value=cutoff),
                        ),
                    ),
                )
            ),
            sort=(SortSpec(field="created_at"), SortSpec(field="id")),
            pagination=PaginationMode.CURSOR,
            limit=limit,
        )
        async with self._uow_factory(read_only=True) as uow:
            page = await uow.repository(OutboxRecord).list_with_query(query)
        return list(page.items)

    async def claim(self, rows: Sequence[OutboxRecord], older_than: float) -> list[JobMessage]:
        """Claim due rows for this relay; return the messages it now owns.

        A claim deletes the row (which only one transaction can do) and writes it back
        with ``claimed_at`` set, so another relay neither sees it as due nor can claim it
        until ``older_than`` seconds pass. A claim that loses a race is not an error.
        """
        now = datetime.now(UTC)
        cutoff = now - timedelta(seconds=older_than)
        claimed: list[JobMessage] = []
        try:
            async with self._uow_factory() as uow:
                repo = uow.repository(OutboxRecord)
                for row in rows:
                    current = await repo.get(row.id)
                    if current is None or current.sent_at is not None:
                        continue
                    if current.claimed_at is not None and current.claimed_at >= cutoff:
                        continue
                    if not await repo.delete(row.id):
                        continue
                    values = JobMessage.from_outbox(current).outbox_row()
                    values["created_at"] = current.created_at
                    values["claimed_at"] = now
                    await repo.create(values)
                    claimed.append(JobMessage.from_outbox(current))
        except Exception as error:  # noqa: BLE001 - another relay won; try again later
            logger.debug("outbox claim lost a race: {error!r}", error=error)
            return []
        return claimed

    async def purge(self, older_than: float, limit: int = 500) -> int:
        """Delete rows sent more than ``older_than`` seconds ago; return how many."""
        cutoff = datetime.now(UTC) - timedelta(seconds=older_than)
        query = QuerySpec(
            filters=FilterGroup(
                filters=(FilterSpec(field="sent_at", op=FilterOp.LT, value=cutoff),)
            ),
            pagination=PaginationMode.CURSOR,
            limit=limit,
            sort=(SortSpec(field="id"),),
        )
        async with self._uow_factory() as uow:
            repo = uow.repository(OutboxRecord)
            page = await repo.list_with_query(query)
            for row in page.items:
                await repo.delete(row.id)
        return len(page.items)

    async def close(self) -> None:
        """Finish recording direct dispatches and flush the sent marks."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=30)
        await self._sent.close()
