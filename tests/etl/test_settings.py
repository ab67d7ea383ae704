"""The ``storage`` and ``history`` config sections and how tables and files resolve."""

from __future__ import annotations

from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from loom.core.cli import main
from loom.core.config import known_sections, load_config
from loom.core.errors import ConfigurationError
from loom.etl import ETLRunner
from loom.etl.backend import Storage
from loom.etl.errors import BackendUnavailableError
from loom.etl.settings import HistorySettings, StorageSettings, TableSettings


def test_sections_are_registered_through_entry_points() -> None:
    found = {ep.name: ep.value for ep in entry_points(group="loom.settings")}
    assert found["storage"] == "loom.etl.settings:StorageSettings"
    assert found["history"] == "loom.etl.settings:HistorySettings"
    sections = known_sections()
    assert sections["storage"] is StorageSettings
    assert sections["history"] is HistorySettings


def test_the_design_example_validates(write_yaml: Any) -> None:
    path = write_yaml(
        "etl.yaml",
        """
        storage:
          engine: polars
          root: ./lake
          tables: {raw.orders: {path: s3://bucket/raw/orders, storage_options: {}}}
          files: {events_raw: {path: ./data/events/*.csv}}
        history: {url: sqlite:///./lake/_loom_runs.db}
        """,
    )
    config = load_config(path)
    storage = config.section("storage", StorageSettings)
    assert storage.tables["raw.orders"] == TableSettings(path="s3://bucket/raw/orders")
    assert storage.files["events_raw"].path == "./data/events/*.csv"
    assert config.section("history", HistorySettings).url == "sqlite:///./lake/_loom_runs.db"


def test_an_unknown_key_names_its_full_path(write_yaml: Any) -> None:
    path = write_yaml("etl.yaml", "storage:\n  rooot: ./lake\n")
    with pytest.raises(ConfigurationError, match=r"storage\.rooot: unknown key; expected one of"):
        load_config(path)
    path = write_yaml("etl2.yaml", "storage:\n  files: {x: {pth: a.csv}}\n")
    # msgspec does not say which mapping key failed, so the alias name is not in the path
    with pytest.raises(ConfigurationError, match=r"storage\.files.*pth: unknown key"):
        load_config(path)


def test_loom_config_validate_knows_the_sections(write_yaml: Any) -> None:
    path = write_yaml("etl.yaml", "storage: {root: ./lake}\nhistory: {}\n")
    result = CliRunner().invoke(main, ["config", "validate", str(path)])
    assert result.exit_code == 0, result.output
    assert "StorageSettings" in result.output
    assert "HistorySettings" in result.output


def test_table_and_file_locations(tmp_path: Path) -> None:
    storage = Storage(
        StorageSettings(
            root="lake",
            storage_options={"region": "eu"},
            tables={
                "raw.orders": TableSettings(
                    path="s3://bucket/orders", storage_options={"token": "t"}
                )
            },
        ),
        base=tmp_path,
    )
    assert storage.table("staging.daily.orders").uri == str(tmp_path / "lake/staging/daily/orders")
    orders = storage.table("raw.orders")
    assert orders.uri == "s3://bucket/orders"
    assert not orders.is_local
    assert dict(orders.storage_options) == {"region": "eu", "token": "t"}
    assert storage.path("data/x.csv").uri == str(tmp_path / "data/x.csv")
    assert storage.alias("missing") is None
    remote = Storage(StorageSettings(root="s3://bucket/lake/"))
    assert remote.table("raw.orders").uri == "s3://bucket/lake/raw/orders"


def test_spark_is_not_available_yet() -> None:
    with pytest.raises(BackendUnavailableError, match=r"storage\.engine 'spark' is not available"):
        ETLRunner.from_config({"storage": {"engine": "spark"}})
