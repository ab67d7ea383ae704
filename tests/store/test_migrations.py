"""``loom db``: Alembic migrations end to end, in subprocesses, on SQLite and PostgreSQL.

Each test writes a tiny application (models under ``src/migapp``, its config under
``config/``) into ``tmp_path`` and drives ``python -m loom.core.cli db ...`` against it.
PostgreSQL runs in a schema of its own, reached through the URL's
``options=-csearch_path%3D<schema>``. The schema the migrations build is compared with the
one ``auto_create`` builds from the same models.
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect, text
from tests.store.conftest import DIALECTS, PG_URL

from loom.core.config import DatabaseSettings
from loom.store._engine import create_engine

pytestmark = pytest.mark.slow

MODELS = """
from datetime import date
from enum import Enum

from loom.core.model import BaseModel, ColumnField, OnDelete, TimestampedModel


class Kind(Enum):
    CAT = "cat"
    DOG = "dog"


class Owner(TimestampedModel, kw_only=True):
    __tablename__ = "owners"

    id: int = ColumnField(primary_key=True, autoincrement=True)
    email: str = ColumnField(length=200, unique=True)
    name: str = ColumnField(length=80, index=True)
    profile: dict[str, str] | None = None


class Pet(BaseModel, kw_only=True):
    __tablename__ = "pets"

    id: int = ColumnField(primary_key=True, autoincrement=True)
    owner_id: int = ColumnField(foreign_key="owners.id", on_delete=OnDelete.CASCADE, index=True)
    name: str = ColumnField(length=50)
    kind: Kind = Kind.CAT
    born: date | None = None
"""

ADDED = {
    "    profile: dict[str, str] | None = None\n": (
        "    profile: dict[str, str] | None = None\n    phone: str | None = None\n"
    ),
    "    born: date | None = None\n": (
        "    born: date | None = None\n"
        "    nickname: str | None = ColumnField(length=30, nullable=True, index=True)\n"
    ),
}

START = """
import asyncio, sys
from loom.core.bootstrap import load_runtime

async def main(url: str, auto_create: bool) -> None:
    runtime = load_runtime(
        "config/app.yaml", data={"database": {"url": url, "auto_create": auto_create}}
    )
    await runtime.start()
    await runtime.stop()

asyncio.run(main(sys.argv[1], sys.argv[2] == "true"))
"""


@dataclass
class Project:
    """A tiny application on disk and the database its migrations run on."""

    root: Path
    url: str
    spare_url: str

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, *args], cwd=self.root, capture_output=True, text=True, timeout=300
        )

    def loom_db(self, *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
        done = self.run("-m", "loom.core.cli", "db", *args)
        if ok:
            assert done.returncode == 0, f"loom db {' '.join(args)}:\n{done.stdout}{done.stderr}"
        return done

    def start(self, url: str, *, auto_create: bool) -> None:
        done = self.run("-c", START, url, "true" if auto_create else "false")
        assert done.returncode == 0, done.stderr

    def change_models(self) -> None:
        path = self.root / "src" / "migapp" / "models.py"
        source = path.read_text()
        for old, new in ADDED.items():
            source = source.replace(old, new)
        path.write_text(source)

    def revisions(self) -> list[Path]:
        return sorted((self.root / "migrations" / "versions").glob("*.py"))


def _revision_id(path: Path) -> str:
    found = re.search(r"^revision: str = '(\w+)'", path.read_text(), re.MULTILINE)
    assert found is not None
    return found.group(1)


async def _admin(statement: str) -> None:
    engine = create_engine(DatabaseSettings(url=PG_URL))
    try:
        async with engine.begin() as connection:
            await connection.execute(text(statement))
    finally:
        await engine.dispose()


def _describe_sync(connection: Any) -> dict[str, Any]:
    inspector = inspect(connection)
    found: dict[str, Any] = {}
    for table in sorted(inspector.get_table_names()):
        if table == "alembic_version":
            continue
        columns = {c["name"]: (str(c["type"]), c["nullable"]) for c in inspector.get_columns(table)}
        found[table] = {
            "columns": columns,
            "pk": inspector.get_pk_constraint(table)["constrained_columns"],
            "fks": sorted(
                (fk["constrained_columns"], fk["referred_table"], fk["options"].get("ondelete"))
                for fk in inspector.get_foreign_keys(table)
            ),
            "unique": sorted(
                [tuple(u["column_names"]) for u in inspector.get_unique_constraints(table)]
                + [
                    tuple(i["column_names"])
                    for i in inspector.get_indexes(table)
                    if i["unique"] and not i.get("duplicates_constraint")
                ]
            ),
            "indexes": sorted(
                (i["name"], tuple(i["column_names"]))
                for i in inspector.get_indexes(table)
                if not i["unique"]
            ),
        }
    return found


def describe(url: str) -> dict[str, Any]:
    """Tables (but ``alembic_version``), columns, keys, unique constraints and indexes."""

    async def read() -> dict[str, Any]:
        engine = create_engine(DatabaseSettings(url=url))
        try:
            async with engine.connect() as connection:
                return await connection.run_sync(_describe_sync)
        finally:
            await engine.dispose()

    return asyncio.run(read())


def query(url: str, sql: str) -> list[tuple[Any, ...]]:
    async def read() -> list[tuple[Any, ...]]:
        engine = create_engine(DatabaseSettings(url=url))
        try:
            async with engine.begin() as connection:
                result = await connection.execute(text(sql))
                return [tuple(row) for row in result] if result.returns_rows else []
        finally:
            await engine.dispose()

    return asyncio.run(read())


@pytest.fixture
def project(tmp_path: Path, dialect: str) -> Iterator[Project]:
    package = tmp_path / "src" / "migapp"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "models.py").write_text(MODELS.lstrip())
    schemas: list[str] = []
    if dialect == "postgresql":
        schemas = [f"loom_mig_{secrets.token_hex(4)}" for _ in range(2)]
        for schema in schemas:
            asyncio.run(_admin(f'CREATE SCHEMA "{schema}"'))
        url, spare = (f"{PG_URL}?options=-csearch_path%3D{schema}" for schema in schemas)
    else:
        url = f"sqlite+aiosqlite:///{tmp_path / 'app.db'}"
        spare = f"sqlite+aiosqlite:///{tmp_path / 'spare.db'}"
    config = tmp_path / "config" / "app.yaml"
    config.parent.mkdir()
    config.write_text(
        textwrap.dedent(
            f"""
            app:
              name: migapp
              code_path: src
              secret_key: migrations-test
              discovery: {{mode: modules, modules: {{include: [migapp.models]}}}}
            database:
              url: {json.dumps(url)}
              auto_create: false
            observability: {{log: {{level: WARNING}}}}
            """
        )
    )
    try:
        yield Project(root=tmp_path, url=url, spare_url=spare)
    finally:
        for schema in schemas:
            asyncio.run(_admin(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))


@pytest.mark.parametrize("dialect", DIALECTS, indirect=True)
def test_autogenerate_upgrade_change_downgrade(project: Project, dialect: str) -> None:
    project.start(project.url, auto_create=False)
    assert describe(project.url) == {}  # auto_create: false creates nothing

    wrote = project.loom_db("revision", "--autogenerate", "-m", "initial", "config/app.yaml")
    assert "wrote" in wrote.stdout
    assert (project.root / "migrations" / "env.py").is_file()
    (first,) = project.revisions()
    initial = first.read_text()
    assert "op.create_table('owners'" in initial
    assert "sa.DateTime(timezone=True), server_default=utc_now()" in initial
    assert "from loom.store.mapping import utc_now" in initial
    assert "ondelete='CASCADE'" in initial
    assert "_types" not in initial  # loom's decorators render as plain types

    project.loom_db("upgrade", "config/app.yaml")
    migrated = describe(project.url)
    assert set(migrated) == {"owners", "pets"}
    owners, pets = migrated["owners"], migrated["pets"]
    assert set(owners["columns"]) == {"id", "created_at", "updated_at", "email", "name", "profile"}
    assert pets["fks"] == [(["owner_id"], "owners", "CASCADE")]
    assert ("email",) in owners["unique"]
    assert ("ix_owners_name", ("name",)) in owners["indexes"]
    assert ("ix_pets_owner_id", ("owner_id",)) in pets["indexes"]
    project.start(project.spare_url, auto_create=True)
    assert describe(project.spare_url) == migrated  # auto_create builds the same schema

    unchanged = project.loom_db("revision", "--autogenerate", "-m", "noop", "config/app.yaml")
    assert "no changes" in unchanged.stdout
    assert len(project.revisions()) == 1

    project.change_models()
    project.loom_db("revision", "--autogenerate", "-m", "add phone and nickname", "config/app.yaml")
    second = next(path for path in project.revisions() if path != first)
    changes = second.read_text()
    upgrade_part = changes.split("def downgrade")[0]
    added = re.findall(r"add_column\((?:'\w+', )?sa\.Column\('(\w+)', ([^,]+)", upgrade_part)
    assert sorted(added) == [("nickname", "sa.String(length=30)"), ("phone", "sa.Text()")]
    assert "ix_pets_nickname" in upgrade_part
    assert "alter_column" not in changes
    assert "drop_table" not in changes

    project.loom_db("upgrade", "config/app.yaml")
    upgraded = describe(project.url)
    assert "nickname" in upgraded["pets"]["columns"]
    assert "phone" in upgraded["owners"]["columns"]
    assert ("ix_pets_nickname", ("nickname",)) in upgraded["pets"]["indexes"]
    current = project.loom_db("current", "config/app.yaml")
    assert current.stdout.strip() == f"{_revision_id(second)} (head)"

    query(project.url, "INSERT INTO owners (email, name) VALUES ('a@example.org', 'A')")
    query(project.url, "INSERT INTO pets (owner_id, name, kind) VALUES (1, 'Rex', 'dog')")
    project.loom_db("downgrade", "config/app.yaml", "-1")
    downgraded = describe(project.url)
    assert downgraded == migrated  # the second revision is gone, nothing else changed
    current = project.loom_db("current", "config/app.yaml")
    assert current.stdout.strip() == _revision_id(first)
    # rebuilding a parent table must not cascade to its children
    assert query(project.url, "SELECT name FROM pets") == [("Rex",)]
    if dialect == "sqlite":
        tables = query(project.url, "SELECT sql FROM sqlite_master WHERE name = 'pets'")
        assert "AUTOINCREMENT" in tables[0][0]  # ids are still never reused


@pytest.mark.parametrize("dialect", ["sqlite"], indirect=True)
def test_mistakes_get_clear_errors(project: Project) -> None:
    missing = project.loom_db("upgrade", "config/app.yaml", ok=False)
    assert missing.returncode == 1
    assert "no migrations folder" in missing.stderr
    no_target = project.loom_db("downgrade", "config/app.yaml", ok=False)
    assert no_target.returncode == 2
    assert "give the revision" in no_target.stderr
    typo = project.loom_db("upgrade", "config/app.yaml", "--sqll", ok=False)
    assert typo.returncode == 2
    assert "no such option" in typo.stderr
    project.loom_db("revision", "-m", "by hand", "config/app.yaml")
    assert len(project.revisions()) == 1
    behind = project.loom_db(
        "revision", "--autogenerate", "-m", "auto", "config/app.yaml", ok=False
    )
    assert behind.returncode == 1
    assert "not up to date" in behind.stderr
