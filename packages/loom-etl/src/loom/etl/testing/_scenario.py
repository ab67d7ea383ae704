"""``ETLScenario``: a small lake in a temporary folder to run pipelines against in tests."""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import polars as pl
from deltalake import DeltaTable, write_deltalake

from loom.etl.backend._storage import Storage
from loom.etl.delta import PolarsDeltaBackend
from loom.etl.dsl._sources import Format, format_from_path
from loom.etl.history._store import RunHistory
from loom.etl.runner._records import RunResult
from loom.etl.runner._runner import ETLRunner
from loom.etl.settings import FileSettings, StorageSettings
from loom.etl.testing._assertions import Rows, assert_rows, to_frame

__all__ = ["ETLScenario"]


def _format(path: str, fmt: Format | str | None) -> Format:
    if fmt is not None:
        return Format(fmt)
    guessed = format_from_path(path)
    if guessed is None:
        raise ValueError(f"cannot tell the format of {path!r}; pass format=Format.CSV, …")
    return guessed


class ETLScenario:
    """A lake under a temporary folder: seed tables and files, run pipelines, check tables.

    Args:
        base: The folder to use (e.g. pytest's ``tmp_path``); a temporary one, removed
            by :meth:`close`, when omitted.
        files: File aliases (``storage.files``), as paths relative to ``base``.
        max_workers: Most steps one parallel group runs at once.

    Tables live under ``<base>/lake``; relative file paths in declarations resolve
    against ``base``; the run history is ``<base>/lake/_loom_runs.db``.

    Example::

        with ETLScenario() as lake:
            lake.table("raw.orders", [{"id": 1, "amount": 10.0}, {"id": 2, "amount": -1.0}])
            lake.run(DailyPipeline, {"run_date": "2024-05-01"})
            lake.assert_table("staging.orders", [{"id": 1, "amount": 10.0}])

    """

    def __init__(
        self,
        base: str | Path | None = None,
        *,
        files: Mapping[str, str] | None = None,
        max_workers: int | None = None,
    ) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="loom-etl-") if base is None else None
        self.base = Path(self._tmp.name if self._tmp is not None else base).resolve()  # type: ignore[arg-type]
        self.root = self.base / "lake"
        self.root.mkdir(parents=True, exist_ok=True)
        self._aliases: dict[str, str] = dict(files or {})
        self._max_workers = max_workers
        self.history = RunHistory(f"sqlite:///{self.root / '_loom_runs.db'}")
        self._runner: ETLRunner | None = None

    @property
    def storage(self) -> Storage:
        """Where the scenario's tables and file aliases live."""
        aliases = {n: FileSettings(path=p) for n, p in self._aliases.items()}
        return Storage(StorageSettings(root=str(self.root), files=aliases), base=self.base)

    @property
    def runner(self) -> ETLRunner:
        """The runner over this lake (no progress display)."""
        if self._runner is None:
            self._runner = ETLRunner(
                PolarsDeltaBackend(),
                self.storage,
                history=self.history,
                show=False,
                max_workers=self._max_workers,
            )
        return self._runner

    def alias(self, name: str, path: str) -> Path:
        """Declare file alias ``name`` (``storage.files``) at ``path`` under ``base``."""
        self._aliases[name] = path
        self._runner = None
        return self.base / path

    def path(self, table: str) -> Path:
        """Where table ``a.b`` lives."""
        return self.root.joinpath(*table.split("."))

    def table(
        self,
        name: str,
        rows: Rows,
        *,
        schema: Mapping[str, Any] | None = None,
        append: bool = False,
        partition_by: Sequence[str] | None = None,
    ) -> int:
        """Write ``rows`` to Delta table ``name`` (replacing it unless ``append``).

        Returns:
            The table's new version.
        """
        frame = to_frame(rows, schema)
        location = str(self.path(name))
        write_deltalake(
            location,
            frame.to_arrow(),
            mode="append" if append else "overwrite",
            partition_by=list(partition_by) if partition_by else None,
            schema_mode=None if append else "overwrite",
        )
        return DeltaTable(location).version()

    def file(
        self,
        path: str,
        rows: Rows,
        *,
        schema: Mapping[str, Any] | None = None,
        format: Format | str | None = None,
    ) -> Path:
        """Write ``rows`` to the file at ``path`` (relative to ``base``); return its path."""
        fmt = _format(path, format)
        target = self.base / path
        target.parent.mkdir(parents=True, exist_ok=True)
        frame = to_frame(rows, schema)
        if fmt is Format.CSV:
            frame.write_csv(target)
        elif fmt is Format.JSON:
            frame.write_ndjson(target)
        elif fmt is Format.PARQUET:
            frame.write_parquet(target)
        else:
            write_deltalake(str(target), frame.to_arrow(), mode="overwrite")
        return target

    def run(
        self,
        pipeline: type,
        params: object = None,
        *,
        include: str | Iterable[str] | None = None,
        run_id: str | None = None,
    ) -> RunResult:
        """Run ``pipeline`` on this lake (see :meth:`ETLRunner.run <loom.etl.ETLRunner.run>`)."""
        return self.runner.run(pipeline, params, include=include, run_id=run_id)

    def resume(self, run_id: str, pipeline: type | None = None) -> RunResult:
        """Resume run ``run_id`` (see :meth:`ETLRunner.resume <loom.etl.ETLRunner.resume>`)."""
        return self.runner.resume(run_id, pipeline)

    def exists(self, table: str) -> bool:
        """True when ``table`` is a Delta table."""
        return DeltaTable.is_deltatable(str(self.path(table)))

    def read(self, table: str) -> pl.DataFrame:
        """Every row of ``table``."""
        return pl.read_delta(str(self.path(table)))

    def read_file(self, path: str, *, format: Format | str | None = None) -> pl.DataFrame:
        """The rows of the file at ``path`` (relative to ``base``)."""
        fmt = _format(path, format)
        target = self.base / path
        if fmt is Format.CSV:
            return pl.read_csv(target, try_parse_dates=True)
        if fmt is Format.JSON:
            return pl.read_ndjson(target)
        if fmt is Format.PARQUET:
            return pl.read_parquet(target)
        return pl.read_delta(str(target))

    def assert_table(
        self,
        table: str,
        expected: Rows,
        *,
        ordered: bool = False,
        columns: Sequence[str] | None = None,
    ) -> None:
        """Assert ``table`` holds exactly the ``expected`` rows (any order by default)."""
        if not self.exists(table):
            raise AssertionError(f"table {table} does not exist at {self.path(table)}")
        try:
            assert_rows(self.read(table), expected, ordered=ordered, columns=columns)
        except AssertionError as exc:
            raise AssertionError(f"table {table}: {exc}") from None

    def close(self) -> None:
        """Release the history and remove the temporary folder (if the scenario made one)."""
        self.history.close()
        if self._tmp is not None:
            self._tmp.cleanup()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
