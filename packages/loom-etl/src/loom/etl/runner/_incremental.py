"""Incremental sources: narrowing a read to the rows past the step's high-water mark.

For a source declared ``.incremental(cursor="updated_at")`` the step reads the window
``mark < updated_at <= upper``, where ``mark`` is what the last successful run of the
step reached (from the run history) and ``upper`` is the largest cursor value past the
mark, fixed when the step starts — rows arriving while the step runs fall in the next
run's window. ``upper`` becomes the new mark only once the step has committed.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from loom.core.logging import logger
from loom.etl.backend._protocol import Backend, ReadSpec
from loom.etl.dsl._expr import And, Col, Compare, Expr, Lit
from loom.etl.errors import HistoryError, SchemaMismatchError
from loom.etl.history._codec import encode_value
from loom.etl.history._store import RunHistory

__all__ = ["Marks", "narrow_reads"]

Marks = dict[str, tuple[str, Any]]
"""New high-water marks of one step: ``{source attribute: (cursor column, value)}``."""


def _and(left: Expr | None, right: Expr) -> Expr:
    return right if left is None else And(left, right)


def _window(
    spec: ReadSpec, backend: Backend, history: RunHistory, pipeline: str, step: str
) -> tuple[ReadSpec, tuple[str, Any] | None]:
    cursor = spec.cursor
    assert cursor is not None
    mark = history.watermark(pipeline, step, spec.attribute)
    previous = mark.value if mark is not None and mark.cursor == cursor else None
    after = spec.predicate
    if previous is not None:
        after = _and(after, Compare(">", Col(cursor), Lit(previous)))
    upper = backend.max_value(dataclasses.replace(spec, predicate=after), cursor)
    log = logger.bind(etl_pipeline=pipeline, etl_step=step)
    if upper is None:
        log.info(
            "etl step {} source {}: no rows past the high-water mark {}={!r}",
            step,
            spec.attribute,
            cursor,
            previous,
        )
        return dataclasses.replace(spec, predicate=Lit(False)), None
    try:
        encode_value(upper)
    except TypeError as exc:
        raise SchemaMismatchError(
            str(exc),
            attribute=spec.attribute,
            column=cursor,
            fix="choose an int, float, decimal, date, datetime, time or string cursor column",
        ) from None
    log.info(
        "etl step {} source {}: reading {} in ({!r}, {!r}]",
        step,
        spec.attribute,
        cursor,
        previous,
        upper,
    )
    narrowed = _and(after, Compare("<=", Col(cursor), Lit(upper)))
    return dataclasses.replace(spec, predicate=narrowed), (cursor, upper)


def narrow_reads(
    reads: tuple[ReadSpec, ...],
    *,
    backend: Backend,
    history: RunHistory | None,
    pipeline: str,
    step: str,
) -> tuple[tuple[ReadSpec, ...], Marks]:
    """``reads`` with every incremental source narrowed to its window, and the new marks.

    Raises:
        HistoryError: a source is incremental but the runner keeps no run history.
        SchemaMismatchError: the cursor's values cannot be kept as a mark.
    """
    narrowed: list[ReadSpec] = []
    marks: Marks = {}
    for spec in reads:
        if spec.cursor is None:
            narrowed.append(spec)
            continue
        if history is None:
            raise HistoryError(
                f"source {spec.attribute!r} is incremental, but the runner keeps no run "
                "history to hold its high-water mark",
                attribute=spec.attribute,
                fix="enable the history section (history.enabled: true), or drop .incremental()",
            )
        window, mark = _window(spec, backend, history, pipeline, step)
        narrowed.append(window)
        if mark is not None:
            marks[spec.attribute] = mark
    return tuple(narrowed), marks
