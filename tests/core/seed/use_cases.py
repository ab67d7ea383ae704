"""Seed 000/001 commands and use cases, unchanged but for imports of local names."""

from __future__ import annotations

import re
from typing import Any

import msgspec

from loom.core.command import Command, Patch
from loom.core.job.service import JobService
from loom.core.repository.abc.query import (
    CursorResult,
    FilterGroup,
    FilterOp,
    FilterSpec,
    PageResult,
    PaginationMode,
    QuerySpec,
    SortSpec,
)
from loom.core.use_case import Compute, Exists, F, Input, LoadById, OnMissing, Rule
from loom.core.use_case.invoker import ApplicationInvoker
from loom.core.use_case.use_case import UseCase

from .jobs import (
    RestockEmailFailureCallback,
    RestockEmailSuccessCallback,
    SendRestockEmailJob,
)
from .models import Address, Product, Record, User

_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class CreateUser(Command, frozen=True):
    full_name: str
    email: str


class UpdateUser(Command, frozen=True):
    full_name: Patch[str] = None
    email: Patch[str] = None


def _name_must_not_be_blank(full_name: str) -> str | None:
    return None if full_name.strip() else "full_name must not be blank"


def _email_must_be_valid(email: str) -> str | None:
    return None if _EMAIL_RE.fullmatch(email) else "email must be valid"


class CreateUserUseCase(UseCase[User, User]):
    rules = [
        Rule.check(F(CreateUser).full_name, via=_name_must_not_be_blank),
        Rule.check(F(CreateUser).email, via=_email_must_be_valid),
        Rule.forbid(lambda _, __, exists: exists, message="email already exists").from_params(
            "email_exists"
        ),
    ]

    async def execute(
        self,
        cmd: CreateUser = Input(),
        email_exists: bool = Exists(User, from_command="email", against="email"),
    ) -> User:
        return await self.main_repo.create(cmd)


class UpdateUserUseCase(UseCase[User, User | None]):
    rules = [
        Rule.check(F(UpdateUser).full_name, via=_name_must_not_be_blank).when_present(
            F(UpdateUser).full_name
        )
    ]

    async def execute(
        self,
        user_id: int,
        cmd: UpdateUser = Input(),
        current_user: User = LoadById(User, by="user_id"),
    ) -> User | None:
        return await self.main_repo.update(user_id, cmd)


class CreateUserAddress(Command, frozen=True):
    label: str
    street: str
    city: str
    country: str
    zip_code: str


class CreateAddressRecord(Command, frozen=True):
    user_id: int
    label: str
    street: str
    city: str
    country: str
    zip_code: str


class UpdateAddress(Command, frozen=True):
    label: Patch[str] = None
    street: Patch[str] = None
    city: Patch[str] = None
    country: Patch[str] = None
    zip_code: Patch[str] = None


class CreateAddressUseCase(UseCase[Address, Address]):
    async def execute(
        self,
        user_id: int,
        cmd: CreateUserAddress = Input(),
        _user_exists: bool = Exists(
            User, from_param="user_id", against="id", on_missing=OnMissing.RAISE
        ),
    ) -> Address:
        payload = CreateAddressRecord(user_id=user_id, **cmd.__dict__)
        return await self.main_repo.create(payload)


class ListAddressesUseCase(UseCase[Address, PageResult[Address] | CursorResult[Address]]):
    async def execute(
        self,
        user_id: int,
        query: QuerySpec,
        profile: str = "default",
    ) -> PageResult[Address] | CursorResult[Address]:
        scoped_query = QuerySpec(
            filters=FilterGroup(
                filters=(FilterSpec(field="user_id", op=FilterOp.EQ, value=user_id),),
            ),
            sort=query.sort,
            pagination=query.pagination,
            limit=query.limit,
            page=query.page,
            cursor=query.cursor,
        )
        return await self.main_repo.list_with_query(scoped_query, profile=profile)


class ListLowStockProductsUseCase(UseCase[Product, PageResult[Product]]):
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


class CreateProduct(Command, frozen=True):
    sku: str
    name: str
    category: str
    price_cents: int
    stock: int


class CreateProductUseCase(UseCase[Product, Product]):
    async def execute(self, cmd: CreateProduct = Input()) -> Product:
        return await self.main_repo.create(cmd)


class DispatchRestockEmailCommand(Command, frozen=True):
    recipient_email: str
    force_fail: bool = False


class DispatchRestockEmailResponse(msgspec.Struct, frozen=True):
    job_id: str
    queue: str


class DispatchRestockEmailUseCase(UseCase[Product, DispatchRestockEmailResponse]):
    def __init__(self, job_service: JobService) -> None:
        self._jobs = job_service

    async def execute(
        self,
        product_id: str,
        cmd: DispatchRestockEmailCommand = Input(),
    ) -> DispatchRestockEmailResponse:
        handle = self._jobs.dispatch(
            SendRestockEmailJob,
            params={"product_id": int(product_id)},
            payload={
                "product_id": int(product_id),
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
    def __init__(self, app: ApplicationInvoker, job_service: JobService) -> None:
        self._app = app
        self._jobs = job_service

    async def execute(
        self,
        product_id: str,
        cmd: DispatchRestockEmailCommand = Input(),
    ) -> RestockWorkflowResponse:
        summary_result = await self._app.invoke(
            BuildProductSummaryUseCase,
            params={"product_id": int(product_id)},
        )
        handle = self._jobs.dispatch(
            SendRestockEmailJob,
            params={"product_id": int(product_id)},
            payload={"product_id": int(product_id), "recipient_email": cmd.recipient_email},
            on_success=RestockEmailSuccessCallback,
            on_failure=RestockEmailFailureCallback,
        )
        return RestockWorkflowResponse(
            summary=summary_result.summary,
            restock_job_id=handle.job_id,
            queue=handle.queue,
        )


TAX_RATES = {"ES": 0.21, "FR": 0.2}


class PricingCommand(Command, frozen=True):
    email: str
    unit_price: float
    quantity: int
    country: str
    normalized_email: str = ""
    subtotal: float = 0.0
    tax_rate: float = 0.21
    tax_amount: float = 0.0


class PricingPreviewResponse(msgspec.Struct, frozen=True):
    record_id: int
    normalized_email: str
    subtotal: float
    tax_amount: float


class PricingPreviewUseCase(UseCase[Record, PricingPreviewResponse]):
    computes = (
        Compute.set(F(PricingCommand).normalized_email).from_command(
            F(PricingCommand).email,
            via=lambda v: v.strip().lower(),
        ),
        Compute.set(F(PricingCommand).subtotal).from_command(
            F(PricingCommand).unit_price,
            F(PricingCommand).quantity,
            via=lambda price, qty: price * qty,
        ),
        Compute.set(F(PricingCommand).tax_amount).from_command(
            F(PricingCommand).subtotal,
            F(PricingCommand).tax_rate,
            via=lambda sub, rate: sub * rate,
        ),
    )
    rules = (
        Rule.check(
            F(PricingCommand).unit_price, via=lambda v: v <= 0, message="unit_price must be > 0"
        ),
        Rule.check(
            F(PricingCommand).country,
            via=lambda v: v not in TAX_RATES,
            message="Unsupported country",
        ),
    )

    async def execute(
        self, record_id: int, cmd: PricingCommand = Input()
    ) -> PricingPreviewResponse:
        return PricingPreviewResponse(
            record_id=record_id,
            normalized_email=cmd.normalized_email,
            subtotal=cmd.subtotal,
            tax_amount=cmd.tax_amount,
        )


__all__: list[Any] = []
