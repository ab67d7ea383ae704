"""``loom worker`` as a real subprocess: jobs, callbacks, crashes, SIGTERM, metrics.

The test process and the worker share a SQLite database file; the test process
dispatches through the outbox, the worker consumes from the real broker.
"""

from __future__ import annotations

import asyncio
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from tests.jobs._support import (
    AMQP_URL,
    APPS,
    REDIS_URL,
    WorkerProcess,
    broker_cleanup,
    worker_config,
)

from loom.core.bootstrap import Runtime, load_runtime
from loom.core.job.records import JobStatusRecord
from loom.core.job.service import JobStatus
from loom.core.repository.abc.query import FilterGroup, FilterOp, FilterSpec

BROKER_URLS = {"redis": REDIS_URL, "rabbitmq": AMQP_URL}
FAST_REDIS = f"{REDIS_URL}?heartbeat_timeout=2000&maintenance_chance=250000"
"""Dead workers are noticed after 2 s (Dramatiq's default is 60 s)."""


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout}s: {what}")
        await asyncio.sleep(0.1)


class App:
    """The test process's side: the same config as the worker's."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    async def effects(self) -> int:
        from jobsapp.models import Effect

        async with self.runtime.application.uow_factory(read_only=True) as uow:
            return await uow.repository(Effect).count()

    async def effect_workers(self) -> set[int]:
        from jobsapp.models import Effect

        from loom.core.repository.abc.query import PaginationMode, QuerySpec

        query = QuerySpec(pagination=PaginationMode.CURSOR, limit=500)
        async with self.runtime.application.uow_factory(read_only=True) as uow:
            page = await uow.repository(Effect).list_with_query(query)
        return {row.worker for row in page.items}

    async def statuses(self, status: JobStatus) -> int:
        where = FilterGroup(filters=(FilterSpec(field="status", op=FilterOp.EQ, value=status),))
        async with self.runtime.application.uow_factory(read_only=True) as uow:
            return await uow.repository(JobStatusRecord).count(where)

    async def dispatch_effects(self, prefix: str, count: int, batch: int = 250) -> list[str]:
        from jobsapp.use_cases import DispatchEffects

        ids: list[str] = []
        for start in range(0, count, batch):
            done = await self.runtime.application.invoker.invoke(
                DispatchEffects,
                payload={"prefix": f"{prefix}-{start}", "count": min(batch, count - start)},
            )
            ids.extend(done.job_ids)
        return ids


AppFactory = Callable[..., Awaitable[tuple[App, Path]]]

PG_SERVER = "postgresql://postgres@127.0.0.1:5432/test"


@pytest.fixture
async def app(tmp_path: Path, namespace: str) -> AsyncIterator[AppFactory]:
    """``await app(broker_url)``: the test-side runtime and the worker's config file.

    The database is a SQLite file, or with ``database="postgresql"`` a PostgreSQL
    database created for the test (and dropped after it).
    """
    runtimes: list[tuple[Runtime, str]] = []
    databases: list[str] = []

    async def make(broker: str, database: str = "sqlite", **options: int) -> tuple[App, Path]:
        url = f"sqlite+aiosqlite:///{tmp_path / 'app.db'}"
        if database == "postgresql":
            url = await _create_database(namespace)
            databases.append(namespace)
        config = worker_config(
            tmp_path / "worker.yaml", broker=broker, namespace=namespace, database=url, **options
        )
        runtime = load_runtime(config)
        await runtime.start()
        runtimes.append((runtime, broker))
        return App(runtime), config

    yield make
    for runtime, broker in runtimes:
        queues = runtime.jobs.queue_names() | {f"{namespace}.slow"}  # type: ignore[union-attr]
        with broker_cleanup(broker, namespace, queues):
            await runtime.stop()
    for name in databases:
        await _drop_database(name)


async def _create_database(name: str) -> str:
    import asyncpg

    connection = await asyncpg.connect(PG_SERVER)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    return f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"


async def _drop_database(name: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(PG_SERVER)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


@pytest.mark.parametrize(
    ("broker", "database"),
    [
        pytest.param("redis", "sqlite", marks=pytest.mark.redis, id="redis-sqlite"),
        pytest.param("rabbitmq", "sqlite", marks=pytest.mark.rabbitmq, id="rabbitmq-sqlite"),
        pytest.param(
            "redis",
            "postgresql",
            marks=[pytest.mark.redis, pytest.mark.postgres],
            id="redis-postgresql",
        ),
    ],
)
async def test_a_worker_process_runs_jobs_and_calls_on_failure_once(
    app: AppFactory, tmp_path: Path, broker: str, database: str
) -> None:
    test_app, config = await app(BROKER_URLS[broker], database)
    from jobsapp.jobs import AlwaysFails, NoteFailure
    from jobsapp.models import FailureNote

    service = test_app.runtime.jobs.service  # type: ignore[union-attr]
    ids = await test_app.dispatch_effects("basic", 20)
    failing = service.dispatch(AlwaysFails, params={"key": "k"}, on_failure=NoteFailure)
    worker = WorkerProcess(config, "--threads", "4", log=tmp_path / "worker.log")
    try:
        await worker.wait_ready()
        assert (await service.wait(failing.job_id, timeout=30)).attempts == 4
        for job_id in ids:
            assert (await service.wait(job_id, timeout=30)).status is JobStatus.SUCCEEDED
        assert await test_app.effects() == 20
        assert await test_app.effect_workers() == {worker.pid}
        async with test_app.runtime.application.uow_factory(read_only=True) as uow:
            notes = await uow.repository(FailureNote).list_with_query(_all())
        assert [(n.job_id, n.error) for n in notes.items] == [
            (failing.job_id, "k: the remote end is down")
        ]
    finally:
        assert await worker.stop() == 0, worker.output()
    assert "stopped" in worker.output()


def _all() -> object:
    from loom.core.repository.abc.query import PaginationMode, QuerySpec

    return QuerySpec(pagination=PaginationMode.CURSOR, limit=500)


@pytest.mark.redis
async def test_a_thousand_jobs_survive_a_killed_worker(app: AppFactory, tmp_path: Path) -> None:
    test_app, config = await app(FAST_REDIS)
    ids = await test_app.dispatch_effects("bulk", 1000)
    assert len(set(ids)) == 1000
    first = WorkerProcess(config, "--threads", "8", log=tmp_path / "first.log")
    try:
        await first.wait_ready()
        await eventually(lambda: _more_than(test_app, 150), 30, "the first worker makes progress")
    finally:
        assert await first.stop(signal.SIGKILL) == -signal.SIGKILL
    done_by_first = await test_app.effects()
    assert done_by_first < 1000, "the first worker finished before it was killed"
    second = WorkerProcess(config, "--threads", "8", log=tmp_path / "second.log")
    try:
        await second.wait_ready()
        await eventually(lambda: _exactly(test_app, 1000), 45, "every effect happens")
        await eventually(
            lambda: _statuses(test_app, JobStatus.SUCCEEDED, 1000), 15, "every job succeeded"
        )
    finally:
        assert await second.stop() == 0, second.output()
    assert await test_app.effects() == 1000
    assert await test_app.effect_workers() == {first.pid, second.pid}


async def _more_than(test_app: App, n: int) -> bool:
    return await test_app.effects() > n


async def _exactly(test_app: App, n: int) -> bool:
    return await test_app.effects() == n


async def _statuses(test_app: App, status: JobStatus, n: int) -> bool:
    return await test_app.statuses(status) == n


@pytest.mark.redis
async def test_the_workers_relay_sends_what_a_dead_dispatcher_committed(
    app: AppFactory, tmp_path: Path
) -> None:
    test_app, config = await app(REDIS_URL)
    await test_app.runtime.jobs.service.relay.stop()  # type: ignore[union-attr]
    script = APPS / "dispatch_and_die.py"
    died = subprocess.run(
        [sys.executable, str(script), str(config), "orphan", "5"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=str(tmp_path),
    )
    assert died.returncode == 3, died.stderr
    ids = died.stdout.split(",")
    assert len(ids) == 5
    service = test_app.runtime.jobs.service  # type: ignore[union-attr]
    assert [(await service.status(i)).status for i in ids] == [JobStatus.QUEUED] * 5  # type: ignore[union-attr]
    assert await test_app.effects() == 0
    worker = WorkerProcess(
        config,
        "--threads",
        "2",
        log=tmp_path / "worker.log",
        env={"LOOM_JOBS_RELAY_GRACE": "0.5", "LOOM_JOBS_RELAY_INTERVAL": "0.1"},
    )
    try:
        await worker.wait_ready()
        for job_id in ids:
            assert (await service.wait(job_id, timeout=30)).status is JobStatus.SUCCEEDED
        assert await test_app.effects() == 5
    finally:
        assert await worker.stop() == 0, worker.output()
    assert "relay: sending 5 job(s)" in worker.output()


@pytest.mark.redis
async def test_sigterm_lets_running_jobs_finish_and_keeps_the_rest(
    app: AppFactory, tmp_path: Path
) -> None:
    test_app, config = await app(REDIS_URL)
    from jobsapp.jobs import SlowEffect

    service = test_app.runtime.jobs.service  # type: ignore[union-attr]
    handles = [
        service.dispatch(SlowEffect, params={"key": f"slow-{i}"}, payload={"seconds": 1.0})
        for i in range(6)
    ]
    first = WorkerProcess(config, "--threads", "2", "--queues", "slow",
                          log=tmp_path / "first.log")  # fmt: skip
    try:
        await first.wait_ready()
        await eventually(lambda: _statuses(test_app, JobStatus.RUNNING, 2), 20, "two running")
    finally:
        assert await first.stop(signal.SIGTERM) == 0, first.output()
    done = await test_app.effects()
    assert 2 <= done < 6  # the running jobs finished; the worker took no new ones
    assert await test_app.statuses(JobStatus.SUCCEEDED) == done
    assert await test_app.statuses(JobStatus.RUNNING) == 0  # nothing left half-done
    assert await test_app.statuses(JobStatus.QUEUED) == 6 - done  # back in the broker
    second = WorkerProcess(config, "--threads", "2", "--queues", "slow",
                           log=tmp_path / "second.log")  # fmt: skip
    try:
        await second.wait_ready()
        for handle in handles:
            assert (await service.wait(handle.job_id, timeout=30)).status is JobStatus.SUCCEEDED
    finally:
        assert await second.stop() == 0, second.output()
    assert await test_app.effects() == 6


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.redis
async def test_two_processes_share_the_work_and_expose_metrics(
    app: AppFactory, tmp_path: Path
) -> None:
    port = free_port()
    test_app, config = await app(REDIS_URL, prometheus_port=port)
    from jobsapp.jobs import SlowEffect

    service = test_app.runtime.jobs.service  # type: ignore[union-attr]
    worker = WorkerProcess(config, "--processes", "2", "--threads", "2", log=tmp_path / "w.log")
    try:
        # Dispatched once both processes consume: on a loaded machine the first one up
        # would otherwise finish the whole batch before the second starts.
        await worker.wait_ready(count=2)
        handles = [
            service.dispatch(SlowEffect, params={"key": f"pair-{i}"}, payload={"seconds": 0.1})
            for i in range(24)
        ]
        for handle in handles:
            assert (await service.wait(handle.job_id, timeout=30)).status is JobStatus.SUCCEEDED
        body = await asyncio.to_thread(_get, f"http://127.0.0.1:{port}/metrics")
    finally:
        assert await worker.stop() == 0, worker.output()
    assert len(await test_app.effect_workers()) == 2
    line = next(
        line
        for line in body.splitlines()
        if line.startswith("loom_job_attempts_total{") and 'outcome="succeeded"' in line
    )
    assert "jobsapp.jobs.SlowEffect" in line
    assert float(line.rsplit(" ", 1)[1]) == 24.0
    assert worker.output().count("stopped") == 2


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as response:
        body: bytes = response.read()
    return body.decode()


async def test_the_worker_refuses_the_inline_backend(tmp_path: Path) -> None:
    config = worker_config(
        tmp_path / "inline.yaml",
        broker=REDIS_URL,
        namespace="unused",
        database=f"sqlite+aiosqlite:///{tmp_path / 'app.db'}",
    )
    result = subprocess.run(
        [sys.executable, "-m", "loom.core.cli", "worker", str(config), "jobs.backend=inline"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "loom worker needs jobs.backend: dramatiq" in result.stderr
