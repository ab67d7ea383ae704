"""Assembling an application from config: discovery, stores, jobs, start-up errors."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from loom.core.bootstrap import load_runtime
from loom.core.config import DatabaseSettings
from loom.core.errors import CompilationError, ConfigurationError
from loom.core.stores import open_store, url_scheme

MODELS = """
from loom.core.model import BaseModel, ColumnField, OnDelete


class Team(BaseModel):
    __tablename__ = "teams"
    id: int = ColumnField(primary_key=True, autoincrement=True)
    name: str = ColumnField(length=40, unique=True)


class Player(BaseModel):
    __tablename__ = "players"
    id: int = ColumnField(primary_key=True, autoincrement=True)
    team_id: int = ColumnField(foreign_key="teams.id", on_delete=OnDelete.CASCADE)
    name: str = ColumnField(length=40)
"""

INTERFACES = """
from loom.core.interface import RestInterface, build_auto_routes
from {pkg}.models import Player, Team


class TeamInterface(RestInterface[Team]):
    prefix = "/teams"
    routes = build_auto_routes(Team)


class PlayerInterface(RestInterface[Player]):
    prefix = "/players"
    routes = build_auto_routes(Player, ("get", "list"))
"""

MANIFEST = """
from {pkg}.interfaces import PlayerInterface, TeamInterface
from {pkg}.models import Player, Team

MODELS = [Team, Player]
INTERFACES = [TeamInterface, PlayerInterface]
"""


@pytest.fixture
def project(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[tuple[Path, str]]:
    pkg = f"bootpkg_{request.node.name[:40].replace('[', '_').replace(']', '_')}"
    src = tmp_path / "src" / pkg
    src.mkdir(parents=True)
    (src / "__init__.py").write_text("")
    (src / "models.py").write_text(MODELS)
    (src / "interfaces.py").write_text(INTERFACES.format(pkg=pkg))
    (src / "manifest.py").write_text(MANIFEST.format(pkg=pkg))
    yield tmp_path, pkg
    for name in [m for m in sys.modules if m.startswith(pkg)]:
        del sys.modules[name]


def write_config(root: Path, body: str) -> Path:
    config = root / "config" / "api.yaml"
    config.parent.mkdir(exist_ok=True)
    config.write_text(textwrap.dedent(body))
    return config


def test_modules_discovery_finds_models_and_interfaces(project: tuple[Path, str]) -> None:
    root, pkg = project
    config = write_config(
        root,
        f"""
        app:
          code_path: src
          secret_key: s3cret
          discovery: {{mode: modules, modules: {{include: [{pkg}.interfaces]}}}}
        database: {{url: "memory://"}}
        """,
    )
    runtime = load_runtime(config)
    assert [m.__name__ for m in runtime.manifest.models] == ["Team", "Player"]
    assert [i.__name__ for i in runtime.manifest.interfaces] == ["TeamInterface", "PlayerInterface"]
    assert {(r.method, r.path) for r in runtime.routes} >= {
        ("POST", "/teams"),
        ("GET", "/players/{id}"),
    }
    assert len(runtime.routes) == 7


def test_manifest_discovery_reads_the_lists(project: tuple[Path, str]) -> None:
    root, pkg = project
    config = write_config(
        root,
        f"""
        app:
          code_path: src
          discovery: {{mode: manifest, manifest: {{module: {pkg}.manifest}}}}
        database: {{url: "memory://"}}
        """,
    )
    runtime = load_runtime(config)
    assert len(runtime.manifest.models) == 2
    assert len(runtime.routes) == 7


async def test_a_runtime_starts_serves_use_cases_and_stops(project: tuple[Path, str]) -> None:
    root, pkg = project
    config = write_config(
        root,
        f"""
        app:
          code_path: src
          discovery: {{mode: modules, modules: {{include: [{pkg}.interfaces]}}}}
        database: {{url: "memory://"}}
        """,
    )
    runtime = load_runtime(config)
    await runtime.start()
    try:
        team_model = runtime.manifest.models[0]
        created = await runtime.application.invoker.entity(team_model).create(
            payload={"name": "Reds"}
        )
        assert created.id == 1
    finally:
        await runtime.stop()
    assert runtime.started is False


def test_code_path_is_found_relative_to_the_config_folder(project: tuple[Path, str]) -> None:
    root, pkg = project
    config = write_config(
        root,
        f"""
        app:
          code_path: src
          discovery: {{mode: modules, modules: {{include: [{pkg}.models]}}}}
        database: {{url: "memory://"}}
        """,
    )
    runtime = load_runtime(config)  # cwd is not root: found through config/.. instead
    assert len(runtime.manifest.models) == 2


def test_a_missing_code_path_or_module_names_the_key(project: tuple[Path, str]) -> None:
    root, _ = project
    config = write_config(root, 'app: {code_path: nowhere}\ndatabase: {url: "memory://"}\n')
    with pytest.raises(ConfigurationError, match=r"app\.code_path: folder not found"):
        load_runtime(config)
    config = write_config(
        root,
        """
        app:
          code_path: src
          discovery: {mode: modules, modules: {include: [no_such_module.x]}}
        database: {url: "memory://"}
        """,
    )
    with pytest.raises(ConfigurationError, match=r"module .no_such_module\.x. not found"):
        load_runtime(config)


def test_manifest_mode_needs_a_module(project: tuple[Path, str]) -> None:
    root, _ = project
    config = write_config(
        root, 'app: {discovery: {mode: manifest}}\ndatabase: {url: "memory://"}\n'
    )
    with pytest.raises(
        ConfigurationError, match=r"manifest mode needs app\.discovery\.manifest\.module"
    ):
        load_runtime(config)


def test_declaration_errors_stop_start_up(project: tuple[Path, str]) -> None:
    root, pkg = project
    (root / "src" / pkg / "broken.py").write_text(
        textwrap.dedent(
            f"""
            from loom.core.interface import RestInterface, RestRoute
            from loom.core.use_case import Input
            from loom.core.use_case.use_case import UseCase
            from {pkg}.models import Team


            class Rename(UseCase[Team, Team]):
                async def execute(self, team_id, cmd=Input()) -> Team: ...


            class BrokenInterface(RestInterface[Team]):
                prefix = "/teams"
                routes = (RestRoute(use_case=Rename, method="PATCH", path="/{{team_id}}"),)
            """
        )
    )
    config = write_config(
        root,
        f"""
        app:
          code_path: src
          discovery: {{mode: modules, modules: {{include: [{pkg}.broken]}}}}
        database: {{url: "memory://"}}
        """,
    )
    with pytest.raises(CompilationError) as info:
        load_runtime(config)
    assert "Rename.execute(..., team_id=...): parameter 'team_id' has no annotation" in str(
        info.value
    )
    assert "Rename.execute(..., cmd=...): parameter 'cmd' has no annotation" in str(info.value)


def test_store_urls_pick_their_provider() -> None:
    assert url_scheme("postgresql+asyncpg://u@h/db") == "postgresql"
    assert url_scheme("sqlite+aiosqlite:///./x.db") == "sqlite"
    with pytest.raises(ConfigurationError, match="is not a URL"):
        url_scheme("nonsense")
    with pytest.raises(ConfigurationError, match="no store serves mongodb:// URLs"):
        open_store(DatabaseSettings(url="mongodb://h/db"), models=(), secret=b"k")
    store = open_store(DatabaseSettings(url="memory://"), models=(), secret=b"k")
    assert callable(store.uow_factory)
