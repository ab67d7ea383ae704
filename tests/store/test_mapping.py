"""Model declarations become the right tables on SQLite and PostgreSQL, and values round-trip."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from enum import IntEnum, StrEnum
from typing import Any, Literal
from uuid import UUID, uuid4

import msgspec
import pytest
import sqlalchemy as sa
from sqlalchemy import insert, inspect, text
from tests.store.conftest import DIALECTS, MakeStore

from loom.core.errors import CompilationError
from loom.core.model import (
    BaseModel,
    ColumnField,
    ManyToMany,
    OnDelete,
    Projection,
    TimestampedModel,
)
from loom.core.repository.abc.query import FilterGroup, FilterOp, FilterSpec, QuerySpec
from loom.store.mapping import build_catalog
from loom.store.store import SQLStore

both = pytest.mark.parametrize("dialect", DIALECTS, indirect=True)


class Colour(StrEnum):
    RED = "red"
    GREEN = "green"


class Level(IntEnum):
    LOW = 1
    HIGH = 2


class Dims(msgspec.Struct):
    w: int
    h: int


class MapOwner(BaseModel, kw_only=True):
    __tablename__ = "map_owners"

    id: int = ColumnField(primary_key=True, autoincrement=True)
    name: str = ColumnField(length=30)


class MapGroup(BaseModel, kw_only=True):
    __tablename__ = "map_groups"

    id: int = ColumnField(primary_key=True, autoincrement=True)
    label: str = ColumnField(length=30, unique=True)


class MapSpecimen(TimestampedModel, kw_only=True):
    __tablename__ = "map_specimens"

    id: int = ColumnField(primary_key=True, autoincrement=True)
    code: str = ColumnField(length=12, unique=True)
    label: str = ColumnField(length=40, index=True)
    notes: str | None = None
    weight: float = 0.0
    price: Decimal = Decimal("0")
    active: bool = True
    born_on: date | None = None
    opens_at: time | None = None
    seen_at: datetime | None = None
    token: UUID = ColumnField(default_factory=uuid4)
    blob: bytes | None = None
    colour: Colour = Colour.RED
    level: Level = Level.LOW
    size: Literal["S", "M", "L"] = "M"
    attrs: dict[str, Any] = ColumnField(default_factory=dict)
    tags: list[str] = ColumnField(default_factory=list)
    dims: Dims | None = None
    stamped_on: date = ColumnField(server_default="now")
    owner_id: int | None = ColumnField(
        foreign_key="map_owners.id", on_delete=OnDelete.SET_NULL, nullable=True, index=True
    )
    groups: list[MapGroup] = ManyToMany(
        MapGroup,
        secondary="map_specimen_groups",
        local_key="specimen_id",
        remote_key="group_id",
        profiles=("with_groups",),
    )
    group_count: int = Projection("groups", profiles=("with_groups", "counted"))


MODELS = (MapOwner, MapGroup, MapSpecimen)


async def _inspect(store: SQLStore, call: Any) -> Any:
    async with store.engine.connect() as connection:
        return await connection.run_sync(lambda sync: call(inspect(sync)))


async def _create(store: SQLStore, **values: Any) -> MapSpecimen:
    async with store.uow_factory() as uow:
        return await uow.repository(MapSpecimen).create({"code": "C-1", "label": "first", **values})


@both
async def test_column_types_lengths_and_nullability(make_store: MakeStore, dialect: str) -> None:
    store = await make_store(MODELS)
    columns = {
        c["name"]: c for c in await _inspect(store, lambda i: i.get_columns("map_specimens"))
    }
    assert next(iter(columns)) == "id"  # the primary key comes first
    assert isinstance(columns["code"]["type"], sa.String)
    assert columns["code"]["type"].length == 12
    assert columns["label"]["type"].length == 40
    assert isinstance(columns["notes"]["type"], sa.Text)
    assert isinstance(columns["price"]["type"], sa.Numeric)
    assert isinstance(columns["active"]["type"], sa.Boolean)
    assert isinstance(columns["born_on"]["type"], sa.Date)
    assert isinstance(columns["opens_at"]["type"], sa.Time)
    assert isinstance(columns["blob"]["type"], sa.LargeBinary)
    assert isinstance(columns["colour"]["type"], sa.String)
    assert columns["colour"]["type"].length == len("green")
    assert isinstance(columns["level"]["type"], sa.Integer)
    assert columns["size"]["type"].length == 1
    nullable = {name for name, c in columns.items() if c["nullable"]}
    assert {"notes", "born_on", "seen_at", "blob", "dims", "owner_id"} <= nullable
    assert not {"id", "code", "label", "price", "created_at", "stamped_on"} & nullable
    assert columns["created_at"]["default"] is not None
    assert columns["stamped_on"]["default"] is not None
    if dialect == "postgresql":
        assert isinstance(columns["id"]["type"], sa.BigInteger)
        assert isinstance(columns["weight"]["type"], sa.Double)
        assert columns["created_at"]["type"].timezone is True
        assert columns["seen_at"]["type"].timezone is True
        assert isinstance(columns["token"]["type"], sa.Uuid)
        assert type(columns["attrs"]["type"]).__name__ == "JSONB"
    else:
        assert type(columns["id"]["type"]) is sa.INTEGER  # the rowid alias
        assert isinstance(columns["attrs"]["type"], sa.JSON)


@both
async def test_keys_indexes_and_foreign_keys(make_store: MakeStore) -> None:
    store = await make_store(MODELS)
    pk = await _inspect(store, lambda i: i.get_pk_constraint("map_specimens"))
    assert pk["constrained_columns"] == ["id"]
    fks = await _inspect(store, lambda i: i.get_foreign_keys("map_specimens"))
    assert [(f["constrained_columns"], f["referred_table"]) for f in fks] == [
        (["owner_id"], "map_owners")
    ]
    assert fks[0]["options"]["ondelete"] == "SET NULL"
    indexes = {
        i["name"]: i for i in await _inspect(store, lambda i: i.get_indexes("map_specimens"))
    }
    assert indexes["ix_map_specimens_label"]["unique"] in (False, 0)
    assert indexes["ix_map_specimens_owner_id"]["column_names"] == ["owner_id"]
    uniques = await _inspect(store, lambda i: i.get_unique_constraints("map_specimens"))
    assert [u["column_names"] for u in uniques] == [["code"]]
    # the ManyToMany association table without a model is created automatically
    assert "map_specimen_groups" in await _inspect(store, lambda i: i.get_table_names())
    link_pk = await _inspect(store, lambda i: i.get_pk_constraint("map_specimen_groups"))
    assert sorted(link_pk["constrained_columns"]) == ["group_id", "specimen_id"]
    link_fks = await _inspect(store, lambda i: i.get_foreign_keys("map_specimen_groups"))
    assert sorted(f["referred_table"] for f in link_fks) == ["map_groups", "map_specimens"]
    assert {f["options"]["ondelete"] for f in link_fks} == {"CASCADE"}


@both
async def test_every_type_round_trips(make_store: MakeStore) -> None:
    store = await make_store(MODELS)
    token = uuid4()
    values: dict[str, Any] = {
        "notes": "n",
        "weight": 1.5,
        "price": Decimal("12.34"),
        "active": False,
        "born_on": date(2001, 2, 3),
        "opens_at": time(9, 30, 15),
        "token": token,
        "blob": b"\x00\xffbytes",
        "colour": Colour.GREEN,
        "level": Level.HIGH,
        "size": "L",
        "attrs": {"a": [1, 2], "b": {"c": None}},
        "tags": ["x", "y"],
        "dims": Dims(w=2, h=3),
    }
    created = await _create(store, **values)
    async with store.uow_factory(read_only=True) as uow:
        stored = await uow.repository(MapSpecimen).get(created.id)
        by_enum = await uow.repository(MapSpecimen).count(
            FilterGroup(filters=(FilterSpec(field="colour", value="green"),))
        )
    assert stored == created
    assert stored is not None
    for name, value in values.items():
        assert getattr(stored, name) == value, name
    assert stored.colour is Colour.GREEN
    assert stored.level is Level.HIGH
    assert isinstance(stored.dims, Dims)
    assert isinstance(stored.token, UUID)
    assert by_enum == 1
    defaults = await _create(store, code="C-2")
    assert (defaults.colour, defaults.level, defaults.attrs, defaults.tags) == (
        Colour.RED,
        Level.LOW,
        {},
        [],
    )


@both
async def test_datetimes_are_stored_and_returned_as_aware_utc(
    make_store: MakeStore, dialect: str
) -> None:
    store = await make_store(MODELS)
    before = datetime.now(UTC) - timedelta(seconds=2)
    moment = datetime(2024, 5, 1, 12, 0, 30, 250000, tzinfo=timezone(timedelta(hours=2)))
    created = await _create(store, seen_at=moment)
    assert created.seen_at == moment
    assert created.seen_at is not None
    assert created.seen_at.tzinfo is UTC
    assert created.seen_at.hour == 10
    assert created.created_at.tzinfo is UTC
    assert before <= created.created_at <= datetime.now(UTC) + timedelta(seconds=2)
    assert created.stamped_on in {before.date(), datetime.now(UTC).date()}
    same_instant = moment.astimezone(timezone(timedelta(hours=-5)))
    async with store.uow_factory(read_only=True) as uow:
        hits = await uow.repository(MapSpecimen).count(
            FilterGroup(filters=(FilterSpec(field="seen_at", value=same_instant),))
        )
        later = await uow.repository(MapSpecimen).count(
            FilterGroup(
                filters=(
                    FilterSpec(
                        field="seen_at", op=FilterOp.GT, value=moment - timedelta(microseconds=1)
                    ),
                )
            )
        )
    assert (hits, later) == (1, 1)
    if dialect == "sqlite":
        async with store.engine.connect() as connection:
            raw = (await connection.execute(text("SELECT seen_at FROM map_specimens"))).scalar()
        assert raw == "2024-05-01 10:00:30.250000"  # UTC wall time, sortable text


@both
async def test_updated_at_moves_on_update_and_created_at_stays(make_store: MakeStore) -> None:
    store = await make_store(MODELS)
    created = await _create(store)
    await asyncio.sleep(0.02)
    async with store.uow_factory() as uow:
        updated = await uow.repository(MapSpecimen).update(created.id, {"label": "renamed"})
        untouched = await uow.repository(MapSpecimen).update(created.id, {})
    assert updated is not None
    assert untouched == updated  # nothing to set: the current row, unchanged
    assert updated.label == "renamed"
    assert updated.created_at == created.created_at
    assert updated.updated_at > created.updated_at
    explicit = datetime(2030, 1, 1, tzinfo=UTC)
    async with store.uow_factory() as uow:
        pinned = await uow.repository(MapSpecimen).update(created.id, {"updated_at": explicit})
    assert pinned is not None
    assert pinned.updated_at == explicit


@both
async def test_autoincrement_ids_are_never_reused(make_store: MakeStore) -> None:
    store = await make_store(MODELS)
    async with store.uow_factory() as uow:
        repo = uow.repository(MapOwner)
        first, second = await repo.create_many([{"name": "a"}, {"name": "b"}])
        assert await repo.delete(second.id) is True
        third = await repo.create({"name": "c"})
    assert third.id > second.id > first.id


@both
async def test_many_to_many_through_a_generated_table(make_store: MakeStore) -> None:
    store = await make_store(MODELS)
    specimen = await _create(store)
    other = await _create(store, code="C-2")
    link = store.catalog.metadata.tables["map_specimen_groups"]
    async with store.uow_factory() as uow:
        groups = await uow.repository(MapGroup).create_many([{"label": "b"}, {"label": "a"}])
        await (await uow.connect()).execute(
            insert(link),
            [
                {"specimen_id": specimen.id, "group_id": groups[1].id},
                {"specimen_id": specimen.id, "group_id": groups[0].id},
                {"specimen_id": other.id, "group_id": groups[0].id},
            ],
        )
    async with store.uow_factory(read_only=True) as uow:
        repo = uow.repository(MapSpecimen)
        loaded = await repo.get(specimen.id, profile="with_groups")
        counted = await repo.list_with_query(QuerySpec(), profile="counted")
    assert loaded is not None
    assert [g.label for g in loaded.groups] == ["b", "a"]  # by primary key
    assert loaded.group_count == 2
    assert [(s.code, s.group_count) for s in counted.items] == [("C-1", 2), ("C-2", 1)]
    async with store.uow_factory() as uow:
        assert await uow.repository(MapGroup).delete(groups[0].id) is True
    async with store.uow_factory(read_only=True) as uow:
        again = await uow.repository(MapSpecimen).get(other.id, profile="with_groups")
    assert again is not None
    assert (again.groups, again.group_count) == ([], 0)  # the link row cascaded away


def test_an_unmapped_foreign_key_fails_at_start_up_naming_the_field() -> None:
    class MapOrphan(BaseModel, kw_only=True):
        __tablename__ = "map_orphans"

        id: int = ColumnField(primary_key=True, autoincrement=True)
        ghost_id: int = ColumnField(foreign_key="map_ghosts.id")

    with pytest.raises(CompilationError, match=r"MapOrphan\.ghost_id"):
        build_catalog([MapOrphan])
    catalog = build_catalog([MapSpecimen, MapOwner])  # relation targets come along
    assert {t.name for t in catalog.metadata.sorted_tables} >= {
        "map_specimens",
        "map_groups",
        "map_specimen_groups",
    }
