"""Database failures reach callers as loom errors, with no driver text in the message."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import insert, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import create_async_engine
from tests.store.conftest import DIALECTS, PG_URL, MakeStore

from loom.core.config import DatabaseSettings
from loom.core.errors import (
    Conflict,
    LoomError,
    ServiceUnavailable,
    ValidationError,
    http_status_for,
)
from loom.core.logging import logger
from loom.core.model import BaseModel, ColumnField, OnDelete
from loom.store._translate import operation_error
from loom.store.errors import ReadOnlyError, StoreError, StoreUnavailable
from loom.store.store import SQLStore

both = pytest.mark.parametrize("dialect", DIALECTS, indirect=True)

DRIVER_WORDS = (
    "duplicate key",
    "violates",
    "constraint failed",
    "sqlite",
    "asyncpg",
    "Connect call failed",
    "Errno",
    "INSERT",
    "DELETE",
    "UPDATE",
)


class ErrMaker(BaseModel, kw_only=True):
    __tablename__ = "err_makers"

    id: int = ColumnField(primary_key=True, autoincrement=True)
    code: str = ColumnField(length=10, unique=True)
    name: str = ColumnField(length=40)


class ErrShelf(BaseModel, kw_only=True):
    __tablename__ = "err_shelves"

    id: int = ColumnField(primary_key=True, autoincrement=True)
    label: str


class ErrGadget(BaseModel, kw_only=True):
    __tablename__ = "err_gadgets"

    id: int = ColumnField(primary_key=True, autoincrement=True)
    maker_id: int = ColumnField(foreign_key="err_makers.id", on_delete=OnDelete.RESTRICT)
    shelf_id: int | None = ColumnField(
        foreign_key="err_shelves.id", on_delete=OnDelete.SET_NULL, nullable=True
    )
    serial: str = ColumnField(length=20, unique=True, index=True)


MODELS = (ErrMaker, ErrShelf, ErrGadget)


def assert_clean(error: BaseException) -> None:
    """The message shown to clients holds none of the driver's words."""
    message = str(error)
    for word in DRIVER_WORDS:
        assert word.lower() not in message.lower(), (word, message)
    assert error.__cause__ is not None  # raised from the driver error


@pytest.fixture
def log_lines() -> Iterator[list[str]]:
    lines: list[str] = []
    sink = logger.add(lambda message: lines.append(str(message)), level="DEBUG")
    yield lines
    logger.remove(sink)


async def _seed(store: SQLStore) -> tuple[ErrMaker, ErrShelf, ErrGadget]:
    async with store.uow_factory() as uow:
        maker = await uow.repository(ErrMaker).create({"code": "ACME", "name": "Acme"})
        shelf = await uow.repository(ErrShelf).create({"label": "top"})
        gadget = await uow.repository(ErrGadget).create(
            {"maker_id": maker.id, "shelf_id": shelf.id, "serial": "G-1"}
        )
    return maker, shelf, gadget


async def _raw_insert(store: SQLStore, values: dict[str, object], *, read_only: bool) -> None:
    """Insert bypassing the repository's checks; translate the failure as it would."""
    table = store.catalog.table(ErrMaker)
    async with store.uow_factory(read_only=read_only) as uow:
        connection = await uow.connect()
        try:
            await connection.execute(insert(table).values(**values))
        except SQLAlchemyError as exc:
            raise await operation_error(
                exc,
                connection=uow.connection,
                table=table,
                dialect=store.dialect,
                operation="create",
            ) from exc


async def _start_and_count(store: SQLStore) -> None:
    await store.start()
    async with store.uow_factory() as uow:
        await uow.repository(ErrMaker).count()


async def _count_after_losing_the_connection(store: SQLStore) -> None:
    killer = create_async_engine(PG_URL)
    try:
        async with store.uow_factory() as uow:
            connection = await uow.connect()
            pid = (await connection.execute(text("SELECT pg_backend_pid()"))).scalar()
            async with killer.connect() as other:
                await other.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid})
            await uow.repository(ErrMaker).count()
    finally:
        await killer.dispose()


@both
async def test_unique_violation_is_a_conflict_naming_the_field(
    make_store: MakeStore, log_lines: list[str]
) -> None:
    store = await make_store(MODELS)
    maker, _, gadget = await _seed(store)
    with pytest.raises(Conflict) as created:
        async with store.uow_factory() as uow:
            await uow.repository(ErrMaker).create({"code": "ACME", "name": "Again"})
    assert created.value.fields == ("code",)
    assert http_status_for(created.value) == 409
    assert_clean(created.value)
    assert any("ACME" in line or "code" in line for line in log_lines)  # the driver text is logged
    async with store.uow_factory() as uow:
        other = await uow.repository(ErrGadget).create({"maker_id": maker.id, "serial": "G-2"})
    with pytest.raises(Conflict) as updated:
        async with store.uow_factory() as uow:
            await uow.repository(ErrGadget).update(other.id, {"serial": gadget.serial})
    assert updated.value.fields == ("serial",)
    assert_clean(updated.value)


@both
async def test_missing_parent_is_a_validation_error_naming_the_right_field(
    make_store: MakeStore,
) -> None:
    store = await make_store(MODELS)
    maker, shelf, _ = await _seed(store)
    bad_shelf = {"maker_id": maker.id, "shelf_id": shelf.id + 100, "serial": "X-1"}
    bad_maker = {"maker_id": maker.id + 100, "shelf_id": shelf.id, "serial": "X-2"}
    for payload, field in ((bad_shelf, "shelf_id"), (bad_maker, "maker_id")):
        with pytest.raises(ValidationError) as exc:
            async with store.uow_factory() as uow:
                await uow.repository(ErrGadget).create(payload)
        assert [e.field for e in exc.value.errors] == [field]
        assert http_status_for(exc.value) == 422
        assert_clean(exc.value)
    with pytest.raises(ValidationError) as many:
        async with store.uow_factory() as uow:
            await uow.repository(ErrGadget).create_many(
                [{"maker_id": maker.id, "serial": "Y-1"}, {**bad_shelf, "serial": "Y-2"}]
            )
    assert [e.field for e in many.value.errors] == ["shelf_id"]
    async with store.uow_factory(read_only=True) as uow:
        assert await uow.repository(ErrGadget).count() == 1


@both
async def test_a_blocked_delete_is_a_conflict_naming_the_reference(make_store: MakeStore) -> None:
    store = await make_store(MODELS)
    maker, shelf, gadget = await _seed(store)
    with pytest.raises(Conflict) as exc:
        async with store.uow_factory() as uow:
            await uow.repository(ErrMaker).delete(maker.id)
    assert exc.value.fields == ("maker_id",)
    assert_clean(exc.value)
    async with store.uow_factory() as uow:
        assert await uow.repository(ErrShelf).delete(shelf.id) is True
        kept = await uow.repository(ErrGadget).get(gadget.id)
    assert kept is not None
    assert kept.shelf_id is None


@both
async def test_not_null_and_length_are_validation_errors(make_store: MakeStore) -> None:
    store = await make_store(MODELS)
    async with store.uow_factory() as uow:
        repo = uow.repository(ErrMaker)
        with pytest.raises(ValidationError) as missing:
            await repo.create({"code": "A"})
        with pytest.raises(ValidationError) as null:
            await repo.create({"code": "A", "name": None})
        with pytest.raises(ValidationError) as long:
            await repo.create({"code": "A" * 11, "name": "n"})
    assert [e.field for e in missing.value.errors] == ["name"]
    assert [e.field for e in null.value.errors] == ["name"]
    assert [e.field for e in long.value.errors] == ["code"]
    # the database's own NOT NULL check, reached with a raw statement, translates the same
    with pytest.raises(ValidationError) as raw:
        await _raw_insert(store, {"code": "B", "name": None}, read_only=False)
    assert [e.field for e in raw.value.errors] == ["name"]
    assert_clean(raw.value)


@both
async def test_read_only_unit_of_work_refuses_writes_with_a_loom_error(
    make_store: MakeStore, dialect: str
) -> None:
    store = await make_store(MODELS)
    async with store.uow_factory(read_only=True) as uow:
        with pytest.raises(ReadOnlyError) as exc:
            await uow.repository(ErrMaker).create({"code": "A", "name": "n"})
        with pytest.raises(ReadOnlyError):
            await uow.repository(ErrMaker).delete(1)
    assert isinstance(exc.value, LoomError)
    if dialect != "postgresql":
        return
    # PostgreSQL itself runs the transaction READ ONLY: a raw write is refused too
    with pytest.raises(ReadOnlyError):
        await _raw_insert(store, {"code": "R", "name": "raw"}, read_only=True)
    async with store.uow_factory() as uow:  # the pooled connection is writable again
        await uow.repository(ErrMaker).create({"code": "W", "name": "writable"})


@pytest.mark.parametrize("auto_create", [False, True])
async def test_a_refused_connection_is_store_unavailable(auto_create: bool) -> None:
    settings = DatabaseSettings(
        url="postgresql+asyncpg://postgres@127.0.0.1:1/test",
        auto_create=auto_create,
        connect_timeout=2,
    )
    store = SQLStore(settings, models=MODELS, secret=b"s")
    try:
        with pytest.raises(StoreUnavailable) as exc:
            await _start_and_count(store)
    finally:
        await store.stop()
    assert isinstance(exc.value, StoreError)
    assert isinstance(exc.value, ServiceUnavailable)
    assert http_status_for(exc.value) == 503
    assert_clean(exc.value)
    assert "127.0.0.1" not in str(exc.value)


async def test_an_unopenable_sqlite_file_is_store_unavailable(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/missing/dir/db.sqlite"
    store = SQLStore(DatabaseSettings(url=url), models=MODELS, secret=b"s")
    with pytest.raises(StoreUnavailable) as exc:
        await store.start()
    assert_clean(exc.value)
    assert not store.started
    # aiosqlite's worker thread outlives a failed connect briefly: let it finish in this loop
    for _ in range(100):
        if not any(t.name.endswith("(_connection_worker_thread)") for t in threading.enumerate()):
            break
        await asyncio.sleep(0.01)


@pytest.mark.postgres
@pytest.mark.parametrize("dialect", ["postgresql"], indirect=True)
async def test_a_lost_connection_is_store_unavailable(make_store: MakeStore) -> None:
    store = await make_store(MODELS)
    with pytest.raises(StoreUnavailable) as exc:
        await _count_after_losing_the_connection(store)
    assert_clean(exc.value)
    async with store.uow_factory() as uow:  # the pool recovers with a new connection
        assert await uow.repository(ErrMaker).count() == 0


@both
async def test_integers_beyond_64_bits_are_a_validation_error(make_store: MakeStore) -> None:
    store = await make_store(MODELS)
    async with store.uow_factory() as uow:
        maker = await uow.repository(ErrMaker).create({"code": "m", "name": "M"})
    with pytest.raises(ValidationError) as info:
        async with store.uow_factory() as uow:
            await uow.repository(ErrGadget).create({"maker_id": maker.id + 2**63, "serial": "s"})
    assert info.value.errors[0].field == "maker_id"
    assert "64-bit" in info.value.errors[0].message
