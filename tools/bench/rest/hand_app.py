"""The hand-written baseline of the REST benchmark: Litestar + SQLAlchemy 2 async (Core).

The same five endpoints as ``loom_app`` (same tables, same JSON shapes), written the way
an experienced developer would without loom:

- ``GET /ping`` → ``{"status": "ok"}`` (no database);
- ``GET /records/{id}?profile=detail`` → the record with its ``notes`` (two statements on
  one connection, like SQLAlchemy's ``selectinload``; ``BENCH_HAND_DETAIL=join`` makes it
  one ``LEFT JOIN``);
- ``GET /records?pagination=cursor&limit=25[&cursor=...]`` → a keyset page ordered by id,
  with an opaque base64 cursor;
- ``GET /records?page=N&limit=25`` → an offset page whose total comes from a
  ``count(*) OVER ()`` column;
- ``PATCH /records/{id}`` → one ``UPDATE ... RETURNING`` in a transaction.

Responses are msgspec structs, encoded by Litestar. The pool is the size loom's config
(``loom_app/config.yaml``) gives loom; the database URL is ``$BENCH_REST_DATABASE_URL``
(the same one loom reads; libpq's ``options=-csearch_path=...`` becomes asyncpg's
``server_settings``).

Serve it with ``uvicorn --app-dir tools/bench/rest --factory hand_app:create_app``.
"""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec
import yaml
from litestar import Litestar, get, patch
from litestar.exceptions import NotFoundException, ValidationException
from litestar.params import Parameter
from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    ForeignKey,
    MetaData,
    String,
    Table,
    bindparam,
    func,
    select,
    update,
)
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

CONFIG = Path(__file__).with_name("loom_app") / "config.yaml"
DEFAULT_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test?options=-csearch_path%3Dbench_rest"
MAX_LIMIT = 500

metadata = MetaData()
records = Table(
    "bench_records",
    metadata,
    Column("id", BigInteger, primary_key=True),
    Column("request_id", String(64), nullable=False),
    Column("full_name", String(120), nullable=False),
    Column("email", String(255), nullable=False),
    Column("score", BigInteger, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)
notes = Table(
    "bench_notes",
    metadata,
    Column("id", BigInteger, primary_key=True),
    Column("record_id", BigInteger, ForeignKey("bench_records.id"), nullable=False),
    Column("title", String(120), nullable=False),
    Column("body", String(500), nullable=False),
)


# -- response and request bodies -------------------------------------------------------------


class NoteOut(msgspec.Struct):
    id: int
    record_id: int
    title: str
    body: str


class RecordOut(msgspec.Struct, omit_defaults=True):
    created_at: datetime
    updated_at: datetime
    id: int
    request_id: str
    full_name: str
    email: str
    score: int
    notes: list[NoteOut] | msgspec.UnsetType = msgspec.UNSET


class OffsetPage(msgspec.Struct):
    items: list[RecordOut]
    total_count: int
    page: int
    limit: int
    has_next: bool


class CursorPage(msgspec.Struct):
    items: list[RecordOut]
    next_cursor: str | None
    has_next: bool


class Pong(msgspec.Struct):
    status: str


class RecordPatch(msgspec.Struct, forbid_unknown_fields=True):
    request_id: Annotated[str, msgspec.Meta(max_length=64)] | msgspec.UnsetType = msgspec.UNSET
    full_name: Annotated[str, msgspec.Meta(max_length=120)] | msgspec.UnsetType = msgspec.UNSET
    email: Annotated[str, msgspec.Meta(max_length=255)] | msgspec.UnsetType = msgspec.UNSET
    score: int | msgspec.UnsetType = msgspec.UNSET


# -- statements, built once -----------------------------------------------------------------

RECORD_COLUMNS = (
    records.c.created_at,
    records.c.updated_at,
    records.c.id,
    records.c.request_id,
    records.c.full_name,
    records.c.email,
    records.c.score,
)  # in RecordOut's field order: rows build structs positionally
NOTE_COLUMNS = (notes.c.id, notes.c.record_id, notes.c.title, notes.c.body)

GET_RECORD = select(*RECORD_COLUMNS).where(records.c.id == bindparam("id"))
GET_NOTES = (
    select(*NOTE_COLUMNS).where(notes.c.record_id == bindparam("record_id")).order_by(notes.c.id)
)
GET_RECORD_JOINED = (
    select(*RECORD_COLUMNS, *NOTE_COLUMNS)
    .select_from(records.outerjoin(notes, notes.c.record_id == records.c.id))
    .where(records.c.id == bindparam("id"))
    .order_by(notes.c.id)
)
FIRST_PAGE = select(*RECORD_COLUMNS).order_by(records.c.id).limit(bindparam("limit"))
NEXT_PAGE = (
    select(*RECORD_COLUMNS)
    .where(records.c.id > bindparam("after"))
    .order_by(records.c.id)
    .limit(bindparam("limit"))
)
OFFSET_PAGE = (
    select(*RECORD_COLUMNS, func.count().over().label("total"))
    .order_by(records.c.id)
    .limit(bindparam("limit"))
    .offset(bindparam("offset"))
)
COUNT = select(func.count()).select_from(records)

_DETAIL_JOIN = os.environ.get("BENCH_HAND_DETAIL", "selectin") == "join"


# -- the engine -----------------------------------------------------------------------------


def _pool() -> dict[str, Any]:
    """``pool_size``/``max_overflow`` as loom's config sets them (same pool as loom)."""
    database = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))["database"]
    return {k: database[k] for k in ("pool_size", "max_overflow") if database.get(k) is not None}


def make_engine(url: str | None = None) -> AsyncEngine:
    """An asyncpg engine; libpq's ``options=-c name=value`` becomes ``server_settings``."""
    parsed = make_url(url or os.environ.get("BENCH_REST_DATABASE_URL", DEFAULT_URL))
    server_settings: dict[str, str] = {}
    options = parsed.query.get("options")
    if options:
        text = " ".join(options) if isinstance(options, tuple) else options
        for word in text.replace("-c ", "-c").split():
            name, _, value = word.removeprefix("-c").removeprefix("--").partition("=")
            server_settings[name] = value
        parsed = parsed.difference_update_query(["options"])
    return create_async_engine(
        parsed.set(drivername="postgresql+asyncpg"),
        connect_args={"server_settings": server_settings},
        **_pool(),
    )


# -- cursors --------------------------------------------------------------------------------


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(msgspec.json.encode([last_id])).decode().rstrip("=")


def decode_cursor(token: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        (last_id,) = msgspec.json.decode(raw, type=tuple[int])
    except (binascii.Error, ValueError, msgspec.DecodeError) as exc:
        raise ValidationException("invalid cursor") from exc
    return last_id


# -- the app --------------------------------------------------------------------------------


def _records(rows: Sequence[Any]) -> list[RecordOut]:
    return [RecordOut(*row) for row in rows]


def create_app() -> Litestar:
    engine = make_engine()

    @get("/ping")
    async def ping() -> Pong:
        return Pong(status="ok")

    @get("/records/{record_id:int}")
    async def get_record(
        record_id: int, profile: Literal["default", "detail"] = "default"
    ) -> RecordOut:
        async with engine.connect() as conn:
            if profile == "detail" and _DETAIL_JOIN:
                rows = (await conn.execute(GET_RECORD_JOINED, {"id": record_id})).all()
                if not rows:
                    raise NotFoundException(f"record {record_id} not found")
                record = RecordOut(*rows[0][:7])
                record.notes = [NoteOut(*row[7:]) for row in rows if row[7] is not None]
                return record
            row = (await conn.execute(GET_RECORD, {"id": record_id})).first()
            if row is None:
                raise NotFoundException(f"record {record_id} not found")
            record = RecordOut(*row)
            if profile == "detail":
                result = await conn.execute(GET_NOTES, {"record_id": record_id})
                record.notes = [NoteOut(*note) for note in result]
            return record

    @get("/records")
    async def list_records(
        limit: Annotated[int, Parameter(ge=1, le=MAX_LIMIT)] = 50,
        page: Annotated[int, Parameter(ge=1)] = 1,
        cursor: str | None = None,
        pagination: Literal["offset", "cursor"] = "offset",
    ) -> OffsetPage | CursorPage:
        if cursor is not None or pagination == "cursor":
            if cursor is None:
                statement, params = FIRST_PAGE, {"limit": limit + 1}
            else:
                statement, params = NEXT_PAGE, {"after": decode_cursor(cursor), "limit": limit + 1}
            async with engine.connect() as conn:
                rows = (await conn.execute(statement, params)).all()
            has_next = len(rows) > limit
            items = _records(rows[:limit])
            return CursorPage(
                items=items,
                next_cursor=encode_cursor(items[-1].id) if has_next else None,
                has_next=has_next,
            )
        offset = (page - 1) * limit
        async with engine.connect() as conn:
            rows = (await conn.execute(OFFSET_PAGE, {"limit": limit, "offset": offset})).all()
            if rows:
                total = rows[0][-1]
            else:
                total = (await conn.execute(COUNT)).scalar_one() if offset else 0
        return OffsetPage(
            items=[RecordOut(*row[:-1]) for row in rows],  # type: ignore[call-arg]
            total_count=total,
            page=page,
            limit=limit,
            has_next=offset + len(rows) < total,
        )

    @patch("/records/{record_id:int}")
    async def patch_record(record_id: int, data: RecordPatch) -> RecordOut:
        values = msgspec.structs.asdict(data)
        values = {k: v for k, v in values.items() if v is not msgspec.UNSET}
        statement = (
            update(records)
            .where(records.c.id == record_id)
            .values(**values, updated_at=func.now())
            .returning(*RECORD_COLUMNS)
        )
        async with engine.begin() as conn:
            row = (await conn.execute(statement)).first()
        if row is None:
            raise NotFoundException(f"record {record_id} not found")
        return RecordOut(*row)

    async def dispose() -> None:
        await engine.dispose()

    return Litestar(
        route_handlers=[ping, get_record, list_records, patch_record],
        on_shutdown=[dispose],
    )
