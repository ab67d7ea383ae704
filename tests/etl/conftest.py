"""Fixtures for loom-etl: a tiny lake in ``tmp_path`` with a YAML config, and its runner.

Nothing here imports Polars at module level, so the DSL and compiler tests run with
loom-core alone; the ``lake`` fixture skips when the ``delta`` extra is missing.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from loguru import logger

from loom.etl import ETLRunner


class Lake:
    """A lake under ``<tmp>/lake`` plus helpers to seed and inspect its Delta tables."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.root = base / "lake"
        self.config = base / "config" / "etl.yaml"
        self.write_config()

    def write_config(self, extra: str = "") -> Path:
        """(Re)write ``config/etl.yaml``: root ``./lake`` plus ``extra`` storage YAML."""
        self.config.parent.mkdir(parents=True, exist_ok=True)
        body = "storage:\n  engine: polars\n  root: ./lake\n" + textwrap.indent(
            textwrap.dedent(extra).strip("\n"), "  "
        )
        self.config.write_text(body.rstrip() + "\n", encoding="utf-8")
        return self.config

    def runner(self, **kwargs: Any) -> ETLRunner:
        """A runner loaded from ``config/etl.yaml``."""
        runner = ETLRunner.from_yaml(self.config)
        for key, value in kwargs.items():
            setattr(runner, key, value)
        return runner

    def path(self, table: str) -> Path:
        """Where table ``a.b`` lives."""
        return self.root.joinpath(*table.split("."))

    def write(
        self,
        table: str,
        data: Any,
        *,
        mode: str = "overwrite",
        partition_by: list[str] | None = None,
    ) -> int:
        """Write ``data`` (a dict of columns or a DataFrame) to ``table``; return its version."""
        import polars as pl
        from deltalake import DeltaTable, write_deltalake

        frame = data if isinstance(data, pl.DataFrame) else pl.DataFrame(data)
        write_deltalake(
            str(self.path(table)), frame.to_arrow(), mode=mode, partition_by=partition_by
        )  # type: ignore[call-overload]
        return DeltaTable(str(self.path(table))).version()

    def read(self, table: str, *, sort: str | list[str] | None = None) -> Any:
        """The table's rows as a DataFrame, sorted by ``sort`` when given."""
        import polars as pl

        frame = pl.read_delta(str(self.path(table)))
        return frame.sort(sort) if sort is not None else frame

    def version(self, table: str) -> int:
        """The table's current Delta version."""
        from deltalake import DeltaTable

        return DeltaTable(str(self.path(table))).version()

    def last_commit(self, table: str) -> dict[str, Any]:
        """The newest entry of the table's Delta history."""
        from deltalake import DeltaTable

        return DeltaTable(str(self.path(table))).history(1)[0]

    def exists(self, table: str) -> bool:
        """True when ``table`` is a Delta table."""
        from deltalake import DeltaTable

        return DeltaTable.is_deltatable(str(self.path(table)))


@pytest.fixture
def lake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Lake:
    """A lake under ``tmp_path``, with the current directory set there."""
    pytest.importorskip("polars")
    pytest.importorskip("deltalake")
    monkeypatch.chdir(tmp_path)
    return Lake(tmp_path)


@pytest.fixture
def log_messages() -> Iterator[list[str]]:
    """Every loguru message logged during the test."""
    messages: list[str] = []
    handler = logger.add(lambda m: messages.append(m.record["message"]), level="DEBUG")
    yield messages
    logger.remove(handler)
