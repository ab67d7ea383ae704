"""Product use cases (seed 001): custom queries, job dispatch, a workflow."""

import msgspec

from app.product.callbacks import RestockEmailFailureCallback, RestockEmailSuccessCallback
from app.product.jobs import SendRestockEmailJob
from app.product.model import Product
from loom.core.command import Command
from loom.core.errors import NotFound
from loom.core.job.service import JobService, JobState
from loom.core.repository.abc.query import (
    FilterGroup,
    FilterOp,
    FilterSpec,
    PageResult,
    PaginationMode,
    QuerySpec,
    SortSpec,
)
from loom.core.use_case import Input, LoadById
from loom.core.use_case.invoker import ApplicationInvoker
from loom.core.use_case.use_case import UseCase


class ListLowStockProductsUseCase(UseCase[Product, PageResult[Product]]):
    """List products with five or fewer in stock."""

    read_only = True

    async def execute(self, profile: str = "default") -> PageResult[Product]:
        query = QuerySpec(
            filters=FilterGroup(filters=(FilterSpec(field="stock", op=FilterOp.LTE, value=5),)),
            sort=(
                SortSpec(field="stock", direction="ASC"),
                SortSpec(field="id", direction="ASC"),
            ),
            pagination=PaginationMode.OFFSET,
            limit=20,
            page=1,
        )
        result = await self.main_repo.list_with_query(query, profile=profile)
        if not isinstance(result, PageResult):
            raise RuntimeError("Expected offset result")
        return result


class DispatchRestockEmailCommand(Command, frozen=True):
    recipient_email: str
    force_fail: bool = False


class DispatchRestockEmailResponse(msgspec.Struct, frozen=True):
    job_id: str
    queue: str


class DispatchRestockEmailUseCase(UseCase[Product, DispatchRestockEmailResponse]):
    """Queue the restock email of a product."""

    def __init__(self, job_service: JobService) -> None:
        self._jobs = job_service

    async def execute(
        self,
        product_id: int,
        cmd: DispatchRestockEmailCommand = Input(),
    ) -> DispatchRestockEmailResponse:
        handle = self._jobs.dispatch(
            SendRestockEmailJob,
            params={"product_id": product_id},
            payload={
                "product_id": product_id,
                "recipient_email": cmd.recipient_email,
                "force_fail": cmd.force_fail,
            },
            on_success=RestockEmailSuccessCallback,
            on_failure=RestockEmailFailureCallback,
        )
        return DispatchRestockEmailResponse(job_id=handle.job_id, queue=handle.queue)


class ProductSummary(msgspec.Struct, frozen=True):
    summary: str


class BuildProductSummaryUseCase(UseCase[Product, ProductSummary]):
    """Describe a product's availability."""

    read_only = True

    async def execute(
        self, product_id: int, product: Product = LoadById(Product, by="product_id")
    ) -> ProductSummary:
        availability = "in stock" if product.stock > 0 else "out of stock"
        return ProductSummary(summary=f"{product.sku} ({product.name}) is {availability}.")


class RestockWorkflowResponse(msgspec.Struct, frozen=True):
    summary: str
    restock_job_id: str
    queue: str


class RestockWorkflowUseCase(UseCase[Product, RestockWorkflowResponse]):
    """Summarise a product, then queue its restock email."""

    def __init__(self, app: ApplicationInvoker, job_service: JobService) -> None:
        self._app = app
        self._jobs = job_service

    async def execute(
        self,
        product_id: int,
        cmd: DispatchRestockEmailCommand = Input(),
    ) -> RestockWorkflowResponse:
        summary_result = await self._app.invoke(
            BuildProductSummaryUseCase,
            params={"product_id": product_id},
        )
        handle = self._jobs.dispatch(
            SendRestockEmailJob,
            params={"product_id": product_id},
            payload={"product_id": product_id, "recipient_email": cmd.recipient_email},
            on_success=RestockEmailSuccessCallback,
            on_failure=RestockEmailFailureCallback,
        )
        return RestockWorkflowResponse(
            summary=summary_result.summary,
            restock_job_id=handle.job_id,
            queue=handle.queue,
        )


class JobStatusResponse(msgspec.Struct, frozen=True):
    job_id: str
    status: str
    attempts: int
    error_type: str | None = None
    error_message: str | None = None


class GetJobStatusUseCase(UseCase[Product, JobStatusResponse]):
    """Report where a dispatched job is: queued, running, retrying, succeeded or failed."""

    read_only = True

    def __init__(self, job_service: JobService) -> None:
        self._jobs = job_service

    async def execute(self, job_id: str) -> JobStatusResponse:
        state: JobState | None = await self._jobs.status(job_id)
        if state is None:
            raise NotFound(entity="Job", id=job_id)
        return JobStatusResponse(
            job_id=state.job_id,
            status=str(state.status),
            attempts=state.attempts,
            error_type=state.error_type,
            error_message=state.error_message,
        )
