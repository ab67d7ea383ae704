"""The Dramatiq backend in-process: retries, failures, bad messages, timeouts, statuses."""

from __future__ import annotations

import asyncio
import json

import dramatiq
import pytest
from tests.jobs._support import backend_params
from tests.jobs.conftest import RuntimeFactory
from tests.jobs.flows import (
    FLOW_MODULES,
    Chain,
    Dawdle,
    FailureLog,
    Flaky,
    Picky,
    RecordingJob,
    SuccessLog,
)

from loom.core.bootstrap import Runtime
from loom.core.job.records import JobStatusRecord
from loom.core.job.service import JobStatus
from loom.jobs.dramatiq_backend import DramatiqJobRuntime
from loom.jobs.testing import job_tester

BROKERS = backend_params("stub", "redis", "rabbitmq")
STORES = [
    pytest.param("stub", "database", id="stub-database"),
    pytest.param("redis", "database", marks=pytest.mark.redis, id="redis-database"),
    pytest.param("redis", "redis", marks=pytest.mark.redis, id="redis-redis"),
]


@pytest.fixture(autouse=True)
def reset() -> None:
    RecordingJob.calls.clear()
    FailureLog.seen.clear()
    SuccessLog.seen.clear()
    Flaky.attempts = 0


def dramatiq_runtime(runtime: Runtime) -> DramatiqJobRuntime:
    assert isinstance(runtime.jobs, DramatiqJobRuntime)
    return runtime.jobs


@pytest.mark.parametrize("backend", BROKERS)
async def test_an_always_failing_job_is_retried_then_on_failure_runs_once(
    make_runtime: RuntimeFactory, backend: str
) -> None:
    runtime = await make_runtime(backend, modules=FLOW_MODULES)
    service = dramatiq_runtime(runtime).service
    async with job_tester(runtime) as jobs:
        handle = service.dispatch(Flaky, payload={"order": 7}, on_failure=FailureLog)
        (state,) = await jobs.drain(timeout=30)
    assert (state.job_id, state.status, state.attempts) == (handle.job_id, JobStatus.FAILED, 4)
    assert (state.error_type, state.error_message) == ("ConnectionError", "attempt 4")
    assert Flaky.attempts == 4 == Flaky.__retries__ + 1
    assert FailureLog.seen == [(handle.job_id, "attempt 4", {"order": 7})]


@pytest.mark.parametrize("backend", backend_params("stub", "redis"))
async def test_a_non_retryable_error_fails_at_once(
    make_runtime: RuntimeFactory, backend: str
) -> None:
    runtime = await make_runtime(backend, modules=FLOW_MODULES)
    async with job_tester(runtime) as jobs:
        dramatiq_runtime(runtime).service.dispatch(Picky, on_failure=FailureLog)
        (state,) = await jobs.drain(timeout=20)
    assert (state.status, state.attempts, state.error_type) == (
        JobStatus.FAILED,
        1,
        "PermissionError",
    )
    assert len(FailureLog.seen) == 1


@pytest.mark.parametrize("backend", BROKERS)
async def test_a_bad_payload_fails_fast_with_the_error_in_its_status(
    make_runtime: RuntimeFactory, backend: str
) -> None:
    runtime = await make_runtime(backend, modules=FLOW_MODULES)
    async with job_tester(runtime) as jobs:
        handle = dramatiq_runtime(runtime).service.dispatch(RecordingJob, payload={"text": 12})
        (state,) = await jobs.drain(timeout=20)
    assert (state.job_id, state.status, state.attempts) == (handle.job_id, JobStatus.FAILED, 1)
    assert state.error_type == "ValidationError"
    assert "text" in (state.error_message or "")
    assert RecordingJob.calls == []


@pytest.mark.parametrize("backend", backend_params("stub", "redis"))
async def test_a_message_that_is_not_a_job_message_is_dead_lettered_not_retried(
    make_runtime: RuntimeFactory, backend: str
) -> None:
    runtime = await make_runtime(backend, modules=FLOW_MODULES)
    jobs_runtime = dramatiq_runtime(runtime)
    job_id = "b" * 32
    garbage = dramatiq.Message(
        queue_name=jobs_runtime.namespace.queue("recording"),
        actor_name=RecordingJob.job_name(),
        args=(),
        kwargs={"job_id": job_id, "params": "not a mapping"},
        options={},
    )
    async with job_tester(runtime):
        jobs_runtime.broker.enqueue(garbage)
        queue = jobs_runtime.namespace.queue("recording")
        options = {"fail_fast": False} if backend == "stub" else {}
        await asyncio.to_thread(jobs_runtime.broker.join, queue, timeout=10_000, **options)
        state = await jobs_runtime.service.wait(job_id, timeout=20)
    assert (state.status, state.attempts, state.error_type) == (
        JobStatus.FAILED,
        1,
        "BadJobMessage",
    )
    assert "params" in (state.error_message or "")
    if backend == "stub":
        (dead,) = jobs_runtime.broker.dead_letters  # type: ignore[attr-defined]
        assert dead.message_id == garbage.message_id
        assert "retries" not in dead.options


@pytest.mark.parametrize("backend", backend_params("stub", "redis"))
async def test_an_attempt_longer_than_the_timeout_fails(
    make_runtime: RuntimeFactory, backend: str
) -> None:
    runtime = await make_runtime(backend, modules=FLOW_MODULES)
    async with job_tester(runtime) as jobs:
        dramatiq_runtime(runtime).service.dispatch(Dawdle)
        (state,) = await jobs.drain(timeout=20)
    assert (state.status, state.attempts, state.error_type) == (
        JobStatus.FAILED,
        1,
        "TimeoutError",
    )
    assert "__timeout__" in (state.error_message or "")


@pytest.mark.parametrize(("backend", "status_store"), STORES)
async def test_a_relayed_duplicate_of_a_finished_job_is_skipped(
    make_runtime: RuntimeFactory, backend: str, status_store: str
) -> None:
    runtime = await make_runtime(backend, modules=FLOW_MODULES, status_store=status_store)
    jobs_runtime = dramatiq_runtime(runtime)
    async with job_tester(runtime) as jobs:
        handle = jobs_runtime.service.dispatch(
            RecordingJob, payload={"text": "once"}, on_success=SuccessLog
        )
        await jobs.drain(timeout=20)
        (message,) = jobs.dispatched
        await jobs_runtime.sender.send([message], relayed=True)  # a lost "sent" mark
        queue = jobs_runtime.namespace.queue("recording")
        await asyncio.to_thread(jobs_runtime.broker.join, queue, timeout=10_000)
    assert RecordingJob.calls == ["once"]
    assert SuccessLog.seen == [(handle.job_id, 4)]
    assert (await jobs_runtime.service.status(handle.job_id)).attempts == 1  # type: ignore[union-attr]


@pytest.mark.parametrize(("backend", "status_store"), STORES)
async def test_an_unannounced_duplicate_may_run_again_but_never_calls_back_twice(
    make_runtime: RuntimeFactory, backend: str, status_store: str
) -> None:
    """A message redelivered after a crash (Redis) carries no mark: at least once."""
    runtime = await make_runtime(backend, modules=FLOW_MODULES, status_store=status_store)
    jobs_runtime = dramatiq_runtime(runtime)
    async with job_tester(runtime) as jobs:
        handle = jobs_runtime.service.dispatch(
            RecordingJob, payload={"text": "twice"}, on_success=SuccessLog
        )
        (first,) = await jobs.drain(timeout=20)
        (message,) = jobs.dispatched
        await jobs_runtime.sender.send([message])
        queue = jobs_runtime.namespace.queue("recording")
        await asyncio.to_thread(jobs_runtime.broker.join, queue, timeout=10_000)
    if status_store == "redis":  # RUNNING is written in the background: no check first
        assert RecordingJob.calls == ["twice", "twice"]  # the effect must be idempotent
    else:  # the database store checks every delivery before it runs
        assert RecordingJob.calls == ["twice"]
    assert SuccessLog.seen == [(handle.job_id, 5)]
    assert await jobs_runtime.service.status(handle.job_id) == first


@pytest.mark.parametrize("backend", backend_params("stub", "rabbitmq"))
async def test_a_job_dispatched_by_a_job_is_sent_when_that_job_commits(
    make_runtime: RuntimeFactory, backend: str
) -> None:
    runtime = await make_runtime(backend, modules=FLOW_MODULES)
    async with job_tester(runtime) as jobs:
        dramatiq_runtime(runtime).service.dispatch(Chain, params={"text": "link"})
        states = await jobs.drain(timeout=20, expect=2)
    assert [s.job for s in states] == [Chain.job_name(), RecordingJob.job_name()]
    assert {s.status for s in states} == {JobStatus.SUCCEEDED}
    assert RecordingJob.calls == ["chained link"]


@pytest.mark.redis
async def test_states_can_live_in_redis(make_runtime: RuntimeFactory, namespace: str) -> None:
    import redis

    runtime = await make_runtime("redis", modules=FLOW_MODULES, status_store="redis")
    service = dramatiq_runtime(runtime).service
    async with job_tester(runtime) as jobs:
        ok = service.dispatch(RecordingJob, payload={"text": "fast"})
        bad = service.dispatch(Picky)
        await jobs.drain(timeout=20)
    assert (await service.status(ok.job_id)).status is JobStatus.SUCCEEDED  # type: ignore[union-attr]
    failed = await service.status(bad.job_id)
    assert failed is not None
    assert (failed.status, failed.error_type, failed.error_message) == (
        JobStatus.FAILED,
        "PermissionError",
        "not allowed",
    )
    client = redis.Redis.from_url("redis://127.0.0.1:6379/0")
    stored = json.loads(client.get(f"{namespace}:loom:job:{ok.job_id}") or b"{}")
    assert (stored["status"], stored["attempts"]) == ("succeeded", 1)
    assert 0 < client.ttl(f"{namespace}:loom:job:{ok.job_id}") <= 7 * 24 * 3600
    client.close()
    async with runtime.application.uow_factory(read_only=True) as uow:
        assert await uow.repository(JobStatusRecord).count() == 0


@pytest.mark.redis
async def test_with_redis_states_a_job_is_final_once_its_message_is_acknowledged(
    make_runtime: RuntimeFactory,
) -> None:
    """The final state of a job without callback travels with the ack, never after it."""
    runtime = await make_runtime("redis", modules=FLOW_MODULES, status_store="redis")
    jobs_runtime = dramatiq_runtime(runtime)
    service = jobs_runtime.service
    async with job_tester(runtime) as jobs:
        ok = [service.dispatch(RecordingJob, payload={"text": f"t{i}"}) for i in range(20)]
        bad = service.dispatch(Picky)
        async with asyncio.timeout(20):
            while len(jobs.dispatched) < 21:  # sent to the broker
                await asyncio.sleep(0.01)
        for queue in jobs_runtime.queue_names({"recording", Picky.__queue__}):
            await asyncio.to_thread(jobs_runtime.broker.join, queue, timeout=20_000)
        # every message is acknowledged: no waiting for states any more
        states = [await service.status(h.job_id) for h in ok]
        failed = await service.status(bad.job_id)
    assert [s.status if s else None for s in states] == [JobStatus.SUCCEEDED] * 20
    assert failed is not None
    assert (failed.status, failed.error_type) == (JobStatus.FAILED, "PermissionError")
    assert sorted(RecordingJob.calls) == sorted(f"t{i}" for i in range(20))


async def test_each_job_is_an_actor_with_its_retry_and_time_settings(
    make_runtime: RuntimeFactory, namespace: str
) -> None:
    runtime = await make_runtime("stub", modules=FLOW_MODULES)
    actors = dramatiq_runtime(runtime).actors.actors
    flaky = actors[Flaky.job_name()]
    assert flaky.queue_name == f"{namespace}.flaky"
    assert flaky.options["max_retries"] == 3
    assert flaky.options["min_backoff"] == 10
    assert flaky.options["max_backoff"] == 300_000
    assert actors[Dawdle.job_name()].options["time_limit"] == 50
    assert set(actors) >= {RecordingJob.job_name(), Chain.job_name(), Picky.job_name()}
