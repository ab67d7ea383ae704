"""Running compiled plans: each through its generated runner, traced when tracing is on."""

from __future__ import annotations

from collections.abc import Coroutine, Mapping
from types import MappingProxyType
from typing import Any

from loom.core import tracing
from loom.core.di import Container
from loom.core.engine._compiler import compile_use_case
from loom.core.engine._plan import Runner, UseCasePlan
from loom.core.engine._run import Run, current_unit_of_work
from loom.core.engine._runner import build_runner
from loom.core.repository.abc.uow import UnitOfWork, UnitOfWorkFactory

__all__ = ["Executor", "current_unit_of_work"]


class Executor:
    """Runs use cases from their compiled plans.

    Args:
        uow_factory: Opens units of work (loom-store's, or the in-memory one in tests).
        container: Builds use cases whose constructors take dependencies; one DI scope
            is opened per unit of work (shared by nested runs, closed when it ends) with
            the ``UnitOfWork`` in it. Use cases without constructor parameters are
            created directly.
    """

    __slots__ = ("_container", "_runners", "_uow_factory")

    def __init__(self, uow_factory: UnitOfWorkFactory, container: Container | None = None) -> None:
        self._uow_factory = uow_factory
        self._container = container
        self._runners: dict[Any, tuple[UseCasePlan, Runner]] = {}

    def run(
        self,
        use_case: type[Any] | UseCasePlan,
        *,
        params: Mapping[str, Any] | None = None,
        payload: Any = None,
    ) -> Coroutine[Any, Any, Any]:
        """Run ``use_case`` with path/query ``params`` and a command ``payload`` (await it).

        A nested run (from inside another use case, through the invoker) shares the
        outer unit of work; otherwise a new one is opened and committed when ``execute``
        returns, or rolled back when anything raises.

        Raises:
            ValidationError: bad params or payload (every problem listed).
            RuleViolations: one or more rules failed (every violation listed).
            NotFound: a ``LoadById``/``Exists`` with ``OnMissing.RAISE`` found nothing.
        """
        try:
            plan, runner = self._runners[use_case]
        except KeyError:
            plan, runner = self._runners[use_case] = self._plan(use_case)
        if tracing.is_enabled():
            return self._traced(plan, runner, params or _NO_PARAMS, payload)
        return runner(self, params or _NO_PARAMS, payload)

    @staticmethod
    def _plan(use_case: type[Any] | UseCasePlan) -> tuple[UseCasePlan, Runner]:
        plan = use_case if isinstance(use_case, UseCasePlan) else compile_use_case(use_case)
        return plan, plan.runner or build_runner(plan)

    async def _traced(
        self, plan: UseCasePlan, runner: Runner, params: Mapping[str, Any], payload: Any
    ) -> Any:
        with tracing.span(f"use_case {plan.name}", {"loom.use_case": plan.name}):
            return await runner(self, params, payload)

    def _build(self, use_case: type[Any], run: Run) -> Any:
        """An instance of ``use_case`` built by the container in the run's DI scope."""
        if self._container is None:
            return use_case()
        if run.scope is None:
            run.scope = self._container.scope({UnitOfWork: run.uow})
        return run.scope.build(use_case)


_NO_PARAMS: Mapping[str, Any] = MappingProxyType({})
