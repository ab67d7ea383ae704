"""Seed 001 on every backend: the restock job, both callbacks and the workflow."""

from __future__ import annotations

import pytest
from tests.core.seed.jobs import SendRestockEmailJob
from tests.core.seed.models import Product
from tests.core.seed.use_cases import (
    CreateProductUseCase,
    DispatchRestockEmailUseCase,
    RestockWorkflowUseCase,
)
from tests.jobs._support import backend_params
from tests.jobs.conftest import RuntimeFactory

from loom.core.bootstrap import Runtime
from loom.core.job.service import JobStatus
from loom.jobs.testing import job_tester

BACKENDS = backend_params("inline", "stub", "redis", "rabbitmq")


@pytest.fixture(autouse=True)
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(SendRestockEmailJob, "__backoff__", 0.01)


async def new_product(runtime: Runtime, *, stock: int, sku: str = "SKU-1") -> Product:
    product: Product = await runtime.application.invoker.invoke(
        CreateProductUseCase,
        payload={"sku": sku, "name": "Lamp", "category": "home", "price_cents": 1, "stock": stock},
    )
    return product


async def category(runtime: Runtime, product: Product) -> str:
    reloaded = await runtime.application.invoker.entity(Product).get(params={"id": product.id})
    assert reloaded is not None
    return reloaded.category


@pytest.mark.parametrize("backend", BACKENDS)
async def test_the_restock_job_runs_and_on_success_updates_the_product(
    make_runtime: RuntimeFactory, backend: str
) -> None:
    runtime = await make_runtime(backend)
    async with job_tester(runtime) as jobs:
        product = await new_product(runtime, stock=0)
        response = await runtime.application.invoker.invoke(
            DispatchRestockEmailUseCase,
            params={"product_id": str(product.id)},
            payload={"recipient_email": "ops@example.com"},
        )
        assert response.queue == "notifications"
        (state,) = await jobs.drain(timeout=20)
        assert (state.job_id, state.status, state.attempts) == (
            response.job_id,
            JobStatus.SUCCEEDED,
            1,
        )
        (sent,) = jobs.assert_dispatched(SendRestockEmailJob, count=1)
        assert sent.params == {"product_id": product.id}
        assert sent.on_success == "tests.core.seed.jobs:RestockEmailSuccessCallback"
        assert await category(runtime, product) == "home-restock-notified"


@pytest.mark.parametrize("backend", BACKENDS)
async def test_a_forced_failure_is_retried_then_on_failure_runs_once(
    make_runtime: RuntimeFactory, backend: str
) -> None:
    runtime = await make_runtime(backend)
    async with job_tester(runtime) as jobs:
        product = await new_product(runtime, stock=0)
        response = await runtime.application.invoker.invoke(
            DispatchRestockEmailUseCase,
            params={"product_id": str(product.id)},
            payload={"recipient_email": "ops@example.com", "force_fail": True},
        )
        (state,) = await jobs.drain(timeout=30)
        assert state.job_id == response.job_id
        assert (state.status, state.attempts) == (JobStatus.FAILED, 4)
        assert (state.error_type, state.error_message) == (
            "RuntimeError",
            "forced restock email failure",
        )
        assert await category(runtime, product) == "home-restock-failed"


@pytest.mark.parametrize("backend", BACKENDS)
async def test_the_workflow_invokes_a_use_case_then_dispatches(
    make_runtime: RuntimeFactory, backend: str
) -> None:
    runtime = await make_runtime(backend)
    async with job_tester(runtime) as jobs:
        product = await new_product(runtime, stock=3)
        result = await runtime.application.invoker.invoke(
            RestockWorkflowUseCase,
            params={"product_id": str(product.id)},
            payload={"recipient_email": "ops@example.com"},
        )
        assert result.summary == "SKU-1 (Lamp) is in stock."
        (state,) = await jobs.drain(timeout=20)
        assert (state.job_id, state.status) == (result.restock_job_id, JobStatus.SUCCEEDED)
        assert await runtime.jobs.service.status(result.restock_job_id) == state  # type: ignore[union-attr]
        assert await category(runtime, product) == "home"  # in stock: nothing to notify


@pytest.mark.parametrize("backend", BACKENDS)
async def test_a_missing_product_fails_fast_and_calls_on_failure(
    make_runtime: RuntimeFactory, backend: str
) -> None:
    runtime = await make_runtime(backend)
    async with job_tester(runtime) as jobs:
        product = await new_product(runtime, stock=0)
        await runtime.application.invoker.entity(Product).delete(params={"id": product.id})
        response = await runtime.application.invoker.invoke(
            DispatchRestockEmailUseCase,
            params={"product_id": str(product.id)},
            payload={"recipient_email": "ops@example.com"},
        )
        (state,) = await jobs.drain(timeout=20)
        assert (state.job_id, state.status, state.attempts, state.error_type) == (
            response.job_id,
            JobStatus.FAILED,
            1,
            "NotFound",
        )
