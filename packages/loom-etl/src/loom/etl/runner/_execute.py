"""Running an execution plan: steps in order, parallel groups on threads, one record per step."""

from __future__ import annotations

import contextvars
import datetime as dt
import threading
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from loom.core.logging import logger
from loom.etl.backend._protocol import Backend, StepContext, WriteOutcome
from loom.etl.compiler._plan import (
    ExecutionPlan,
    Node,
    ParallelNode,
    StepNode,
    StepPlan,
    iter_steps,
)
from loom.etl.dsl._declarations import ETLParams
from loom.etl.errors import EtlError, StepExecutionError
from loom.etl.history._codec import encode_marks
from loom.etl.history._store import RunHistory
from loom.etl.runner._bind import bind_step
from loom.etl.runner._incremental import Marks, narrow_reads
from loom.etl.runner._listeners import Listeners, RunListener
from loom.etl.runner._observe import mark_failed, maybe_span
from loom.etl.runner._recorder import Recorder
from loom.etl.runner._records import RunResult, RunStatus, StepRecord, StepStatus

__all__ = ["RunSetup", "execute_plan"]


@dataclass(frozen=True, slots=True)
class RunSetup:
    """How to run a plan.

    Attributes:
        run_id: The run's id.
        max_workers: Most steps one parallel group runs at once.
        history: Where steps, lineage and marks are recorded (``None``: nowhere).
        attempt: 1, or more when resuming.
        reused: Steps an earlier attempt committed, already recorded as ``reused``.
        listeners: Told as the run goes (progress display, hooks).

    """

    run_id: str
    max_workers: int
    history: RunHistory | None = None
    attempt: int = 1
    reused: Mapping[str, StepRecord] = field(default_factory=dict)
    listeners: Sequence[RunListener] = ()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _target_text(step: StepPlan) -> str:
    return f"{step.target.kind} {step.target.name}"


def _record(step: StepPlan, status: StepStatus, **fields: Any) -> StepRecord:
    return StepRecord(
        name=step.name,
        process=step.process,
        status=status,
        target=_target_text(step),
        write_mode=step.target.mode.value,
        **fields,
    )


class _Run:
    """The mutable state of one run, shared by the threads of its parallel groups."""

    def __init__(
        self, plan: ExecutionPlan, params: ETLParams, backend: Backend, setup: RunSetup
    ) -> None:
        self.plan = plan
        self.params = params
        self.backend = backend
        self.setup = setup
        self.run_id = setup.run_id
        self.max_workers = setup.max_workers
        self.records: dict[str, StepRecord] = {}
        self.errors: list[EtlError] = []
        self.lock = threading.Lock()
        self.excluded = frozenset(plan.excluded)
        self.listeners = Listeners(setup.listeners)
        self.recorder = Recorder(
            setup.history, pipeline=plan.name, run_id=setup.run_id, attempt=setup.attempt
        )

    def node(self, node: Node) -> bool:
        """Run ``node``; return whether everything in it succeeded."""
        if isinstance(node, StepNode):
            return self.step(node.step)
        if isinstance(node, ParallelNode):
            workers = max(1, min(len(node.children), self.max_workers))
            with ThreadPoolExecutor(workers, thread_name_prefix="loom-etl") as pool:
                futures = [
                    pool.submit(contextvars.copy_context().run, self.node, child)
                    for child in node.children
                ]
                return all(future.result() for future in futures)
        ok = True
        for child in node.children:
            if ok:
                ok = self.node(child)
            else:
                for step in iter_steps(child):
                    self.skip(step)
        return ok

    def _keep(self, record: StepRecord, error: EtlError | None = None) -> None:
        with self.lock:
            self.records[record.name] = record
            if error is not None:
                self.errors.append(error)

    def skip(self, step: StepPlan) -> None:
        if step.name in self.excluded:
            return
        record = _record(step, StepStatus.SKIPPED, attempt=self.setup.attempt)
        self._keep(record)
        self.recorder.finished(step, record)
        self.listeners.step_finished(record)
        logger.bind(etl_run_id=self.run_id, etl_step=step.name).info(
            "etl step {} skipped: an earlier step failed", step.name
        )

    def reuse(self, step: StepPlan, record: StepRecord) -> None:
        self._keep(record)
        self.recorder.finished(step, record)
        self.listeners.step_finished(record)
        logger.bind(etl_run_id=self.run_id, etl_step=step.name).info(
            "etl step {} reused: committed version {} in attempt {}",
            step.name,
            record.version,
            record.attempt,
        )

    def step(self, step: StepPlan) -> bool:
        """Run one step and record it; return whether it succeeded."""
        if step.name in self.excluded:
            return True
        earlier = self.setup.reused.get(step.name)
        if earlier is not None:
            self.reuse(step, earlier)
            return True
        log = logger.bind(etl_run_id=self.run_id, etl_pipeline=self.plan.name, etl_step=step.name)
        ctx = StepContext(self.run_id, self.plan.name, step.name)
        started = _now()
        clock = time.perf_counter()
        attributes = {
            "loom.etl.run_id": self.run_id,
            "loom.etl.pipeline": self.plan.name,
            "loom.etl.step": step.name,
            "loom.etl.target": _target_text(step),
            "loom.etl.write_mode": step.target.mode.value,
        }
        log.info("etl step {} started -> {}", step.name, _target_text(step))
        self.listeners.step_started(step)
        self.recorder.started(step, started)
        marks: Marks = {}
        with maybe_span(f"etl.step {step.name}", attributes) as span:
            try:
                outcome = self._execute(step, ctx, marks)
            except Exception as exc:  # noqa: BLE001 - recorded, then raised by the runner
                error = self._etl_error(exc, step)
                record = _record(
                    step,
                    StepStatus.FAILED,
                    rows_read=ctx.rows_read,
                    duration_s=time.perf_counter() - clock,
                    error=str(error),
                    error_code=error.code,
                    started_at=started,
                    attempt=self.setup.attempt,
                )
                self._keep(record, error)
                self.recorder.finished(step, record)
                self.listeners.step_finished(record)
                mark_failed(span, error, error.code)
                bound = log if isinstance(exc, EtlError) else log.opt(exception=exc)
                bound.error("etl step {} failed [{}]: {}", step.name, error.code, error.problem)
                return False
            duration = time.perf_counter() - clock
            if span is not None:
                span.set_attribute("loom.etl.rows_read", ctx.rows_read)
                if outcome.rows_written is not None:
                    span.set_attribute("loom.etl.rows_written", outcome.rows_written)
                if outcome.version is not None:
                    span.set_attribute("loom.etl.version", outcome.version)
        record = _record(
            step,
            StepStatus.SUCCEEDED,
            rows_read=ctx.rows_read,
            rows_written=outcome.rows_written,
            duration_s=duration,
            version=outcome.version,
            started_at=started,
            attempt=self.setup.attempt,
        )
        self._keep(record)
        self.recorder.finished(step, record, ctx=ctx, marks=marks)
        self.listeners.step_finished(record)
        log.info(
            "etl step {} succeeded: rows_read={} rows_written={} version={} in {:.3f}s",
            step.name,
            record.rows_read,
            record.rows_written,
            record.version,
            duration,
        )
        return True

    def _execute(self, step: StepPlan, ctx: StepContext, marks: Marks) -> WriteOutcome:
        bound = bind_step(step, self.params, pipeline=self.plan.name)
        reads, new_marks = narrow_reads(
            bound.reads,
            backend=self.backend,
            history=self.setup.history,
            pipeline=self.plan.name,
            step=step.name,
        )
        if new_marks:
            marks.update(new_marks)
            ctx.metadata["loom.watermarks"] = encode_marks(new_marks)
            self.recorder.stage(step, new_marks)
        ctx.reads = reads
        frames: dict[str, Any] = {}
        for spec in reads:
            frames[spec.attribute] = self.backend.read(spec, ctx)
        if bound.sql is not None:
            frame = self.backend.sql(bound.sql, frames, ctx)
        else:
            instance = step.step()
            try:
                frame = instance.execute(self.params, **frames)
            except EtlError:
                raise
            except Exception as exc:
                raise StepExecutionError(
                    f"execute raised {type(exc).__name__}: {exc}",
                    attribute="execute",
                    fix="fix the step's code; its target was not touched",
                ) from exc
        return self.backend.write(frame, bound.write, ctx)

    def _etl_error(self, exc: Exception, step: StepPlan) -> EtlError:
        if isinstance(exc, EtlError):
            return exc.located(pipeline=self.plan.name, step=step.name)
        error = StepExecutionError(
            f"{type(exc).__name__}: {exc}",
            pipeline=self.plan.name,
            step=step.name,
            fix="see the log for the traceback; the step's target was not touched",
        )
        error.__cause__ = exc
        return error

    def result(self, started: dt.datetime) -> RunResult:
        records = tuple(self.records[s.name] for s in self.plan.steps if s.name in self.records)
        status = RunStatus.FAILED if self.errors else RunStatus.SUCCEEDED
        return RunResult(
            self.run_id, self.plan.name, status, started, _now(), records, self.setup.attempt
        )


def execute_plan(
    plan: ExecutionPlan, params: ETLParams, backend: Backend, setup: RunSetup
) -> tuple[RunResult, tuple[EtlError, ...]]:
    """Run ``plan``; return the result and the errors of the steps that failed.

    A failing step stops the sequence it is in: the steps after it (and after the
    parallel group holding it) are recorded as skipped. Its parallel siblings are
    independent branches and run to their end, so the outcome does not depend on timing.
    Steps in ``setup.reused`` are not run again.
    """
    run = _Run(plan, params, backend, setup)
    run_id = setup.run_id
    started = _now()
    attributes: dict[str, str | int] = {
        "loom.etl.run_id": run_id,
        "loom.etl.pipeline": plan.name,
        "loom.etl.attempt": setup.attempt,
    }
    log = logger.bind(etl_run_id=run_id, etl_pipeline=plan.name)
    attempt = f" (attempt {setup.attempt})" if setup.attempt > 1 else ""
    log.info("etl run {} of {} started{}: {} steps", run_id, plan.name, attempt, len(plan.steps))
    run.listeners.run_started(plan, run_id)
    with maybe_span(f"etl.run {plan.name}", attributes) as span:
        run.node(plan.root)
        result = run.result(started)
        if run.errors:
            mark_failed(span, run.errors[0], run.errors[0].code)
    log.log(
        "INFO" if result.ok else "ERROR",
        "etl run {} of {} {} in {:.3f}s",
        run_id,
        plan.name,
        result.status.value,
        result.duration_s,
    )
    run.listeners.run_finished(result)
    return result, tuple(run.errors)
