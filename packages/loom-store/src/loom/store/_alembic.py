"""What a migrations folder's ``env.py`` runs: Alembic on loom's async engines.

``loom db`` puts a :class:`MigrationTarget` (the application's tables and its
``database`` settings) in the Alembic config's ``attributes``; :func:`run_migrations`
reads it, opens an engine the way the store does (minus the pool), and runs Alembic on
one connection inside the event loop. SQLite migrations run with foreign keys off and
render table changes as batch operations (SQLite rebuilds a table to drop or alter a
column); loom's column types render as portable SQLAlchemy types.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import dataclasses
import re
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import date, time
from typing import Any, Literal, TypeVar

import msgspec
from alembic import context
from alembic.autogenerate.api import AutogenContext
from alembic.config import Config
from sqlalchemy import MetaData, NullPool
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql.type_api import TypeEngine

from loom.core.config import DatabaseSettings
from loom.store._columns import EnumValue
from loom.store._engine import create_engine, dialect_of, driver_url, server_settings
from loom.store._types import UTCDateTime, _UtcNow
from loom.store.errors import MigrationError

__all__ = ["TARGET_KEY", "MigrationTarget", "render_item", "run_async", "run_migrations"]

TARGET_KEY = "loom.store.target"
"""Key of the :class:`MigrationTarget` in ``alembic.config.Config.attributes``."""

T = TypeVar("T")
Hook = Callable[..., Any]


@dataclass(frozen=True, slots=True)
class MigrationTarget:
    """The schema migrations aim at, and the database they run on.

    Attributes:
        metadata: The application's tables (the same ``MetaData`` the store creates).
        settings: The ``database`` section (its URL; pool settings are ignored).
        options: Extra keyword arguments for ``context.configure`` (hooks such as
            ``include_object``).
        engine_options: Extra ``create_async_engine`` arguments (a store's, such as
            ``connect_args``); pool arguments are left out.
    """

    metadata: MetaData
    settings: DatabaseSettings
    options: dict[str, Any] = field(default_factory=dict)
    engine_options: dict[str, Any] = field(default_factory=dict)

    @property
    def dialect(self) -> str:
        """``"postgresql"`` or ``"sqlite"``."""
        return dialect_of(self.settings.url)

    def engine(self) -> AsyncEngine:
        """A pool-less engine on the database; on SQLite, foreign keys off and
        ``AUTOINCREMENT`` kept when a batch operation rebuilds a table."""
        bare = msgspec.structs.replace(
            self.settings, pool_size=None, max_overflow=None, pool_timeout=None, pool_recycle=None
        )
        options = {
            name: value
            for name, value in self.engine_options.items()
            if not name.startswith("pool") and name != "max_overflow"
        }
        options["poolclass"] = NullPool
        engine = create_engine(bare, options=options, foreign_keys=False)
        if self.dialect == "sqlite":
            _reflect_autoincrement(engine.sync_engine.dialect)
        return engine


_AUTOINCREMENT = re.compile(r"\bAUTOINCREMENT\b", re.IGNORECASE)


def _reflect_autoincrement(dialect: Dialect) -> None:
    """Make ``dialect`` (one migration engine's) reflect ``sqlite_autoincrement``.

    SQLite does not report ``AUTOINCREMENT`` to reflection, so a table that Alembic's
    batch mode rebuilds (to drop or alter a column) would lose it, and ids could be
    reused. The table's own SQL says whether it has it.
    """
    original = dialect.get_table_options

    def get_table_options(
        connection: Connection, table_name: str, schema: str | None = None, **kw: Any
    ) -> dict[str, Any]:
        options = dict(original(connection, table_name, schema=schema, **kw))
        master = f'"{schema}".sqlite_master' if schema else "sqlite_master"
        sql = connection.exec_driver_sql(
            f"SELECT sql FROM {master} WHERE type = 'table' AND name = ?", (table_name,)
        ).scalar()
        if isinstance(sql, str) and _AUTOINCREMENT.search(sql):
            options["sqlite_autoincrement"] = True
        return options

    setattr(dialect, "get_table_options", get_table_options)  # noqa: B010 - this engine only


def _type(type_: TypeEngine[Any], autogen: AutogenContext) -> str:
    """Render ``type_`` as SQLAlchemy code, loom's decorators as the types they store as."""
    if isinstance(type_, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    if isinstance(type_, EnumValue):
        impl: TypeEngine[Any] = type_.impl_instance
        return _type(impl, autogen)
    if isinstance(type_, JSONB):
        autogen.imports.add("from sqlalchemy.dialects import postgresql")
        return "postgresql.JSONB()"
    variants: dict[str, TypeEngine[Any]] = getattr(type_, "_variant_mapping", {})
    text = f"sa.{type_!r}"
    for dialect in sorted(variants):
        text += f".with_variant({_type(variants[dialect], autogen)}, {dialect!r})"
    return text


def render_item(kind: str, obj: Any, autogen: AutogenContext) -> str | Literal[False]:
    """Alembic's ``render_item`` hook: loom's types as the plain types they store as.

    ``UTCDateTime`` renders as ``sa.DateTime(timezone=True)``, an ``EnumValue`` as its
    text or integer column, variants (``BIGINT``/SQLite ``INTEGER``, ``JSON``/``JSONB``)
    with their variants, and a ``server_default="now"`` as ``utc_now()`` from
    ``loom.store.mapping``, so a revision stays valid on SQLite and PostgreSQL alike.
    """
    if kind == "type" and (
        isinstance(obj, (UTCDateTime, EnumValue)) or getattr(obj, "_variant_mapping", None)
    ):
        return _type(obj, autogen)
    if kind == "server_default" and isinstance(getattr(obj, "arg", None), _UtcNow):
        autogen.imports.add("from loom.store.mapping import utc_now")
        moment: type[Any] = obj.arg.kind
        if moment in (date, time):
            autogen.imports.add("import datetime")
            return f"utc_now(datetime.{moment.__name__})"
        return "utc_now()"
    return False


def _target(config: Config) -> MigrationTarget:
    target = config.attributes.get(TARGET_KEY)
    if not isinstance(target, MigrationTarget):
        raise MigrationError(
            "this migrations folder runs through the loom command: "
            "loom db upgrade|downgrade|revision|current CONFIG"
        )
    return target


def _options(target: MigrationTarget) -> dict[str, Any]:
    options: dict[str, Any] = {
        "target_metadata": target.metadata,
        "render_as_batch": target.dialect == "sqlite",
        "render_item": render_item,
        "compare_type": True,
    }
    options.update(target.options)
    return options


def _run(connection: Connection, options: dict[str, Any]) -> None:
    context.configure(connection=connection, **options)
    with context.begin_transaction():
        context.run_migrations()


async def _online(target: MigrationTarget) -> None:
    engine = target.engine()
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run, _options(target))
    finally:
        await engine.dispose()


def run_async(work: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run ``work()`` to completion from synchronous code, even inside a running loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(work())
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, work()).result()


def run_migrations(**options: Any) -> None:
    """Run Alembic for ``loom db``: the body of a migrations folder's ``env.py``.

    Online, it connects with the application's ``database.url`` (``options=-c ...``
    settings such as ``search_path`` included); offline (``--sql``) it prints the SQL.

    Args:
        **options: Extra ``context.configure`` arguments (for example
            ``include_object=...``), over loom's.

    Raises:
        MigrationError: ``env.py`` does not run through ``loom db``.
    """
    target = _target(context.config)
    if options:
        target = dataclasses.replace(target, options={**target.options, **options})
    if context.is_offline_mode():
        url, _ = server_settings(driver_url(target.settings.url))
        context.configure(
            url=url.render_as_string(hide_password=False),
            literal_binds=True,
            dialect_opts={"paramstyle": "named"},
            **_options(target),
        )
        with context.begin_transaction():
            context.run_migrations()
        return
    run_async(lambda: _online(target))
