"""Async engines from ``DatabaseSettings``: asyncpg for PostgreSQL, aiosqlite for SQLite."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry

from loom.core.config import DatabaseSettings
from loom.core.errors import ConfigurationError

__all__ = [
    "DIALECTS",
    "READ_ONLY_OPTION",
    "create_engine",
    "dialect_of",
    "driver_url",
    "read_only_engine",
    "server_settings",
]

DIALECTS = {"postgresql": "postgresql+asyncpg", "sqlite": "sqlite+aiosqlite"}
"""The dialects loom-store serves, and the async driver each one uses."""

READ_ONLY_OPTION = "loom_read_only"
"""Execution option marking a read-only unit of work's connection (SQLite: plain BEGIN)."""


def read_only_engine(engine: AsyncEngine, dialect: str) -> AsyncEngine:
    """``engine`` (same pool) whose connections are marked read-only as they are checked out.

    On PostgreSQL their transactions are ``READ ONLY``; on SQLite the mark makes the
    transaction start with a plain ``BEGIN``. Setting it costs nothing per checkout
    beyond SQLAlchemy's connect event.
    """
    options: dict[str, Any] = {READ_ONLY_OPTION: True}
    if dialect == "postgresql":
        options["postgresql_readonly"] = True
    return engine.execution_options(**options)


def driver_url(url: str) -> URL:
    """Parse ``url`` and pin the async driver loom-store uses for its dialect.

    Raises:
        ConfigurationError: the URL is malformed or names another database.
    """
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ConfigurationError(f"{url!r} is not a database URL", key="database.url") from exc
    backend = parsed.get_backend_name()
    driver = DIALECTS.get(backend)
    if driver is None:
        raise ConfigurationError(
            f"loom-store serves {', '.join(sorted(DIALECTS))} URLs, not {backend}://",
            key="database.url",
        )
    return parsed.set(drivername=driver)


def dialect_of(url: str) -> str:
    """``"postgresql"`` or ``"sqlite"`` for ``url``."""
    return driver_url(url).get_backend_name()


def server_settings(url: URL) -> tuple[URL, dict[str, str]]:
    """Split libpq's ``options`` query parameter off a PostgreSQL URL.

    ``postgresql+asyncpg://host/db?options=-csearch_path%3Dtenant`` (the form libpq and
    psql accept) becomes the URL without ``options`` and ``{"search_path": "tenant"}``,
    which asyncpg takes as ``server_settings``. Each setting is ``-c name=value`` (or
    ``-cname=value``, ``--name=value``), separated by spaces.

    Raises:
        ConfigurationError: ``options`` holds something else.
    """
    raw = url.query.get("options")
    if raw is None:
        return url, {}
    text = " ".join(raw) if isinstance(raw, tuple) else raw
    words = text.split()
    found: dict[str, str] = {}
    index = 0
    while index < len(words):
        word = words[index]
        if word == "-c" and index + 1 < len(words):
            index += 1
            setting = words[index]
        elif word.startswith(("--", "-c")):
            setting = word[2:]
        else:
            setting = ""
        name, equals, value = setting.partition("=")
        if not (name and equals):
            raise ConfigurationError(
                f"the URL's options= takes '-c name=value' settings, not {word!r}",
                key="database.url",
            )
        found[name.replace("-", "_")] = value
        index += 1
    return url.difference_update_query(["options"]), found


def _lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def _sqlite_memory(url: URL) -> bool:
    database = url.database or ""
    return database in ("", ":memory:") or "mode=memory" in str(url.query)


def _install_sqlite_hooks(engine: AsyncEngine, *, wal: bool, foreign_keys: bool) -> None:
    """Foreign keys on, real transactions (BEGIN / BEGIN IMMEDIATE), ``loom_lower()``."""
    pragma = f"PRAGMA foreign_keys = {'ON' if foreign_keys else 'OFF'}"

    def on_connect(dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        # let loom emit BEGIN itself: pysqlite's implicit transactions skip reads
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(pragma)
            if wal:
                cursor.execute("PRAGMA journal_mode = WAL")
                cursor.execute("PRAGMA synchronous = NORMAL")
        finally:
            cursor.close()
        dbapi_connection.create_function("loom_lower", 1, _lower, deterministic=True)

    def on_begin(connection: Connection) -> None:
        read_only = connection.get_execution_options().get(READ_ONLY_OPTION, False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

    event.listen(engine.sync_engine, "connect", on_connect)
    event.listen(engine.sync_engine, "begin", on_begin)


def create_engine(
    settings: DatabaseSettings,
    *,
    options: Mapping[str, Any] | None = None,
    foreign_keys: bool = True,
) -> AsyncEngine:
    """Create the async engine of ``settings`` (no connection is opened yet).

    Pool settings (``pool_size``, ``max_overflow``, ``pool_timeout``, ``pool_recycle``)
    apply when given; ``connect_timeout`` bounds connecting to PostgreSQL (SQLite: how
    long to wait for a lock). On SQLite every connection enables foreign keys, file
    databases use WAL, and write transactions begin with ``BEGIN IMMEDIATE``. On
    PostgreSQL, libpq's ``options=-c name=value`` URL parameter becomes asyncpg's
    ``server_settings`` (e.g. ``?options=-csearch_path%3Dtenant``).

    Args:
        settings: The ``database`` section.
        options: Extra keyword arguments for ``create_async_engine`` (``connect_args``
            are merged with loom's).
        foreign_keys: SQLite only: enforce foreign keys (migrations turn it off, so
            rebuilding a table never cascades).
    """
    url = driver_url(settings.url)
    extra = dict(options or {})
    connect_args: dict[str, Any] = {}
    if url.get_backend_name() == "postgresql":
        url, settings_from_url = server_settings(url)
        if settings_from_url:
            connect_args["server_settings"] = settings_from_url
    kwargs: dict[str, Any] = {"echo": settings.echo}
    memory = url.get_backend_name() == "sqlite" and _sqlite_memory(url)
    if not memory:
        for name in ("pool_size", "max_overflow", "pool_timeout", "pool_recycle"):
            value = getattr(settings, name)
            if value is not None:
                kwargs[name] = value
    if settings.connect_timeout is not None:
        connect_args["timeout"] = settings.connect_timeout
    given = dict(extra.pop("connect_args", {}))
    if "server_settings" in given and "server_settings" in connect_args:
        given["server_settings"] = {**connect_args["server_settings"], **given["server_settings"]}
    connect_args.update(given)
    kwargs.update(extra)
    engine = create_async_engine(url, connect_args=connect_args, **kwargs)
    if url.get_backend_name() == "sqlite":
        _install_sqlite_hooks(engine, wal=not memory, foreign_keys=foreign_keys)
    return engine
