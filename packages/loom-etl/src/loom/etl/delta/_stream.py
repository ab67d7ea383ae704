"""Streaming a lazy frame into a Delta write: batches counted, rows checked, errors kept.

The frame is executed by Polars' streaming engine batch by batch and handed to
``deltalake`` as an Arrow stream, so a step's output never has to fit in memory. When
the write mode replaces a slice, each batch is checked against the slice's predicate on
the way; a row outside it stops the stream, and ``deltalake`` then commits nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import polars as pl
import pyarrow as pa

__all__ = ["Rejected", "Stream", "stream"]

_CHECK = "__loom_in_slice__"


class Rejected(Exception):
    """Raised inside the stream when a batch has rows outside the slice being replaced."""

    def __init__(self, sample: pl.DataFrame, count: int) -> None:
        super().__init__(f"{count} rows outside the slice")
        self.sample = sample
        self.count = count


@dataclass(slots=True)
class Stream:
    """A running stream's state: rows passed so far and the error that stopped it."""

    reader: Any = None
    rows: int = 0
    error: BaseException | None = None


def stream(frame: pl.LazyFrame, schema: pl.Schema, check: pl.Expr | None = None) -> Stream:
    """An Arrow record-batch reader over ``frame`` (whose schema is ``schema``).

    Args:
        frame: The output to write.
        schema: Its schema (already collected by the caller).
        check: A predicate every row must satisfy (null counts as outside).

    """
    state = Stream()
    arrow_schema = pl.DataFrame(schema=schema).to_arrow().schema
    source = frame if check is None else frame.with_columns(check.fill_null(False).alias(_CHECK))

    def batches() -> Iterator[Any]:
        try:
            for batch in source.collect_batches(lazy=True, maintain_order=False):
                if check is not None:
                    outside = batch.filter(~pl.col(_CHECK))
                    if outside.height:
                        raise Rejected(outside.drop(_CHECK).head(5), outside.height)
                    batch = batch.drop(_CHECK)
                state.rows += batch.height
                for record_batch in batch.to_arrow().to_batches():
                    if record_batch.schema != arrow_schema:
                        record_batch = record_batch.cast(arrow_schema)
                    yield record_batch
        except BaseException as exc:
            state.error = exc
            raise

    state.reader = pa.RecordBatchReader.from_batches(arrow_schema, batches())
    return state
