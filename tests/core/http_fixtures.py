"""Interfaces for the ``loom.core.http`` tests, modelled on seed 001.

``User`` (unique email, auto-CRUD), ``Address`` nested under ``/users/{user_id}`` (FK with
cascade), ``Product`` (cursor pagination by default, a custom list route, a non-list
"low stock" route, a 202 job route with auth) plus columns of every scalar type.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any
from uuid import UUID

import msgspec

from loom.core.command import Command, Patch
from loom.core.errors import NotFound
from loom.core.interface import (
    RestInterface,
    RestRoute,
    RouteSpec,
    build_auto_routes,
    compile_interfaces,
)
from loom.core.model import BaseModel, ColumnField, OnDelete, TimestampedModel
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
from loom.core.use_case import Exists, Input, LoadById, OnMissing
from loom.core.use_case.use_case import UseCase


class ProductStatus(StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    RETIRED = "retired"


class User(TimestampedModel):
    __tablename__ = "http_users"
    id: int = ColumnField(primary_key=True, autoincrement=True)
    full_name: str = ColumnField(length=120)
    email: str = ColumnField(length=255, unique=True, index=True)


class Address(BaseModel):
    __tablename__ = "http_addresses"
    id: int = ColumnField(primary_key=True, autoincrement=True)
    user_id: int = ColumnField(foreign_key="http_users.id", on_delete=OnDelete.CASCADE, index=True)
    label: str = ColumnField(length=80)
    street: str = ColumnField(length=255)
    city: str = ColumnField(length=120)
    country: str = ColumnField(length=120)
    zip_code: str = ColumnField(length=20)


class Product(TimestampedModel):
    __tablename__ = "http_products"
    id: int = ColumnField(primary_key=True, autoincrement=True)
    sku: str = ColumnField(length=64, unique=True, index=True)
    name: str = ColumnField(length=150)
    category: str = ColumnField(length=120, index=True)
    price_cents: int = ColumnField()
    stock: int = ColumnField()
    weight_kg: float | None = ColumnField(default=None)
    unit_price: Decimal | None = ColumnField(default=None)
    active: bool = ColumnField(default=True)
    status: ProductStatus = ColumnField(default=ProductStatus.DRAFT)
    released_on: date | None = ColumnField(default=None)
    restocked_at: datetime | None = ColumnField(default=None)
    external_id: UUID | None = ColumnField(default=None)
    attributes: dict[str, str] | None = ColumnField(default=None)


class FindUserByEmailUseCase(UseCase[User, User]):
    """Find a user by email."""

    read_only = True

    async def execute(self, email: str) -> User:
        query = QuerySpec(
            filters=FilterGroup(filters=(FilterSpec(field="email", value=email),)), limit=1
        )
        page = await self.main_repo.list_with_query(query)
        if not page.items:
            raise NotFound(entity="User", id=email)
        return page.items[0]


# --- addresses, nested under users -------------------------------------------------


class CreateUserAddress(Command, frozen=True):
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
        return await self.main_repo.create({"user_id": user_id, **cmd.__dict__})


class ListAddressesUseCase(UseCase[Address, PageResult[Address] | CursorResult[Address]]):
    async def execute(
        self, user_id: int, query: QuerySpec, profile: str = "default"
    ) -> PageResult[Address] | CursorResult[Address]:
        scoped = msgspec.structs.replace(
            query,
            filters=FilterGroup(
                filters=(
                    FilterSpec(field="user_id", op=FilterOp.EQ, value=user_id),
                    *((query.filters,) if query.filters else ()),
                )
            ),
        )
        result: PageResult[Address] | CursorResult[Address] = await self.main_repo.list_with_query(
            scoped, profile=profile
        )
        return result


class GetAddressUseCase(UseCase[Address, Address]):
    """Get one address of a user.

    The address is loaded by id; a missing one answers 404.
    """

    read_only = True

    async def execute(
        self,
        user_id: int,
        address_id: int,
        address: Address = LoadById(Address, by="address_id"),
    ) -> Address:
        return address


class UpdateAddressUseCase(UseCase[Address, Address]):
    async def execute(self, user_id: int, address_id: int, cmd: UpdateAddress = Input()) -> Address:
        updated = await self.main_repo.update(address_id, cmd)
        if updated is None:
            raise NotFound(entity="Address", id=address_id)
        return updated


class DeleteAddressUseCase(UseCase[Address, None]):
    async def execute(self, user_id: int, address_id: int) -> None:
        await self.main_repo.delete(address_id)


# --- products ---------------------------------------------------------------------


class ListLowStockProductsUseCase(UseCase[Product, PageResult[Product]]):
    """List products whose stock is at or below a threshold.

    Sorted by stock, then id.
    """

    read_only = True

    async def execute(self, threshold: int = 5, profile: str = "default") -> PageResult[Product]:
        query = QuerySpec(
            filters=FilterGroup(
                filters=(FilterSpec(field="stock", op=FilterOp.LTE, value=threshold),)
            ),
            sort=(SortSpec(field="stock"), SortSpec(field="id")),
            pagination=PaginationMode.OFFSET,
            limit=20,
        )
        result = await self.main_repo.list_with_query(query, profile=profile)
        if not isinstance(result, PageResult):
            raise TypeError("expected an offset page")
        return result


class ListCategoryProductsUseCase(UseCase[Product, PageResult[Product] | CursorResult[Product]]):
    read_only = True

    async def execute(
        self, category: str, query: QuerySpec, in_stock_only: bool = False
    ) -> PageResult[Product] | CursorResult[Product]:
        result: PageResult[Product] | CursorResult[Product] = await self.main_repo.list_with_query(
            query
        )
        return result


class DispatchRestockEmailCommand(Command, frozen=True):
    recipient_email: str
    force_fail: bool = False


class DispatchRestockEmailResponse(msgspec.Struct, frozen=True):
    job_id: str
    queue: str


class DispatchRestockEmailUseCase(UseCase[Product, DispatchRestockEmailResponse]):
    async def execute(
        self,
        product_id: int,
        cmd: DispatchRestockEmailCommand = Input(),
        product: Product = LoadById(Product, by="product_id"),
    ) -> DispatchRestockEmailResponse:
        return DispatchRestockEmailResponse(job_id=f"job-{product.id}", queue="notifications")


def require_staff(request: Any) -> None:
    """An auth hook: only its presence matters to these tests."""


class UserRestInterface(RestInterface[User]):
    prefix = "/users"
    tags = ("Users",)
    routes = (
        RestRoute(use_case=FindUserByEmailUseCase, method="GET", path="/by-email"),
        *build_auto_routes(User, ()),
    )


class AddressRestInterface(RestInterface[Address]):
    prefix = "/users"
    tags = ("UserAddresses",)
    routes = (
        RestRoute(
            use_case=CreateAddressUseCase,
            method="POST",
            path="/{user_id}/addresses/",
            status_code=201,
        ),
        RestRoute(use_case=ListAddressesUseCase, method="GET", path="/{user_id}/addresses/"),
        RestRoute(
            use_case=GetAddressUseCase, method="GET", path="/{user_id}/addresses/{address_id}"
        ),
        RestRoute(
            use_case=UpdateAddressUseCase,
            method="PATCH",
            path="/{user_id}/addresses/{address_id}",
        ),
        RestRoute(
            use_case=DeleteAddressUseCase,
            method="DELETE",
            path="/{user_id}/addresses/{address_id}",
        ),
    )


class ProductRestInterface(RestInterface[Product]):
    prefix = "/products"
    tags = ("Products",)
    pagination_mode = PaginationMode.CURSOR
    routes = (
        RestRoute(
            use_case=ListLowStockProductsUseCase,
            method="GET",
            path="/low-stock",
            summary="List low stock products",
        ),
        RestRoute(
            use_case=ListCategoryProductsUseCase,
            method="GET",
            path="/categories/{category}",
            summary="List the products of a category",
            description="Takes every list parameter, plus in_stock_only.",
        ),
        RestRoute(
            use_case=DispatchRestockEmailUseCase,
            method="POST",
            path="/{product_id}/jobs/restock-email",
            summary="Dispatch restock email job",
            status_code=202,
            tags=("Jobs",),
            auth=require_staff,
        ),
        *build_auto_routes(Product, ()),
    )


INTERFACES = (UserRestInterface, AddressRestInterface, ProductRestInterface)
ROUTES: tuple[RouteSpec, ...] = compile_interfaces(INTERFACES)


def route(method: str, path: str) -> RouteSpec:
    """The compiled route serving ``method path``."""
    for spec in ROUTES:
        if spec.method == method and spec.path == path:
            return spec
    raise LookupError(f"no route {method} {path}; have {[(r.method, r.path) for r in ROUTES]}")
