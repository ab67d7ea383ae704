"""Writing a step's output to a file (CSV, Parquet, NDJSON) or a Delta table at a path.

Files are streamed with Polars' sinks. A local file is written under a temporary name
next to it and renamed into place, so a failed step leaves the previous file as it was
and readers never see half a file. Remote files are written in place by the sink.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from pathlib import Path

import polars as pl
from deltalake import CommitProperties, DeltaTable, write_deltalake

from loom.etl.backend._protocol import StepContext, WriteOutcome, WriteSpec
from loom.etl.delta._errors import translate
from loom.etl.delta._read import count_rows, storage_options
from loom.etl.delta._schema import check_writable
from loom.etl.delta._stream import stream
from loom.etl.dsl._sources import Format

__all__ = ["write_file"]


class _Counter:
    def __init__(self) -> None:
        self.rows = 0
        self._lock = threading.Lock()

    def add(self, count: int) -> None:
        with self._lock:
            self.rows += count


def _sink(frame: pl.LazyFrame, fmt: Format, path: str, options: dict[str, str] | None) -> None:
    if fmt is Format.CSV:
        frame.sink_csv(path, storage_options=options)
    elif fmt is Format.JSON:
        frame.sink_ndjson(path, storage_options=options)
    else:
        frame.sink_parquet(path, storage_options=options)


def _local_path(uri: str) -> Path:
    return Path(uri.removeprefix("file://"))


def _write_delta(
    frame: pl.LazyFrame, spec: WriteSpec, ctx: StepContext, options: dict[str, str] | None
) -> WriteOutcome:
    schema = frame.collect_schema()
    check_writable(schema, spec)
    state = stream(frame, schema)
    metadata = {**ctx.commit_metadata(), "loom.write_mode": "replace"}
    try:
        write_deltalake(
            spec.location.uri,
            state.reader,
            mode="overwrite",
            schema_mode="overwrite",
            storage_options=options,
            commit_properties=CommitProperties(custom_metadata=metadata),
        )
    except Exception as exc:  # noqa: BLE001 - the stream's own error explains it best
        cause = state.error or exc
        if not isinstance(cause, Exception):
            raise cause from None
        raise translate(cause, ctx, doing=f"writing {spec.name}") from cause
    version = DeltaTable(spec.location.uri, storage_options=options).version()
    return WriteOutcome(state.rows, version)


def write_file(frame: pl.LazyFrame, spec: WriteSpec, ctx: StepContext) -> WriteOutcome:
    """Replace the file of ``spec`` with ``frame``; the old file stays if anything fails."""
    options = storage_options(spec.location.storage_options)
    doing = f"writing file {spec.name}"
    try:
        if spec.format is Format.DELTA:
            return _write_delta(frame, spec, ctx, options)
        check_writable(frame.collect_schema(), spec)
    except Exception as exc:
        raise translate(exc, ctx, doing=doing) from exc
    counter = _Counter()
    counted = count_rows(frame, counter.add)
    if not spec.location.is_local:
        try:
            _sink(counted, spec.format, spec.location.uri, options)
        except Exception as exc:
            raise translate(exc, ctx, doing=doing) from exc
        return WriteOutcome(counter.rows, None)
    final = _local_path(spec.location.uri)
    final.parent.mkdir(parents=True, exist_ok=True)
    temporary = final.with_name(f".loom-{uuid.uuid4().hex[:12]}-{final.name}")
    try:
        _sink(counted, spec.format, str(temporary), None)
        os.replace(temporary, final)
    except Exception as exc:
        _remove_late(temporary)
        raise translate(exc, ctx, doing=doing) from exc
    return WriteOutcome(counter.rows, None)


def _remove_late(path: Path) -> None:
    """Remove a failed write's temporary file, also when the engine's writer thread
    creates or flushes it shortly after the error surfaced."""
    absent = 0
    for _ in range(50):
        try:
            path.unlink()
            absent = 0
        except FileNotFoundError:
            absent += 1
            if absent >= 3:
                return
        time.sleep(0.02)
