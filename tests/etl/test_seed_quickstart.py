"""Seed 000's "ETL quick start" examples run unchanged against a tiny lake."""

from __future__ import annotations

import datetime as dt
import runpy
from pathlib import Path

import pytest

pl = pytest.importorskip("polars")
pytest.importorskip("deltalake")

SEED = Path(__file__).parent / "seed"


def test_first_example_runs_unchanged(lake) -> None:
    today = dt.date.today()
    lake.write(
        "raw.orders",
        {"id": [1, 2, 3], "amount": [10.0, -5.0, 7.5], "run_date": [today] * 3, "note": ["a"] * 3},
    )

    namespace = runpy.run_path(str(SEED / "quickstart.py"))

    staged = lake.read("staging.orders", sort="id")
    assert staged.columns == ["id", "amount", "run_date"]  # .columns() projected "note" away
    assert staged["id"].to_list() == [1, 3]  # amount > 0
    commit = lake.last_commit("staging.orders")
    assert commit["loom.step"] == "CleanOrders"
    assert len(commit["loom.run_id"]) == 32
    plan = namespace["runner"].validate(namespace["DailyPipeline"])
    assert [s.name for s in plan.steps] == ["CleanOrders"]


def test_second_and_third_examples_run_unchanged(lake) -> None:
    from importlib import util

    day = dt.date(2024, 5, 1)
    lake.write(
        "raw.orders",
        {
            "id": [1, 2, 3],
            "run_date": [day, day, dt.date(2024, 6, 1)],
            "amount": [1.0, 2.0, 3.0],
        },
    )
    # an older load of the same partition, and another partition that must survive
    lake.write(
        "staging.orders",
        {
            "id": [9, 8],
            "run_date": [day, dt.date(2024, 4, 1)],
            "amount": [0.0, 0.0],
            "year": [2024, 2024],
            "month": [5, 4],
        },
        partition_by=["year", "month"],
    )
    events = lake.base / "data" / "events.csv"
    events.parent.mkdir()
    events.write_text("day,kind\n2024-05-01,click\n2024-05-02,view\n2024-05-01,buy\n")
    lake.write_config(
        """
        files:
          events_raw: {path: ./data/events.csv}
          exports_daily: {path: ./out/daily.parquet}
        """
    )
    spec = util.spec_from_file_location("seed_fragments", SEED / "fragments.py")
    assert spec is not None
    assert spec.loader is not None
    module = util.module_from_spec(spec)
    spec.loader.exec_module(module)

    result = lake.runner().run(module.FragmentsPipeline, module.DailyParams(run_date=day))

    assert result.ok
    staged = lake.read("staging.orders", sort="id")
    assert staged["id"].to_list() == [1, 2, 8]  # May replaced, April kept, June not loaded
    exported = pl.read_parquet(lake.base / "out" / "daily.parquet")
    assert sorted(exported["kind"].to_list()) == ["buy", "click"]
    assert result.step("ExportEvents").rows_written == 2
