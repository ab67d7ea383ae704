"""``PolarsStepRunner``: run one step on seeded rows and check what it wrote."""

from __future__ import annotations

import types
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

import polars as pl

from loom.etl.dsl._declarations import (
    ETLParams,
    ETLPipeline,
    ETLProcess,
    declared_params_type,
    sources_of,
    targets_of,
)
from loom.etl.dsl._sources import Format, FromFile, FromTable, format_from_path
from loom.etl.dsl._targets import IntoFile, IntoTable
from loom.etl.errors import PipelineRunError
from loom.etl.runner._records import RunResult, StepRecord
from loom.etl.testing._assertions import Rows, assert_rows, assert_schema
from loom.etl.testing._scenario import ETLScenario

__all__ = ["PolarsStepRunner", "StepResult"]

_SUFFIX = {Format.CSV: ".csv", Format.PARQUET: ".parquet", Format.JSON: ".ndjson", Format.DELTA: ""}


@dataclass(frozen=True, slots=True)
class StepResult:
    """What a step wrote: its record, and its target's rows after the write.

    Attributes:
        record: The step's record (rows read and written, version …).
        frame: Every row of the target after the step (the whole table, for tables).
        run: The one-step run's result.

    """

    record: StepRecord
    frame: pl.DataFrame
    run: RunResult

    @property
    def rows(self) -> list[dict[str, Any]]:
        """The target's rows as dicts."""
        return self.frame.to_dicts()

    def assert_rows(
        self, expected: Rows, *, ordered: bool = False, columns: Sequence[str] | None = None
    ) -> Self:
        """Assert the target holds exactly ``expected`` (any order unless ``ordered``)."""
        assert_rows(self.frame, expected, ordered=ordered, columns=columns)
        return self

    def assert_schema(self, expected: Mapping[str, Any], *, exact: bool = True) -> Self:
        """Assert the target's column types (type names like ``"int64"`` or Polars types)."""
        assert_schema(self.frame, expected, exact=exact)
        return self


def _pipeline_for(step: type) -> type:
    params_type = declared_params_type(step) or ETLParams
    process = types.new_class(
        f"{step.__name__}Process",
        (ETLProcess[params_type],),  # type: ignore[valid-type]
        exec_body=lambda ns: ns.update({"steps": [step]}),
    )
    return types.new_class(
        f"{step.__name__}Pipeline",
        (ETLPipeline[params_type],),  # type: ignore[valid-type]
        exec_body=lambda ns: ns.update({"processes": [process]}),
    )


def _file_path(declared: FromFile | IntoFile, folder: str) -> tuple[str, Format | str | None]:
    fmt = declared.format
    if declared.alias_name is not None:
        known = Format(fmt) if fmt is not None else Format.PARQUET
        return f"{folder}/{declared.alias_name}{_SUFFIX[known]}", known
    path = str(declared.path)
    if fmt is None:
        fmt = format_from_path(path)
    return path.replace("*", "seed"), fmt


class PolarsStepRunner:
    """Run one step in isolation: seed its sources, run it, assert on what it wrote.

    Args:
        step: The step class.
        params: Its params (an instance, a mapping, or ``None`` when all have defaults).
        base: Folder for the step's small lake (a temporary one when omitted).

    Example::

        result = (
            PolarsStepRunner(CleanOrders, {"run_date": "2024-05-01"})
            .seed("orders", [{"id": 1, "amount": 10.0, "run_date": date(2024, 5, 1)}])
            .run()
        )
        result.assert_rows([{"id": 1, "amount": 10.0, "run_date": date(2024, 5, 1)}])
        result.assert_schema({"id": "int64", "amount": "float64", "run_date": "date"})

    A failing step raises its error (``DuplicateKeyError``, ``StepExecutionError`` …).
    Calling :meth:`run` again runs the step again on the same lake (incremental
    sources then read only rows seeded since).
    """

    def __init__(
        self, step: type, params: object = None, *, base: str | Path | None = None
    ) -> None:
        self.step = step
        self.params = params
        self.scenario = ETLScenario(base)
        self.pipeline = _pipeline_for(step)
        self._sources = sources_of(step)
        targets = list(targets_of(step).values())
        if len(targets) != 1:
            raise ValueError(f"{step.__name__} declares {len(targets)} targets; a step has one")
        self._target = targets[0]
        if isinstance(self._target, IntoFile) and self._target.alias_name is not None:
            path, _ = _file_path(self._target, "out")
            self.scenario.alias(self._target.alias_name, path)

    def seed(
        self,
        source: str,
        rows: Rows,
        *,
        schema: Mapping[str, Any] | None = None,
        append: bool = False,
    ) -> Self:
        """Give source ``source`` (the step attribute) these rows; ``append`` adds to them.

        Raises:
            KeyError: the step has no such source.
        """
        declared = self._sources.get(source)
        if declared is None:
            known = ", ".join(self._sources) or "none"
            raise KeyError(f"{self.step.__name__} has no source {source!r} (sources: {known})")
        if isinstance(declared, FromTable):
            self.scenario.table(declared.table, rows, schema=schema, append=append)
        elif isinstance(declared, FromFile):
            path, fmt = _file_path(declared, "seeds")
            if declared.alias_name is not None:
                self.scenario.alias(declared.alias_name, path)
            if append:
                raise ValueError("append=True works for table sources only")
            self.scenario.file(path, rows, schema=schema, format=fmt)
        return self

    def seed_target(
        self,
        rows: Rows,
        *,
        schema: Mapping[str, Any] | None = None,
        partition_by: Sequence[str] | None = None,
    ) -> Self:
        """Give the target table rows before the step runs (for append, upsert, slices)."""
        if not isinstance(self._target, IntoTable):
            raise TypeError("seed_target works for IntoTable targets")
        self.scenario.table(self._target.table, rows, schema=schema, partition_by=partition_by)
        return self

    def read_target(self) -> pl.DataFrame:
        """The target's rows now."""
        target = self._target
        if isinstance(target, IntoTable):
            return self.scenario.read(target.table)
        assert isinstance(target, IntoFile)
        path, fmt = _file_path(target, "out")
        return self.scenario.read_file(path, format=fmt)

    def run(self, params: object = None) -> StepResult:
        """Run the step (with ``params``, else the runner's); return what it wrote.

        Raises:
            EtlError: the step's own error when it fails (the run's is its cause).
            PipelineCompilationError: the step's declaration has errors.
        """
        try:
            result = self.scenario.run(self.pipeline, params if params is not None else self.params)
        except PipelineRunError as exc:
            raise exc.errors[0] from exc
        return StepResult(result.steps[0], self.read_target(), result)

    def close(self) -> None:
        """Remove the temporary lake."""
        self.scenario.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
