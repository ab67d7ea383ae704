"""Transactional dispatch: the outbox, sending after commit, the relay and its claims."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from tests.jobs._support import backend_params
from tests.jobs.conftest import RuntimeFactory
from tests.jobs.flows import (
    FLOW_MODULES,
    DispatchAwkwardParams,
    DispatchNotes,
    DispatchThenFailBeforeCommit,
    ReadOnlyDispatch,
    RecordingJob,
)

from loom.core.bootstrap import Runtime
from loom.core.config._settings import DatabaseSettings
from loom.core.job.records import JOB_MODELS, JobStatusRecord, OutboxRecord
from loom.core.job.service import JobStatus
from loom.core.stores import Store, open_store
from loom.core.testing import InMemoryDatabase, InMemoryUnitOfWorkFactory
from loom.jobs import JobError, JobMessage
from loom.jobs._outbox import Outbox
from loom.jobs._status import DatabaseStatusStore
from loom.jobs.testing import SimulatedCrash, job_tester

BACKENDS = backend_params("inline", "stub", "redis", "rabbitmq")


@pytest.fixture(autouse=True)
def quick_relay(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOOM_JOBS_RELAY_INTERVAL", "0.05")
    monkeypatch.setenv("LOOM_JOBS_RELAY_GRACE", "0.3")
    RecordingJob.calls.clear()


async def rows(runtime: Runtime) -> tuple[list[OutboxRecord], list[JobStatusRecord]]:
    from loom.core.repository.abc.query import PaginationMode, QuerySpec

    query = QuerySpec(pagination=PaginationMode.CURSOR, limit=500)
    async with runtime.application.uow_factory(read_only=True) as uow:
        outbox = (await uow.repository(OutboxRecord).list_with_query(query)).items
        statuses = (await uow.repository(JobStatusRecord).list_with_query(query)).items
    return list(outbox), list(statuses)


@pytest.mark.parametrize("backend", BACKENDS)
async def test_a_rolled_back_use_case_writes_and_sends_nothing(
    make_runtime: RuntimeFactory, backend: str
) -> None:
    runtime = await make_runtime(backend, modules=FLOW_MODULES)
    invoke = runtime.application.invoker.invoke
    async with job_tester(runtime) as jobs:
        with pytest.raises(RuntimeError, match="rolled back"):
            await invoke(DispatchNotes, payload={"text": "fail", "count": 3})
        with pytest.raises(RuntimeError, match="refused"):
            await invoke(DispatchThenFailBeforeCommit, payload={"text": "refused"})
        assert jobs.dispatched == []
        assert await rows(runtime) == ([], [])
        done = await invoke(DispatchNotes, payload={"text": "ok", "count": 2})
        states = await jobs.drain(timeout=20)
    assert [s.job_id for s in states] == done.job_ids
    assert {s.status for s in states} == {JobStatus.SUCCEEDED}
    assert sorted(RecordingJob.calls) == ["ok-0", "ok-1"]
    outbox, statuses = await rows(runtime)
    assert {r.id for r in outbox} == set(done.job_ids) == {s.job_id for s in statuses}


@pytest.mark.parametrize("backend", BACKENDS)
async def test_committed_dispatches_are_written_then_sent_and_marked(
    make_runtime: RuntimeFactory, backend: str
) -> None:
    runtime = await make_runtime(backend, modules=FLOW_MODULES)
    async with job_tester(runtime) as jobs:
        done = await runtime.application.invoker.invoke(
            DispatchNotes, payload={"text": "batch", "count": 5}
        )
        assert [m.job_id for m in jobs.dispatched] == done.job_ids
        await jobs.drain(timeout=20)
    await runtime.jobs.service.outbox.close()  # type: ignore[union-attr]  # flush sent marks
    outbox, _ = await rows(runtime)
    assert len(outbox) == 5
    assert all(r.sent_at is not None and r.claimed_at is None for r in outbox)
    assert {r.job for r in outbox} == {RecordingJob.job_name()}


@pytest.mark.parametrize("backend", BACKENDS)
async def test_a_crash_between_commit_and_send_is_healed_by_the_relay(
    make_runtime: RuntimeFactory, backend: str
) -> None:
    runtime = await make_runtime(backend, modules=FLOW_MODULES)
    async with job_tester(runtime) as jobs:
        with jobs.crash_before_send(), pytest.raises(SimulatedCrash):
            await runtime.application.invoker.invoke(DispatchNotes, payload={"text": "lost?"})
        assert jobs.dispatched == []
        (row,), (status,) = await rows(runtime)
        assert (row.sent_at, status.status) == (None, "queued")
        (state,) = await jobs.drain(timeout=20, expect=1)  # the relay sends it
    assert (state.job_id, state.status) == (row.id, JobStatus.SUCCEEDED)
    assert RecordingJob.calls == ["lost?-0"]
    assert runtime.jobs.service.relay.relayed == 1  # type: ignore[union-attr]


@pytest.mark.parametrize("backend", backend_params("inline", "redis"))
async def test_dispatch_outside_a_use_case_records_then_sends(
    make_runtime: RuntimeFactory, backend: str
) -> None:
    runtime = await make_runtime(backend, modules=FLOW_MODULES)
    service = runtime.jobs.service  # type: ignore[union-attr]
    async with job_tester(runtime) as jobs:
        handle = service.dispatch(RecordingJob, payload={"text": "script"})
        assert (await service.status(handle.job_id)).status in (  # before its row exists
            JobStatus.QUEUED,
            JobStatus.RUNNING,
            JobStatus.SUCCEEDED,
        )
        assert (await handle.wait(timeout=20)).status is JobStatus.SUCCEEDED
        assert [m.job_id for m in jobs.dispatched] == [handle.job_id]
    (row,), _ = await rows(runtime)
    assert row.id == handle.job_id


@pytest.mark.parametrize("backend", backend_params("inline", "stub"))
async def test_a_read_only_use_case_dispatches_after_it_ends(
    make_runtime: RuntimeFactory, backend: str
) -> None:
    runtime = await make_runtime(backend, modules=FLOW_MODULES)
    async with job_tester(runtime) as jobs:
        done = await runtime.application.invoker.invoke(ReadOnlyDispatch, payload={"text": "ro"})
        (state,) = await jobs.drain(timeout=20)
    assert (state.job_id, state.status) == (done.job_ids[0], JobStatus.SUCCEEDED)


async def test_values_that_are_not_json_fail_the_dispatching_use_case(
    make_runtime: RuntimeFactory,
) -> None:
    runtime = await make_runtime("inline", modules=FLOW_MODULES)
    with pytest.raises(JobError, match="JSON"):
        await runtime.application.invoker.invoke(DispatchAwkwardParams)
    assert await rows(runtime) == ([], [])


def message(job_id: str) -> JobMessage:
    return JobMessage(job_id=job_id, job=RecordingJob.job_name(), queue="recording")


async def stale_rows(outbox: Outbox, factory: object, count: int) -> list[str]:
    ids = [f"{i:032d}" for i in range(count)]
    old = datetime.now(UTC) - timedelta(seconds=60)
    async with factory() as uow:  # type: ignore[operator]
        await uow.repository(OutboxRecord).create_many(
            [{**message(i).outbox_row(), "created_at": old} for i in ids]
        )
    return ids


class CountingSender:
    def __init__(self) -> None:
        self.sent: list[str] = []

    async def send(self, messages: list[JobMessage], *, relayed: bool = False) -> None:
        self.sent.extend(m.job_id for m in messages)


async def two_relays_claim(factory_a: object, factory_b: object) -> None:
    senders = CountingSender(), CountingSender()
    outboxes = [
        Outbox(f, DatabaseStatusStore(f), s)  # type: ignore[arg-type]
        for f, s in zip((factory_a, factory_b), senders, strict=True)
    ]
    ids = await stale_rows(outboxes[0], factory_a, 40)
    due = [await o.due(1.0, limit=100) for o in outboxes]
    assert [len(d) for d in due] == [40, 40]
    claims = await asyncio.gather(*(o.claim(d, 1.0) for o, d in zip(outboxes, due, strict=True)))
    claimed = [m.job_id for c in claims for m in c]
    assert sorted(claimed) == ids  # every row claimed exactly once
    assert [await o.due(1.0) for o in outboxes] == [[], []]  # claimed rows are not due
    for outbox, claim in zip(outboxes, claims, strict=True):
        assert await outbox.deliver(claim)
        await outbox.close()
    assert sorted(senders[0].sent + senders[1].sent) == ids


async def test_two_relays_never_claim_the_same_row_in_memory() -> None:
    factory = InMemoryUnitOfWorkFactory(InMemoryDatabase(*JOB_MODELS))
    await two_relays_claim(factory, factory)


async def open_sql(url: str) -> Store:
    store = open_store(DatabaseSettings(url=url), models=JOB_MODELS, secret=b"k" * 32)
    await store.start()
    return store


async def test_two_relays_never_claim_the_same_row_on_sqlite(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'outbox.db'}"
    first, second = await open_sql(url), await open_sql(url)
    try:
        await two_relays_claim(first.uow_factory, second.uow_factory)
    finally:
        await first.stop()
        await second.stop()


async def test_a_claim_expires_so_a_dead_relays_rows_are_sent_by_another() -> None:
    factory = InMemoryUnitOfWorkFactory(InMemoryDatabase(*JOB_MODELS))
    sender = CountingSender()
    outbox = Outbox(factory, DatabaseStatusStore(factory), sender)
    ids = await stale_rows(outbox, factory, 3)
    claimed = await outbox.claim(await outbox.due(0.2), 0.2)  # then this relay "dies"
    assert sorted(m.job_id for m in claimed) == ids
    assert await outbox.due(0.2) == []
    await asyncio.sleep(0.25)
    assert sorted(r.id for r in await outbox.due(0.2)) == ids


async def test_sent_rows_are_purged_after_the_retention() -> None:
    factory = InMemoryUnitOfWorkFactory(InMemoryDatabase(*JOB_MODELS))
    outbox = Outbox(factory, DatabaseStatusStore(factory), CountingSender())
    ids = await stale_rows(outbox, factory, 3)
    assert await outbox.deliver([message(i) for i in ids[:2]])
    await outbox.close()
    await asyncio.sleep(0.01)
    assert await outbox.purge(0.0) == 2
    async with factory(read_only=True) as uow:
        assert await uow.repository(OutboxRecord).count() == 1
