"""Run listeners: what gets told when a run and its steps start and end (progress, hooks)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from loom.core.logging import logger
from loom.etl.compiler._plan import ExecutionPlan, StepPlan
from loom.etl.runner._records import RunResult, StepRecord

__all__ = ["Listeners", "RunListener"]


@runtime_checkable
class RunListener(Protocol):
    """Told when a run and its steps start and end; pass some to ``ETLRunner(listeners=...)``.

    Methods are called from the threads running the steps (parallel groups call them
    concurrently). An exception in a listener is logged and ignored.
    """

    def run_started(self, plan: ExecutionPlan, run_id: str) -> None:
        """The run compiled and is about to run ``plan.steps``."""
        ...

    def step_started(self, step: StepPlan) -> None:
        """A step starts reading."""
        ...

    def step_finished(self, record: StepRecord) -> None:
        """A step ended (succeeded, failed, skipped or reused)."""
        ...

    def run_finished(self, result: RunResult) -> None:
        """The run ended."""
        ...


class Listeners:
    """Several listeners as one; their errors are logged, never raised."""

    __slots__ = ("_items",)

    def __init__(self, items: Sequence[RunListener] = ()) -> None:
        self._items = tuple(items)

    def _each(self, method: str, *args: object) -> None:
        for item in self._items:
            try:
                getattr(item, method)(*args)
            except Exception as exc:  # noqa: BLE001 - a listener must not break a run
                logger.opt(exception=exc).warning(
                    "etl listener {} failed in {}: {}", type(item).__name__, method, exc
                )

    def run_started(self, plan: ExecutionPlan, run_id: str) -> None:
        """Tell every listener."""
        self._each("run_started", plan, run_id)

    def step_started(self, step: StepPlan) -> None:
        """Tell every listener."""
        self._each("step_started", step)

    def step_finished(self, record: StepRecord) -> None:
        """Tell every listener."""
        self._each("step_finished", record)

    def run_finished(self, result: RunResult) -> None:
        """Tell every listener."""
        self._each("run_finished", result)
