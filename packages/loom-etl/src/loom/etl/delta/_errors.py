"""Turning Polars and Delta exceptions into :class:`~loom.etl.errors.EtlError` s."""

from __future__ import annotations

import re

import polars.exceptions as pe

from loom.etl.backend._protocol import StepContext
from loom.etl.dsl._sources import Format
from loom.etl.errors import (
    EtlError,
    SourceReadError,
    StepExecutionError,
    UnknownColumnError,
)

__all__ = ["brief", "column_in", "translate"]

_COLUMN = re.compile(
    r"""(?:column|field)\s+['"`]([^'"`]+)['"`]"""
    r"""|col\("([^"]+)"\)"""
    r"""|not found:\s*['"`]?([A-Za-z0-9_]+)"""
)
_PARSE = ("could not parse", "found more fields", "invalid csv", "malformed", "ragged")


def brief(error: BaseException) -> str:
    """The first paragraph of an exception's text, on one line."""
    text = str(error).strip()
    for prefix in (
        "Generic DeltaTable error: ",
        "Arrow error: ",
        "C Data interface error: ",
        "External error: ",
    ):
        while prefix in text and text.index(prefix) < 80:
            text = text.replace(prefix, "", 1)
    paragraph = text.split("\n\n", 1)[0]
    return " ".join(line.strip() for line in paragraph.splitlines() if line.strip()) or (
        type(error).__name__
    )


def column_in(text: str) -> str | None:
    """The first column a Polars/Delta message names, if any."""
    match = _COLUMN.search(text)
    if match is None:
        return None
    return next(g for g in match.groups() if g)


def _file_source(ctx: StepContext) -> str | None:
    files = [r for r in ctx.reads if r.kind == "file" and r.format in (Format.CSV, Format.JSON)]
    return files[0].attribute if len(files) == 1 else None


def translate(error: BaseException, ctx: StepContext, *, doing: str) -> EtlError:
    """An :class:`EtlError` for ``error`` raised while ``doing`` (e.g. "writing table x")."""
    if isinstance(error, EtlError):
        return error
    text = brief(error)
    column = column_in(str(error))
    if isinstance(error, pe.ColumnNotFoundError):
        return UnknownColumnError(
            f"{doing}: column not found: {text}",
            column=column,
            fix="fix the column name in execute/sql, or read the column from the source",
        )
    lowered = text.lower()
    if isinstance(error, pe.ComputeError) and any(p in lowered for p in _PARSE):
        return SourceReadError(
            f"{doing}: a source has a malformed row: {text}",
            attribute=_file_source(ctx),
            column=column,
            fix="fix the file, or declare the column types with .types(...) / adjust "
            "the reader options",
        )
    if isinstance(error, FileNotFoundError):
        return SourceReadError(
            f"{doing}: {text}",
            attribute=_file_source(ctx),
            fix="check the path and that the files exist",
        )
    return StepExecutionError(
        f"{doing} failed: {type(error).__name__}: {text}",
        column=column,
        fix="check the step's logic and its sources' data and types; the target was not touched",
    )
