"""ETL overhead: a loom pipeline against hand-written Polars + deltalake doing the same work.

Data: 10M sales rows in 8 Parquet files (generated in a temporary folder), plus 1M
changed rows. Work, in one run: filter (amount > 0), group by (customer_id, region),
write a Delta table partitioned by region (~2M rows), then upsert the 1M changed rows
(800k updates, 200k inserts) on (customer_id, region).

- ``loom``: two steps (``replace()`` then ``upsert(keys=...)``) run by ``ETLRunner``
  with its run history on (SQLite), as a user would run them;
- ``hand``: ``scan_parquet → filter → group_by → collect(engine="streaming") →
  write_delta(partition_by)``, then ``DeltaTable.merge(...)
  .when_matched_update_all().when_not_matched_insert_all()``.

Each variant runs in its own process (``--child``); wall and CPU time (all threads) are
measured in the child around the work (imports excluded), peak RSS by the parent with
``os.wait4`` (the child's own ``ru_maxrss``). Variants
alternate over ``--repeat`` rounds; medians (and best wall times) are compared. Goal:
loom ≤ 1.05x wall time and ≤ 1.2x peak memory. On a busy host wall times swing widely;
the CPU ratio is the steadier figure then.

Run: make bench   (or .venv/bin/python tools/bench/etl.py [--rows N] [--repeat N])
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REGIONS = 8
KEYS = ("customer_id", "region")


# -- data -------------------------------------------------------------------------------


def generate(data: Path, rows: int, files: int, changes: int) -> None:
    """Write ``rows`` sales rows in ``files`` Parquet files and ``changes`` changed rows."""
    import polars as pl

    customers = rows // 5  # ~5 sales per customer -> ~2M groups for 10M rows
    sales = data / "sales"
    sales.mkdir(parents=True)
    per_file = rows // files
    for index in range(files):
        start = index * per_file
        mix = (pl.int_range(start, start + per_file, dtype=pl.Int64) * 2654435761) % 4294967291
        customer = mix % customers
        pl.select(
            customer_id=customer,
            region="r" + (customer % REGIONS).cast(pl.String),
            day=pl.date(2024, 1, 1) + pl.duration(days=mix % 30),
            amount=((mix % 20_000) - 1_000).cast(pl.Float64) / 100.0,
            qty=(mix % 7 + 1).cast(pl.Int32),
        ).write_parquet(sales / f"part-{index:02d}.parquet")
    i = pl.int_range(0, changes, dtype=pl.Int64)
    updates = int(changes * 0.8)
    customer = pl.when(i < updates).then((i * 7919) % customers).otherwise(customers + i)
    pl.select(
        customer_id=customer,
        region="r" + (customer % REGIONS).cast(pl.String),
        total=(i % 5_000).cast(pl.Float64) / 10.0,
        orders=(i % 9 + 1).cast(pl.Int64),
    ).write_parquet(data / "changes.parquet")


def aggregate(frame: Any) -> Any:
    """The group-by both variants compute."""
    import polars as pl

    return frame.group_by(*KEYS).agg(total=pl.col("amount").sum(), orders=pl.len().cast(pl.Int64))


# -- variants (run in a child process) ----------------------------------------------------


def run_hand(data: Path, out: Path) -> None:
    import polars as pl
    from deltalake import DeltaTable

    target = str(out / "mart" / "totals")
    sales = pl.scan_parquet(str(data / "sales" / "*.parquet")).filter(pl.col("amount") > 0)
    aggregate(sales).collect(engine="streaming").write_delta(
        target, mode="overwrite", delta_write_options={"partition_by": ["region"]}
    )
    changes = pl.read_parquet(data / "changes.parquet")
    on = " AND ".join(f"t.{k} = s.{k}" for k in KEYS)
    (
        DeltaTable(target)
        .merge(changes.to_arrow(), on, source_alias="s", target_alias="t")
        .when_matched_update_all()
        .when_not_matched_insert_all()
        .execute()
    )


def run_loom(data: Path, out: Path) -> None:
    import polars as pl

    from loom.etl import (
        ETLParams,
        ETLPipeline,
        ETLProcess,
        ETLRunner,
        ETLStep,
        FromFile,
        IntoTable,
        col,
        params,
    )

    class Bench(ETLParams):
        min_amount: float = 0.0

    class Totals(ETLStep[Bench]):
        sales = FromFile(str(data / "sales" / "*.parquet")).where(col("amount") > params.min_amount)
        target = IntoTable("mart.totals", partition_by=("region",)).replace()

        def execute(self, params: Bench, *, sales: pl.LazyFrame) -> pl.LazyFrame:
            return aggregate(sales)  # type: ignore[no-any-return]

    class ApplyChanges(ETLStep[Bench]):
        changes = FromFile(str(data / "changes.parquet"))
        target = IntoTable("mart.totals").upsert(keys=KEYS)

        def execute(self, params: Bench, *, changes: pl.LazyFrame) -> pl.LazyFrame:
            return changes

    class Daily(ETLProcess[Bench]):
        steps = (Totals, ApplyChanges)

    class BenchPipeline(ETLPipeline[Bench]):
        processes = (Daily,)

    runner = ETLRunner.from_config({"storage": {"root": str(out)}}, show=False)
    result = runner.run(BenchPipeline)
    assert result.ok


def child(variant: str, data: Path, out: Path) -> None:
    import polars as pl  # imports are not part of the measured work
    from deltalake import DeltaTable

    if variant == "loom":
        from loguru import logger

        import loom.etl.delta  # noqa: F401  (the backend, imported before the timer too)

        logger.remove()
    work = run_loom if variant == "loom" else run_hand
    started, cpu = time.perf_counter(), time.process_time()
    work(data, out)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    table = pl.read_delta(str(out / "mart" / "totals"))
    check = {
        "rows": table.height,
        "total": round(float(table["total"].sum()), 2),
        "partitions": sorted(DeltaTable(str(out / "mart" / "totals")).metadata().partition_columns),
    }
    print(json.dumps({"seconds": seconds, "cpu_s": cpu, "check": check}))


# -- parent -------------------------------------------------------------------------------


def measure(variant: str, data: Path, work: Path) -> dict[str, Any]:
    out = work / variant
    shutil.rmtree(out, ignore_errors=True)
    log = work / f"{variant}.json"
    with log.open("w") as stdout:
        process = subprocess.Popen(
            [sys.executable, __file__, "--child", variant, "--data", str(data), "--out", str(out)],
            stdout=stdout,
        )
        _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"{variant} failed with exit code {process.returncode}")
    report: dict[str, Any] = json.loads(log.read_text().strip().splitlines()[-1])
    report["peak_mb"] = usage.ru_maxrss / 1024  # KiB on Linux
    return report


def main(rows: int, files: int, changes: int, repeat: int) -> None:
    work = Path(tempfile.mkdtemp(prefix="loom-bench-etl-"))
    try:
        data = work / "data"
        started = time.perf_counter()
        generate(data, rows, files, changes)
        print(
            f"etl.py: {rows:,} rows in {files} Parquet files + {changes:,} changed rows "
            f"(generated in {time.perf_counter() - started:.1f}s), {repeat} rounds"
        )
        runs: dict[str, list[dict[str, Any]]] = {"hand": [], "loom": []}
        for round_ in range(repeat):
            order = ("hand", "loom") if round_ % 2 == 0 else ("loom", "hand")
            for variant in order:
                runs[variant].append(measure(variant, data, work))
        checks = {v: r[0]["check"] for v, r in runs.items()}
        if checks["hand"] != checks["loom"]:
            raise SystemExit(f"the variants disagree: {checks}")
        print(f"  result: {checks['loom']['rows']:,} rows, partitioned by region, same in both")
        print(
            f"  {'variant':<8} {'wall s median':>14} {'best':>7} {'peak RSS MB median':>19} "
            f"{'CPU s median':>13}"
        )
        medians = {}
        for variant, reports in runs.items():
            seconds = [r["seconds"] for r in reports]
            medians[variant] = (
                statistics.median(seconds),
                statistics.median(r["peak_mb"] for r in reports),
                statistics.median(r["cpu_s"] for r in reports),
            )
            wall, peak, cpu = medians[variant]
            print(f"  {variant:<8} {wall:>14.2f} {min(seconds):>7.2f} {peak:>19.0f} {cpu:>13.2f}")
        best = {v: min(r["seconds"] for r in reports) for v, reports in runs.items()}
        time_ratio = medians["loom"][0] / medians["hand"][0]
        memory_ratio = medians["loom"][1] / medians["hand"][1]
        cpu_ratio = medians["loom"][2] / medians["hand"][2]
        print(
            f"  time ratio    {time_ratio:.3f}x median, {best['loom'] / best['hand']:.3f}x best"
            "   (goal ≤ 1.05x)"
        )
        print(f"  memory ratio  {memory_ratio:.3f}x median   (goal ≤ 1.20x)")
        print(f"  CPU ratio     {cpu_ratio:.3f}x median   (steadier than wall time on a busy host)")
        print(f"  load average  {', '.join(f'{x:.1f}' for x in os.getloadavg())} (noise if high)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="loom-etl against hand-written Polars + Delta")
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--files", type=int, default=8)
    parser.add_argument("--changes", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--child", choices=("hand", "loom"))
    parser.add_argument("--data", type=Path)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.data, args.out)
    else:
        main(args.rows, args.files, args.changes, args.repeat)
