"""Running an execution plan: steps in order, parallel groups on threads, one record per step."""

from __future__ import annotations

import contextvars
import datetime as dt
import threading
import time
from concurrent.futures import ThreadPoolExecutor
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
from loom.etl.runner._bind import bind_step
from loom.etl.runner._observe import mark_failed, maybe_span
from loom.etl.runner._records import RunResult, RunStatus, StepRecord, StepStatus

__all__ = ["execute_plan"]


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
        self,
        plan: ExecutionPlan,
        params: ETLParams,
        backend: Backend,
        run_id: str,
        max_workers: int,
    ) -> None:
        self.plan = plan
        self.params = params
        self.backend = backend
        self.run_id = run_id
        self.max_workers = max_workers
        self.records: dict[str, StepRecord] = {}
        self.errors: list[EtlError] = []
        self.lock = threading.Lock()
        self.excluded = frozenset(plan.excluded)

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
        self._keep(_record(step, StepStatus.SKIPPED))
        logger.bind(etl_run_id=self.run_id, etl_step=step.name).info(
            "etl step {} skipped: an earlier step failed", step.name
        )

    def step(self, step: StepPlan) -> bool:
        """Run one step and record it; return whether it succeeded."""
        if step.name in self.excluded:
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
        with maybe_span(f"etl.step {step.name}", attributes) as span:
            try:
                outcome = self._execute(step, ctx)
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
                )
                self._keep(record, error)
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
        )
        self._keep(record)
        log.info(
            "etl step {} succeeded: rows_read={} rows_written={} version={} in {:.3f}s",
            step.name,
            record.rows_read,
            record.rows_written,
            record.version,
            duration,
        )
        return True

    def _execute(self, step: StepPlan, ctx: StepContext) -> WriteOutcome:
        bound = bind_step(step, self.params, pipeline=self.plan.name)
        ctx.reads = bound.reads
        frames: dict[str, Any] = {}
        for spec in bound.reads:
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
        return RunResult(self.run_id, self.plan.name, status, started, _now(), records)


def execute_plan(
    plan: ExecutionPlan,
    params: ETLParams,
    backend: Backend,
    *,
    run_id: str,
    max_workers: int,
) -> tuple[RunResult, tuple[EtlError, ...]]:
    """Run ``plan``; return the result and the errors of the steps that failed.

    A failing step stops the sequence it is in: the steps after it (and after the
    parallel group holding it) are recorded as skipped. Its parallel siblings are
    independent branches and run to their end, so the outcome does not depend on timing.
    """
    run = _Run(plan, params, backend, run_id, max_workers)
    started = _now()
    attributes = {"loom.etl.run_id": run_id, "loom.etl.pipeline": plan.name}
    log = logger.bind(etl_run_id=run_id, etl_pipeline=plan.name)
    log.info("etl run {} of {} started: {} steps", run_id, plan.name, len(plan.steps))
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
    return result, tuple(run.errors)
