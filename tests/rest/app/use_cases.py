"""Commands and use cases of the conformance app."""

from __future__ import annotations

import re

import msgspec

from loom.core.command import Command
from loom.core.errors import Forbidden, NotFound
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
from loom.core.security import Principal, RequestInfo
from loom.core.use_case import Exists, F, Input, LoadById, OnMissing, Rule
from loom.core.use_case.use_case import UseCase

from .models import Address, Product, User

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

SECRET_SQL = "SELECT secret FROM passwords"
"""The text of the unexpected error: it must never reach a response body."""


# --- users ------------------------------------------------------------------------


class RegisterUser(Command, frozen=True):
    full_name: str
    email: str


def _name_not_blank(full_name: str) -> str | None:
    return None if full_name.strip() else "full_name must not be blank"


def _email_valid(email: str) -> str | None:
    return None if _EMAIL.fullmatch(email) else "email must be valid"


class RegisterUserUseCase(UseCase[User, User]):
    """Register a user, checking every rule at once."""

    rules = [
        Rule.check(F(RegisterUser).full_name, via=_name_not_blank),
        Rule.check(F(RegisterUser).email, via=_email_valid),
    ]

    async def execute(self, cmd: RegisterUser = Input()) -> User:
        return await self.main_repo.create(cmd)


# --- addresses, nested under users --------------------------------------------------


class CreateUserAddress(Command, frozen=True):
    label: str
    city: str
    zip_code: str


class CreateAddressUseCase(UseCase[Address, Address]):
    """Add an address to a user; a missing user answers 404."""

    async def execute(
        self,
        user_id: int,
        cmd: CreateUserAddress = Input(),
        _user_exists: bool = Exists(
            User, from_param="user_id", against="id", on_missing=OnMissing.RAISE
        ),
    ) -> Address:
        return await self.main_repo.create({"user_id": user_id, **msgspec.structs.asdict(cmd)})


class ListAddressesUseCase(UseCase[Address, PageResult[Address] | CursorResult[Address]]):
    """List the addresses of one user."""

    read_only = True

    async def execute(
        self,
        user_id: int,
        query: QuerySpec,
        _user_exists: bool = Exists(
            User, from_param="user_id", against="id", on_missing=OnMissing.RAISE
        ),
    ) -> PageResult[Address] | CursorResult[Address]:
        own = FilterSpec(field="user_id", op=FilterOp.EQ, value=user_id)
        scoped = msgspec.structs.replace(
            query,
            filters=FilterGroup(filters=(own, *((query.filters,) if query.filters else ()))),
        )
        result: PageResult[Address] | CursorResult[Address] = await self.main_repo.list_with_query(
            scoped
        )
        return result


class GetAddressUseCase(UseCase[Address, Address]):
    """Get one address of a user."""

    read_only = True

    async def execute(
        self,
        user_id: int,
        address_id: int,
        address: Address = LoadById(Address, by="address_id"),
    ) -> Address:
        if address.user_id != user_id:
            raise NotFound(entity="Address", id=address_id)
        return address


# --- products -----------------------------------------------------------------------


class ListLowStockProductsUseCase(UseCase[Product, PageResult[Product]]):
    """List products whose stock is at or below a threshold, lowest stock first."""

    read_only = True

    async def execute(self, threshold: int = 5) -> PageResult[Product]:
        query = QuerySpec(
            filters=FilterGroup(
                filters=(FilterSpec(field="stock", op=FilterOp.LTE, value=threshold),)
            ),
            sort=(SortSpec(field="stock"), SortSpec(field="id")),
            pagination=PaginationMode.OFFSET,
            limit=20,
        )
        result = await self.main_repo.list_with_query(query)
        if not isinstance(result, PageResult):
            raise TypeError("expected an offset page")
        return result


class RestockCommand(Command, frozen=True):
    quantity: int


class RestockAccepted(msgspec.Struct, frozen=True):
    product_id: int
    sku: str
    requested_quantity: int


class RestockProductUseCase(UseCase[Product, RestockAccepted]):
    """Accept a restock request for a product (answers 202)."""

    async def execute(
        self,
        product_id: int,
        cmd: RestockCommand = Input(),
        product: Product = LoadById(Product, by="product_id"),
    ) -> RestockAccepted:
        return RestockAccepted(
            product_id=product.id, sku=product.sku, requested_quantity=cmd.quantity
        )


# --- auth ---------------------------------------------------------------------------


class WhoAmI(msgspec.Struct, frozen=True):
    principal_id: str
    roles: list[str]


class WhoAmIUseCase(UseCase[User, WhoAmI]):
    """Say who is calling."""

    read_only = True

    async def execute(self, principal: Principal) -> WhoAmI:
        return WhoAmI(principal_id=principal.id, roles=sorted(principal.roles))


ALICE = Principal(id="alice", roles=frozenset({"admin"}))
BOB = Principal(id="bob", roles=frozenset({"reader"}))
TOKENS = {"alice-token": ALICE, "bob-token": BOB}
API_KEYS = {"key-123": Principal(id="service-bot", roles=frozenset({"service"}))}


def verify_token(token: str) -> Principal | None:
    """The bearer-token check of the conformance app."""
    return TOKENS.get(token)


class AdminOnly:
    """An auth hook (a class, built by DI) that lets admins through and forbids the rest."""

    def __init__(self) -> None:
        from loom.core.security import BearerTokenAuth

        self._bearer = BearerTokenAuth(verify_token)

    async def __call__(self, request: RequestInfo) -> Principal | None:
        principal = await self._bearer(request)
        if principal is None or not principal.has_role("admin"):
            raise Forbidden("admins only")
        return principal


# --- a bug --------------------------------------------------------------------------


class Report(msgspec.Struct, frozen=True):
    rows: int


class BrokenReportUseCase(UseCase[Product, Report]):
    """A use case with a bug: its exception text must never reach the client."""

    read_only = True

    async def execute(self) -> Report:
        raise RuntimeError(SECRET_SQL)
