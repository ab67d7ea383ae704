"""``loom.store.migrations.Migrations`` in-process, and ``options=`` in PostgreSQL URLs."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import inspect
from sqlalchemy.engine import make_url
from tests.contract.models import CONTRACT_MODELS
from tests.store.conftest import DIALECTS, MakeStore

from loom.core.errors import ConfigurationError
from loom.store._engine import server_settings
from loom.store.errors import MigrationError
from loom.store.migrations import Migrations, default_directory


@pytest.mark.parametrize("dialect", DIALECTS, indirect=True)
async def test_migrations_run_from_inside_an_event_loop(
    make_store: MakeStore, tmp_path: Path
) -> None:
    store = await make_store(CONTRACT_MODELS)
    await store.drop_all()
    migrations = Migrations.for_store(store, tmp_path / "migrations")
    assert not migrations.exists
    with pytest.raises(MigrationError, match="no migrations folder"):
        migrations.upgrade()
    assert migrations.current() == ()
    written = migrations.revision("initial", autogenerate=True)
    assert written is not None
    assert written.parent == tmp_path / "migrations" / "versions"
    migrations.upgrade()
    assert migrations.current() == migrations.heads()
    assert migrations.revision("again", autogenerate=True) is None  # nothing changed
    async with store.engine.connect() as connection:
        names = await connection.run_sync(lambda sync: inspect(sync).get_table_names())
    assert set(names) == {t.name for t in store.catalog.metadata.tables.values()} | {
        "alembic_version"
    }
    assert "initial" in migrations.history()
    migrations.downgrade("base")
    assert migrations.current() == ()


def test_the_default_folder_sits_next_to_the_config_folder(tmp_path: Path) -> None:
    config = tmp_path / "project" / "config" / "api.yaml"
    assert default_directory(config) == tmp_path / "project" / "migrations"


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ("-csearch_path%3Dtenant", {"search_path": "tenant"}),
        (
            "-c%20search_path%3Da,b%20-c%20statement_timeout%3D5000",
            {"search_path": "a,b", "statement_timeout": "5000"},
        ),
        ("--application-name%3Dloom", {"application_name": "loom"}),
    ],
)
def test_libpq_options_in_the_url_become_server_settings(
    options: str, expected: dict[str, str]
) -> None:
    url, settings = server_settings(make_url(f"postgresql+asyncpg://u@h/db?options={options}&x=1"))
    assert settings == expected
    assert "options" not in url.query
    assert url.query["x"] == "1"


@pytest.mark.parametrize("options", ["search_path", "-csearch_path", "-c"])
def test_unreadable_url_options_are_a_configuration_error(options: str) -> None:
    with pytest.raises(ConfigurationError, match=r"database\.url"):
        server_settings(make_url(f"postgresql+asyncpg://u@h/db?options={options}"))
