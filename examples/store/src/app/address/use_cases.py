"""Addresses nested under ``/users/{user_id}/addresses``: every route guards the parent."""

from app.address.model import Address
from app.user.model import User
from loom.core.command import Command, Patch
from loom.core.errors import NotFound
from loom.core.repository.abc.query import (
    CursorResult,
    FilterGroup,
    FilterOp,
    FilterSpec,
    PageResult,
    QuerySpec,
)
from loom.core.use_case import Exists, Input, LoadById, OnMissing
from loom.core.use_case.use_case import UseCase


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


def _owned(address: Address, user_id: int) -> Address:
    if address.user_id != user_id:
        raise NotFound(entity="Address", id=address.id)
    return address


class CreateAddressUseCase(UseCase[Address, Address]):
    """Add an address to a user."""

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
    """List a user's addresses."""

    read_only = True

    async def execute(
        self,
        user_id: int,
        query: QuerySpec,
        profile: str = "default",
        _user_exists: bool = Exists(
            User, from_param="user_id", against="id", on_missing=OnMissing.RAISE
        ),
    ) -> PageResult[Address] | CursorResult[Address]:
        scoped_query = QuerySpec(
            filters=FilterGroup(
                filters=(
                    FilterSpec(field="user_id", op=FilterOp.EQ, value=user_id),
                    *((query.filters,) if query.filters else ()),
                ),
            ),
            sort=query.sort,
            pagination=query.pagination,
            limit=query.limit,
            page=query.page,
            cursor=query.cursor,
        )
        return await self.main_repo.list_with_query(scoped_query, profile=profile)


class GetAddressUseCase(UseCase[Address, Address]):
    """Get one of a user's addresses."""

    read_only = True

    async def execute(
        self,
        user_id: int,
        address_id: int,
        address: Address = LoadById(Address, by="address_id"),
    ) -> Address:
        return _owned(address, user_id)


class UpdateAddressUseCase(UseCase[Address, Address]):
    """Change some fields of one of a user's addresses."""

    async def execute(
        self,
        user_id: int,
        address_id: int,
        cmd: UpdateAddress = Input(),
        address: Address = LoadById(Address, by="address_id"),
    ) -> Address:
        _owned(address, user_id)
        updated = await self.main_repo.update(address_id, cmd)
        if updated is None:
            raise NotFound(entity="Address", id=address_id)
        return updated


class DeleteAddressUseCase(UseCase[Address, None]):
    """Delete one of a user's addresses."""

    async def execute(
        self,
        user_id: int,
        address_id: int,
        address: Address = LoadById(Address, by="address_id"),
    ) -> None:
        _owned(address, user_id)
        await self.main_repo.delete(address_id)
