"""Files: CSV, Parquet, NDJSON and Delta-at-a-path, read and written; aliases; atomic writes."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

pl = pytest.importorskip("polars")
pytest.importorskip("deltalake")

from loom.etl import (  # noqa: E402
    ETLParams,
    ETLPipeline,
    ETLProcess,
    ETLStep,
    Format,
    FromFile,
    IntoFile,
    IntoTable,
    col,
)
from loom.etl.errors import PipelineRunError, StepExecutionError  # noqa: E402


class NoParams(ETLParams):
    pass


def one_step(step: type) -> type:
    class Proc(ETLProcess[NoParams]):
        steps = [step]

    class Pipe(ETLPipeline[NoParams]):
        processes = [Proc]

    return Pipe


SAMPLE = {"id": [1, 2, 3], "amount": [5.0, -1.0, 2.5], "day": ["2024-05-01"] * 3}


def write_sample(base: Path, fmt: str) -> Path:
    frame = pl.DataFrame(SAMPLE)
    path = base / "data" / f"orders.{fmt}"
    path.parent.mkdir(parents=True, exist_ok=True)
    {"csv": frame.write_csv, "parquet": frame.write_parquet, "json": frame.write_ndjson}[fmt](path)
    return path


@pytest.mark.parametrize(
    ("suffix", "fmt"),
    [("csv", Format.CSV), ("parquet", Format.PARQUET), ("json", Format.JSON)],
)
def test_each_format_reads_with_pushdown_into_a_table(lake: Any, suffix: str, fmt: Format) -> None:
    write_sample(lake.base, suffix)

    class Load(ETLStep[NoParams]):
        orders = (
            FromFile(f"data/orders.{suffix}", format=fmt).columns("id", "amount")
            .where(col("amount") > 0)
        )  # fmt: skip
        target = IntoTable("staging.orders").replace()

        def execute(self, params: NoParams, *, orders: Any) -> Any:
            return orders

    result = lake.runner().run(one_step(Load))
    assert lake.read("staging.orders", sort="id").rows() == [(1, 5.0), (3, 2.5)]
    assert result.step("Load").rows_read == 2  # the where() ran in the scan


@pytest.mark.parametrize(
    ("name", "reader"),
    [
        ("out.csv", "read_csv"),
        ("out.parquet", "read_parquet"),
        ("out.ndjson", "read_ndjson"),
    ],
)
def test_each_format_is_written_atomically(lake: Any, name: str, reader: str) -> None:
    class Export(ETLStep[NoParams]):
        target = IntoFile(f"exports/{name}")  # format from the suffix

        def execute(self, params: NoParams) -> Any:
            return pl.LazyFrame(SAMPLE)

    result = lake.runner().run(one_step(Export))
    written = getattr(pl, reader)(lake.base / "exports" / name)
    assert written.sort("id")["id"].to_list() == [1, 2, 3]
    assert result.step("Export").rows_written == 3
    assert [p.name for p in (lake.base / "exports").iterdir()] == [name]  # no temp file left


def test_a_failed_file_write_keeps_the_previous_file(lake: Any) -> None:
    target = lake.base / "exports" / "out.csv"
    target.parent.mkdir()
    target.write_text("id\n42\n")

    class Export(ETLStep[NoParams]):
        target = IntoFile("exports/out.csv", format=Format.CSV)

        def execute(self, params: NoParams) -> Any:
            return pl.LazyFrame({"v": ["1", "x"]}).select(pl.col("v").cast(pl.Int64))

    with pytest.raises(PipelineRunError) as info:
        lake.runner().run(one_step(Export))
    assert isinstance(info.value.errors[0], StepExecutionError)
    assert target.read_text() == "id\n42\n"
    assert [p.name for p in target.parent.iterdir()] == ["out.csv"]


def test_delta_at_a_path_reads_and_writes(lake: Any) -> None:
    lake.write("raw.src", {"id": [1, 2]})

    class Copy(ETLStep[NoParams]):
        src = FromFile(str(lake.path("raw.src")), format=Format.DELTA)
        target = IntoFile("exports/copy", format=Format.DELTA)

        def execute(self, params: NoParams, *, src: Any) -> Any:
            return src.with_columns(double=pl.col("id") * 2)

    result = lake.runner().run(one_step(Copy), run_id="r9")
    copied = pl.read_delta(str(lake.base / "exports" / "copy")).sort("id")
    assert copied.rows() == [(1, 2), (2, 4)]
    assert result.step("Copy").version == 0


def test_aliases_and_globs(lake: Any) -> None:
    folder = lake.base / "data" / "events"
    folder.mkdir(parents=True)
    (folder / "a.csv").write_text("kind,n\nclick,1\n")
    (folder / "b.csv").write_text("kind,n\nview,2\n")
    lake.write_config(
        """
        files:
          events_raw: {path: ./data/events/*.csv}
          exports_daily: {path: ./out/events.parquet}
        """
    )

    class Export(ETLStep[NoParams]):
        events = FromFile.alias("events_raw", format=Format.CSV)
        target = IntoFile.alias("exports_daily", format=Format.PARQUET)

        def execute(self, params: NoParams, *, events: Any) -> Any:
            return events

    plan = lake.runner().validate(one_step(Export))
    assert f"@ {folder}/*.csv" in str(plan)
    lake.runner().run(one_step(Export))
    exported = pl.read_parquet(lake.base / "out" / "events.parquet").sort("n")
    assert exported.rows() == [("click", 1), ("view", 2)]


def test_declared_types_parse_csv_columns(lake: Any) -> None:
    path = lake.base / "data" / "typed.csv"
    path.parent.mkdir(parents=True)
    path.write_text("id,day,amount\n1,2024-05-01,1.50\n")

    class Load(ETLStep[NoParams]):
        rows = FromFile("data/typed.csv").types(id="int32", day="date", amount="decimal(10,2)")
        target = IntoTable("staging.typed").replace()

        def execute(self, params: NoParams, *, rows: Any) -> Any:
            return rows

    lake.runner().run(one_step(Load))
    table = lake.read("staging.typed")
    assert table.schema["day"] == pl.Date
    assert table.schema["amount"] == pl.Decimal(10, 2)
    assert table.rows()[0][1] == dt.date(2024, 5, 1)
