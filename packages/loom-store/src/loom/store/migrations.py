"""Alembic migrations of a loom application's tables: what ``loom db`` runs.

The models come from the application's config, through loom-core's bootstrap (the same
discovery every runtime uses, job tables included), and the schema is the store's own
catalog, so ``auto_create`` and migrations produce the same tables. The migrations folder
defaults to ``<config folder>/../migrations`` and is created by the first revision.

Example::

    from loom.store.migrations import Migrations

    migrations = Migrations.from_config("config/api.yaml")
    migrations.revision("add products.sku", autogenerate=True)
    migrations.upgrade()  # to head
    print(migrations.current())
"""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

from alembic import command
from alembic.config import Config
from alembic.operations.ops import MigrationScript
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import MetaData
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError

from loom.core.bootstrap import load_runtime
from loom.core.config import DatabaseSettings
from loom.core.errors import ConfigurationError, LoomError
from loom.store._alembic import (
    TARGET_KEY,
    MigrationTarget,
    render_item,
    run_async,
    run_migrations,
)
from loom.store._diagnose import Kind, diagnose
from loom.store._scaffold import is_migrations_folder, scaffold
from loom.store._translate import connection_error
from loom.store.errors import MigrationError
from loom.store.store import SQLStore

__all__ = ["FILE_TEMPLATE", "Migrations", "default_directory", "render_item", "run_migrations"]

FILE_TEMPLATE = "%%(year)d%%(month).2d%%(day).2d_%%(rev)s_%%(slug)s"
"""Revision file names: creation date, revision id, message slug."""


def default_directory(config_path: str | os.PathLike[str]) -> Path:
    """``<config folder>/../migrations``: where an application's migrations live by default."""
    return Path(config_path).resolve().parent.parent / "migrations"


@contextmanager
def _translated(during: str) -> Iterator[None]:
    """Alembic and database failures as loom errors (the operator sees the reason)."""
    try:
        yield
    except LoomError:
        raise
    except CommandError as exc:
        raise MigrationError(str(exc)) from exc
    except (SQLAlchemyError, OSError, TimeoutError) as exc:
        if diagnose(exc).kind is Kind.UNAVAILABLE:
            raise connection_error(exc, during=during) from exc
        reason = getattr(exc, "orig", None) or exc
        raise MigrationError(f"{during} failed: {reason}") from exc


def _skip_empty(
    context: MigrationContext, revision: Any, directives: list[MigrationScript]
) -> None:
    """``process_revision_directives``: write no revision when autogenerate found nothing."""
    if directives and all(ops.is_empty() for ops in directives[0].upgrade_ops_list):
        directives[:] = []


class Migrations:
    """The Alembic migrations of one application's tables.

    Args:
        metadata: The tables to migrate to (a store's ``catalog.metadata``).
        settings: The ``database`` section: where migrations run.
        directory: The migrations folder (created by the first :meth:`revision`).
        stdout: Where Alembic prints (``sys.stdout`` when ``None``).
        engine_options: Extra ``create_async_engine`` arguments (``connect_args``...).
    """

    def __init__(
        self,
        metadata: MetaData,
        settings: DatabaseSettings,
        directory: str | os.PathLike[str],
        *,
        stdout: TextIO | None = None,
        engine_options: Mapping[str, Any] | None = None,
    ) -> None:
        self.target = MigrationTarget(metadata, settings, engine_options=dict(engine_options or {}))
        self.directory = Path(directory).resolve()
        self._stdout = stdout

    @classmethod
    def for_store(
        cls, store: SQLStore, directory: str | os.PathLike[str], *, stdout: TextIO | None = None
    ) -> Migrations:
        """The migrations of ``store``'s tables, on its database (its engine options too)."""
        return cls(
            store.catalog.metadata,
            store.settings,
            directory,
            stdout=stdout,
            engine_options=store.engine_options,
        )

    @classmethod
    def from_config(
        cls,
        *paths: str | os.PathLike[str],
        overrides: Sequence[str] = (),
        directory: str | os.PathLike[str] | None = None,
        stdout: TextIO | None = None,
    ) -> Migrations:
        """The migrations of the application configured by ``paths`` (YAML files).

        The application is assembled as every runtime assembles it (nothing is
        connected); its store must be loom-store's (a SQLite or PostgreSQL URL).

        Raises:
            ConfigurationError: the config is invalid or its store is not loom-store's.
        """
        if not paths:
            raise ConfigurationError("give the application's config file")
        runtime = load_runtime(*paths, overrides=overrides)
        store = runtime.store
        if not isinstance(store, SQLStore):
            raise ConfigurationError(
                "loom db migrates SQLite and PostgreSQL databases served by loom-store",
                key="database.url",
            )
        folder = directory if directory is not None else default_directory(paths[-1])
        return cls.for_store(store, folder, stdout=stdout)

    @property
    def exists(self) -> bool:
        """True once the migrations folder has been created."""
        return is_migrations_folder(self.directory)

    # -- commands ---------------------------------------------------------------------------

    def revision(self, message: str, *, autogenerate: bool = False) -> Path | None:
        """Write a new revision; with ``autogenerate``, the difference database → models.

        Creates the migrations folder first when it does not exist. Returns the new
        file, or ``None`` when ``autogenerate`` found nothing to change.

        Raises:
            MigrationError: the database is not at the newest revision (autogenerate),
                or Alembic refused.
            StoreUnavailable: the database cannot be reached.
        """
        if not is_migrations_folder(self.directory):
            scaffold(self.directory)
        with _translated("revision"):
            written = command.revision(
                self._config(),
                message=message,
                autogenerate=autogenerate,
                process_revision_directives=_skip_empty if autogenerate else None,
            )
        scripts = written if isinstance(written, list) else [written]
        found = [script for script in scripts if script is not None]
        return Path(found[0].path) if found else None

    def upgrade(self, revision: str = "head", *, sql: bool = False) -> None:
        """Upgrade the database to ``revision`` (``head``, an id, ``+1``...)."""
        with _translated("upgrade"):
            command.upgrade(self._config(existing=True), revision, sql=sql)

    def downgrade(self, revision: str, *, sql: bool = False) -> None:
        """Downgrade the database to ``revision`` (``-1``, an id, ``base``...)."""
        with _translated("downgrade"):
            command.downgrade(self._config(existing=True), revision, sql=sql)

    def heads(self) -> tuple[str, ...]:
        """The newest revision(s) of the migrations folder."""
        with _translated("heads"):
            return tuple(ScriptDirectory.from_config(self._config(existing=True)).get_heads())

    def current(self) -> tuple[str, ...]:
        """The revision(s) the database is at (empty before the first upgrade)."""

        def read(connection: Connection) -> tuple[str, ...]:
            return tuple(MigrationContext.configure(connection).get_current_heads())

        async def work() -> tuple[str, ...]:
            engine = self.target.engine()
            try:
                async with engine.connect() as connection:
                    return await connection.run_sync(read)
            finally:
                await engine.dispose()

        with _translated("current"):
            return run_async(work)

    def history(self) -> str:
        """The revisions of the migrations folder, newest first, as Alembic lists them."""
        out = io.StringIO()
        config = self._config(existing=True)
        config.stdout = out
        with _translated("history"):
            command.history(config)
        return out.getvalue()

    # -- helpers ----------------------------------------------------------------------------

    def _config(self, *, existing: bool = False) -> Config:
        if existing and not is_migrations_folder(self.directory):
            raise MigrationError(
                f"no migrations folder at {self.directory}; write the first revision with "
                "`loom db revision --autogenerate -m MESSAGE CONFIG` (or pass --directory)"
            )
        config = Config(stdout=self._stdout or sys.stdout)
        config.set_main_option("script_location", str(self.directory))
        config.set_main_option("file_template", FILE_TEMPLATE)
        config.set_main_option("path_separator", "os")
        config.attributes[TARGET_KEY] = self.target
        return config
