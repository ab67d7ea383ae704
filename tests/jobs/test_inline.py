"""The inline job backend: after-commit dispatch, retries, timeouts, callbacks, shutdown."""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

import pytest
from tests.core.seed.jobs import (
    RestockEmailFailureCallback,
    RestockEmailSuccessCallback,
    SendRestockEmailJob,
)
from tests.core.seed.models import Product, User
from tests.core.seed.use_cases import (
    CreateProductUseCase,
    DispatchRestockEmailUseCase,
    RestockWorkflowUseCase,
)

from loom.core.application import Application
from loom.core.command import Command
from loom.core.job.job import Job
from loom.core.job.service import JobService, JobStatus
from loom.core.testing import InMemoryDatabase, InMemoryUnitOfWorkFactory
from loom.core.use_case import Input
from loom.core.use_case.use_case import UseCase
from loom.jobs import RelaySettings
from loom.jobs.inline import InlineJobService


@pytest.fixture
def app() -> Application:
    return Application(InMemoryUnitOfWorkFactory(InMemoryDatabase(User, Product)))


@pytest.fixture
def jobs(app: Application) -> InlineJobService:
    service = InlineJobService(app, concurrency=4)
    app.container.register_instance(JobService, service)
    return service


async def new_product(app: Application, stock: int = 0, sku: str = "SKU-1") -> Product:
    product: Product = await app.invoker.invoke(
        CreateProductUseCase,
        payload={"sku": sku, "name": "Lamp", "category": "home", "price_cents": 1, "stock": stock},
    )
    return product


async def test_a_job_dispatched_by_a_use_case_runs_after_commit_and_calls_on_success(
    app: Application, jobs: InlineJobService
) -> None:
    product = await new_product(app, stock=0)
    response = await app.invoker.invoke(
        DispatchRestockEmailUseCase,
        params={"product_id": str(product.id)},
        payload={"recipient_email": "ops@example.com"},
    )
    state = await jobs.wait(response.job_id, timeout=5)
    assert (state.status, state.attempts, state.queue) == (JobStatus.SUCCEEDED, 1, "notifications")
    reloaded = await app.invoker.entity(Product).get(params={"id": product.id})
    assert reloaded is not None
    assert reloaded.category == "home-restock-notified"


async def test_the_workflow_invokes_a_use_case_and_dispatches(
    app: Application, jobs: InlineJobService
) -> None:
    product = await new_product(app, stock=3)
    result = await app.invoker.invoke(
        RestockWorkflowUseCase,
        params={"product_id": str(product.id)},
        payload={"recipient_email": "ops@example.com"},
    )
    assert result.summary == "SKU-1 (Lamp) is in stock."
    state = await jobs.wait(result.restock_job_id, timeout=5)
    assert state.status is JobStatus.SUCCEEDED
    reloaded = await app.invoker.entity(Product).get(params={"id": product.id})
    assert reloaded is not None
    assert reloaded.category == "home"  # the job returned False: nothing to notify


class Note(Command, frozen=True):
    text: str


class RecordingJob(Job[int]):
    calls: ClassVar[list[str]] = []

    async def execute(self, cmd: Note = Input()) -> int:
        RecordingJob.calls.append(cmd.text)
        return len(cmd.text)


class DispatchThenFail(UseCase[User, None]):
    def __init__(self, jobs: JobService) -> None:
        self.jobs = jobs

    async def execute(self, cmd: Note = Input()) -> None:
        self.jobs.dispatch(RecordingJob, payload={"text": cmd.text})
        if cmd.text == "fail":
            raise RuntimeError("rolled back")


async def test_a_rolled_back_use_case_runs_no_job(app: Application, jobs: InlineJobService) -> None:
    RecordingJob.calls.clear()
    with pytest.raises(RuntimeError):
        await app.invoker.invoke(DispatchThenFail, payload={"text": "fail"})
    await app.invoker.invoke(DispatchThenFail, payload={"text": "ok"})
    await jobs.drain(timeout=5)
    assert RecordingJob.calls == ["ok"]


class Flaky(Job[str]):
    __retries__ = 3
    __backoff__ = 0.001
    attempts: ClassVar[int] = 0

    async def execute(self) -> str:
        Flaky.attempts += 1
        raise ConnectionError(f"attempt {Flaky.attempts}")


class FailureLog:
    seen: ClassVar[list[tuple[str, str, dict[str, Any]]]] = []

    async def on_failure(self, job_id: str, error: str, **context: Any) -> None:
        FailureLog.seen.append((job_id, error, context))


async def test_an_always_failing_job_is_retried_then_on_failure_runs_once(
    jobs: InlineJobService,
) -> None:
    Flaky.attempts = 0
    FailureLog.seen.clear()
    handle = jobs.dispatch(Flaky, payload={"order": 7}, on_failure=FailureLog)
    state = await handle.wait(timeout=5)
    assert state.status is JobStatus.FAILED
    assert (state.attempts, Flaky.attempts) == (4, 4)
    assert (state.error_type, state.error_message) == ("ConnectionError", "attempt 4")
    await jobs.drain(timeout=5)
    assert FailureLog.seen == [(handle.job_id, "attempt 4", {"order": 7})]


async def test_bad_payloads_fail_fast_without_retries(jobs: InlineJobService) -> None:
    handle = jobs.dispatch(RecordingJob, payload={"text": 12})
    state = await handle.wait(timeout=5)
    assert (state.status, state.attempts) == (JobStatus.FAILED, 1)
    assert state.error_type == "ValidationError"
    assert "text" in (state.error_message or "")


async def test_a_missing_entity_fails_fast(app: Application, jobs: InlineJobService) -> None:
    handle = jobs.dispatch(
        SendRestockEmailJob,
        params={"product_id": 999},
        payload={"product_id": 999, "recipient_email": "x@y.z"},
        on_failure=RestockEmailFailureCallback,
    )
    state = await handle.wait(timeout=5)
    assert (state.status, state.attempts, state.error_type) == (JobStatus.FAILED, 1, "NotFound")


class Slow(Job[None]):
    __timeout__ = 0.05
    __retries__ = 0

    async def execute(self) -> None:
        await asyncio.sleep(1)


async def test_an_attempt_longer_than_the_timeout_fails(jobs: InlineJobService) -> None:
    state = await jobs.dispatch(Slow).wait(timeout=5)
    assert (state.status, state.error_type) == (JobStatus.FAILED, "TimeoutError")


class Gate(Job[None]):
    running: ClassVar[int] = 0
    peak: ClassVar[int] = 0

    async def execute(self) -> None:
        Gate.running += 1
        Gate.peak = max(Gate.peak, Gate.running)
        await asyncio.sleep(0.01)
        Gate.running -= 1


async def test_concurrency_is_bounded(jobs: InlineJobService) -> None:
    Gate.peak = 0
    handles = [jobs.dispatch(Gate) for _ in range(12)]
    await jobs.drain(timeout=5)
    assert Gate.peak == 4
    states = [await jobs.status(h.job_id) for h in handles]
    assert {s.status for s in states if s is not None} == {JobStatus.SUCCEEDED}
    assert None not in states


class Stuck(Slow):
    __timeout__ = 10

    async def execute(self) -> None:
        await asyncio.sleep(0.3)


async def test_shutdown_finishes_running_jobs_and_leaves_the_rest_to_the_next_relay(
    app: Application,
) -> None:
    relay = RelaySettings(interval=0.02, grace=0.0)
    service = InlineJobService(app, concurrency=1, relay=relay)
    quick = service.dispatch(Gate)
    stuck = service.dispatch(Stuck)
    await asyncio.sleep(0.05)
    abandoned = await service.close(grace=0.1)
    assert (await service.status(quick.job_id)).status is JobStatus.SUCCEEDED  # type: ignore[union-attr]
    assert abandoned == [stuck.job_id]
    late = service.dispatch(Gate)  # after shutdown: recorded, not run
    await asyncio.gather(*service.outbox.tasks)
    assert (await service.status(late.job_id)).status is JobStatus.QUEUED  # type: ignore[union-attr]
    assert {row.id for row in await service.outbox.due(0.0)} == {stuck.job_id, late.job_id}

    restarted = InlineJobService(app, jobs=[Gate, Stuck], relay=relay)
    restarted.relay.start()
    try:
        assert (await restarted.wait(late.job_id, timeout=5)).status is JobStatus.SUCCEEDED
        assert (await restarted.wait(stuck.job_id, timeout=5)).status is JobStatus.SUCCEEDED
    finally:
        await restarted.close()
    assert await restarted.outbox.due(0.0) == []


async def test_status_of_an_unknown_job_is_none(jobs: InlineJobService) -> None:
    assert await jobs.status("nope") is None
    with pytest.raises(KeyError):
        await jobs.wait("nope", timeout=0.1)


def test_callbacks_of_the_seed_resolve(app: Application, jobs: InlineJobService) -> None:
    app.compile(
        use_cases=[DispatchRestockEmailUseCase, RestockWorkflowUseCase],
        jobs=[SendRestockEmailJob],
        callbacks=[RestockEmailSuccessCallback, RestockEmailFailureCallback],
    )
