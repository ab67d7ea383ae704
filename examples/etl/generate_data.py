"""Generate the example's raw tables: ``raw.orders`` and ``raw.customers`` (Delta).

Usage::

    python generate_data.py [--lake ./lake] [--start 2026-01-01] [--days 3]
                            [--orders 2000] [--customers 200] [--seed 7]

``update_customers(lake, count, at)`` appends changed customers (a later
``updated_at``), which the pipeline's incremental ``SyncCustomers`` step picks up.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
from pathlib import Path

import polars as pl
from deltalake import write_deltalake

COUNTRIES = ("ES", "FR", "DE", "IT", "PT", "NL")
START = dt.date(2026, 1, 1)
EPOCH = dt.datetime(2025, 12, 31, tzinfo=dt.UTC)


def _table(lake: Path, name: str) -> str:
    return str(lake.joinpath(*name.split(".")))


def orders(
    start: dt.date, days: int, per_day: int, customers: int, rng: random.Random
) -> pl.DataFrame:
    rows = []
    for day in range(days):
        run_date = start + dt.timedelta(days=day)
        for _ in range(per_day):
            amount = round(rng.uniform(-20, 300), 2)  # a few refunds (negative) to filter out
            rows.append((len(rows) + 1, rng.randint(1, customers), amount, run_date))
    return pl.DataFrame(
        rows,
        schema={"id": pl.Int64, "customer_id": pl.Int64, "amount": pl.Float64, "run_date": pl.Date},
        orient="row",
    )


def customers(count: int, at: dt.datetime, rng: random.Random, first_id: int = 1) -> pl.DataFrame:
    ids = range(first_id, first_id + count)
    return pl.DataFrame(
        {
            "customer_id": list(ids),
            "name": [f"customer {i}" for i in ids],
            "country": [rng.choice(COUNTRIES) for _ in ids],
            "updated_at": [at + dt.timedelta(seconds=i) for i in ids],
        },
        schema={
            "customer_id": pl.Int64,
            "name": pl.String,
            "country": pl.String,
            "updated_at": pl.Datetime("us", "UTC"),
        },
    )


def generate(
    lake: str | Path = "lake",
    *,
    start: dt.date = START,
    days: int = 3,
    per_day: int = 2000,
    customer_count: int = 200,
    seed: int = 7,
) -> dict[str, int]:
    """Write ``raw.orders`` and ``raw.customers`` under ``lake`` (replacing them)."""
    rng = random.Random(seed)
    lake = Path(lake)
    order_rows = orders(start, days, per_day, customer_count, rng)
    customer_rows = customers(customer_count, EPOCH, rng)
    write_deltalake(_table(lake, "raw.orders"), order_rows.to_arrow(), mode="overwrite")
    write_deltalake(_table(lake, "raw.customers"), customer_rows.to_arrow(), mode="overwrite")
    return {"raw.orders": order_rows.height, "raw.customers": customer_rows.height}


def update_customers(lake: str | Path, count: int, at: dt.datetime, *, seed: int = 11) -> int:
    """Append ``count`` changed customers (new countries, ``updated_at`` from ``at``)."""
    rng = random.Random(seed)
    changed = customers(count, at, rng).with_columns(pl.col("name") + " (moved)")
    write_deltalake(_table(Path(lake), "raw.customers"), changed.to_arrow(), mode="append")
    return changed.height


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lake", default="lake")
    parser.add_argument("--start", type=dt.date.fromisoformat, default=START)
    parser.add_argument("--days", type=int, default=3)
    parser.add_argument("--orders", type=int, default=2000, help="orders per day")
    parser.add_argument("--customers", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    counts = generate(
        args.lake,
        start=args.start,
        days=args.days,
        per_day=args.orders,
        customer_count=args.customers,
        seed=args.seed,
    )
    for table, rows in counts.items():
        print(f"{table}: {rows} rows")


if __name__ == "__main__":
    main()
