"""Resuming runs and reconciling the history with the tables' commits after a crash.

A step counts as committed for run ``R`` when the history says it succeeded, or when its
target table has a commit carrying ``loom.run_id = R`` and ``loom.step = <step>`` — the
second covers a process that died after the commit and before the history write. Such
a step is reconciled: its history row becomes ``succeeded`` and the high-water marks in
the commit's ``loom.watermarks`` (or the ones staged before the commit) are promoted.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from loom.core.logging import logger
from loom.etl.backend._protocol import Backend, Commit
from loom.etl.compiler._plan import ExecutionPlan, StepPlan
from loom.etl.dsl._sources import Format
from loom.etl.history._codec import decode_marks
from loom.etl.history._rows import RunRow, StepRow
from loom.etl.history._store import RunHistory
from loom.etl.runner._recorder import lineage_of
from loom.etl.runner._records import StepRecord, StepStatus

__all__ = ["active", "committed_steps", "is_alive", "reconcile_unfinished"]

_active: set[str] = set()
_active_lock = threading.Lock()


@contextmanager
def active(run_id: str) -> Iterator[None]:
    """Mark ``run_id`` as running in this process for the duration of the block."""
    with _active_lock:
        _active.add(run_id)
    try:
        yield
    finally:
        with _active_lock:
            _active.discard(run_id)


def is_alive(run: RunRow) -> bool:
    """Whether the process of a ``running`` run may still be running it.

    On this host the process id is checked; a run recorded by another host is assumed
    alive (the history cannot tell).
    """
    if run.status != "running":
        return False
    if run.host != socket.gethostname() or run.pid is None:
        return True
    if run.pid == os.getpid():
        with _active_lock:
            return run.run_id in _active
    try:
        os.kill(run.pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _commit_of(backend: Backend, step: StepPlan, run_id: str) -> Commit | None:
    target = step.target
    if target.kind == "file" and target.format is not Format.DELTA:
        return None
    return backend.find_commit(target.location, run_id, step.name)


def _reconcile(
    history: RunHistory, plan: ExecutionPlan, step: StepPlan, row: StepRow, commit: Commit
) -> StepRow:
    now = dt.datetime.now(dt.UTC)
    fixed = dataclasses.replace(
        row,
        status="succeeded",
        version=commit.version,
        rows_written=commit.rows_written,
        error=None,
        error_code=None,
        finished_at=now,
    )
    text = commit.metadata.get("loom.watermarks")
    marks = decode_marks(text) if text else None
    lineage = lineage_of(
        step,
        run_id=row.run_id,
        attempt=row.attempt,
        rows_written=commit.rows_written,
        version=commit.version,
    )
    history.step_finished(fixed, pipeline=plan.name, lineage=lineage, marks=marks)
    logger.bind(etl_run_id=row.run_id, etl_step=step.name).warning(
        "etl step {} of run {} committed version {} but the history missed it; reconciled",
        step.name,
        row.run_id,
        commit.version,
    )
    return fixed


def reconcile_unfinished(
    plan: ExecutionPlan, history: RunHistory, backend: Backend, *, current: str
) -> None:
    """Settle steps of earlier runs of ``plan`` that the history still shows as running.

    A step whose commit is in its table is recorded as succeeded (its marks advance); a
    step of a run whose process is gone and that did not commit is recorded as failed.
    """
    for row, _status in history.unfinished_steps(plan.name):
        if row.run_id == current:
            continue
        run = history.run(row.run_id)
        if run is None:
            continue
        try:
            step = plan.step(row.step)
        except KeyError:
            continue
        commit = _commit_of(backend, step, row.run_id)
        if commit is not None:
            _reconcile(history, plan, step, row, commit)
        elif not is_alive(run):
            failed = dataclasses.replace(
                row,
                status="failed",
                error="interrupted: the process stopped before the step committed",
                error_code="etl_interrupted",
                finished_at=dt.datetime.now(dt.UTC),
            )
            history.step_finished(failed, pipeline=plan.name)
        if not is_alive(run) and run.status == "running":
            history.finish_run(
                run.run_id,
                status="failed",
                finished_at=dt.datetime.now(dt.UTC),
                error="interrupted: the process stopped",
            )


def _reused(row: StepRow, step: StepPlan) -> StepRecord:
    return StepRecord(
        name=step.name,
        process=step.process,
        status=StepStatus.REUSED,
        target=f"{step.target.kind} {step.target.name}",
        write_mode=step.target.mode.value,
        rows_read=row.rows_read,
        rows_written=row.rows_written,
        duration_s=row.duration_s or 0.0,
        version=row.version,
        started_at=row.started_at,
        attempt=row.attempt,
    )


def committed_steps(
    plan: ExecutionPlan, history: RunHistory, backend: Backend, run_id: str
) -> dict[str, StepRecord]:
    """The steps of ``plan`` that run ``run_id`` already committed, as ``reused`` records.

    Steps committed after the history's last word about them are reconciled first.
    """
    latest = {row.step: row for row in history.latest_steps(run_id)}
    done: dict[str, StepRecord] = {}
    for step in plan.steps:
        row = latest.get(step.name)
        if row is not None and row.status in ("succeeded", "reused"):
            done[step.name] = _reused(row, step)
            continue
        commit = _commit_of(backend, step, run_id)
        if commit is None:
            continue
        if row is None:
            row = StepRow(
                run_id, step.name, 1, step.index, step.process, "running",
                f"{step.target.kind} {step.target.name}", step.target.mode.value,
                None, None, None, None, None, None, None, None,
            )  # fmt: skip
        done[step.name] = _reused(_reconcile(history, plan, step, row, commit), step)
    return done
