"""Running a compiled plan: bind, decode, compute, load, check rules, execute, commit."""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import msgspec

from loom.core import tracing
from loom.core.command._decode import decode_command
from loom.core.di import Container, ScopeContext
from loom.core.engine._compiler import compile_use_case
from loom.core.engine._plan import ExistsStep, LoadStep, UseCasePlan
from loom.core.errors import FieldError, NotFound, RuleViolations, Unauthorized, ValidationError
from loom.core.repository.abc.query import QuerySpec
from loom.core.repository.abc.uow import UnitOfWork, UnitOfWorkFactory
from loom.core.security import PRINCIPAL_KEY
from loom.core.use_case._markers import OnMissing

__all__ = ["Executor", "current_unit_of_work"]


class _Run:
    """One top-level run: its unit of work and, once needed, its DI scope."""

    __slots__ = ("scope", "uow")

    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow
        self.scope: ScopeContext | None = None


_current: contextvars.ContextVar[_Run | None] = contextvars.ContextVar("loom_run", default=None)


def current_unit_of_work() -> UnitOfWork | None:
    """The unit of work of the use case running in this task, if any.

    Job services use it to hold a dispatch until the unit of work commits.
    """
    run = _current.get()
    return run.uow if run is not None else None


class Executor:
    """Runs use cases from their compiled plans.

    Args:
        uow_factory: Opens units of work (loom-store's, or the in-memory one in tests).
        container: Builds use cases whose constructors take dependencies; one DI scope
            is opened per unit of work (shared by nested runs, closed when it ends) with
            the ``UnitOfWork`` in it. Use cases without constructor parameters are
            created directly.
    """

    __slots__ = ("_container", "_plain", "_uow_factory")

    def __init__(self, uow_factory: UnitOfWorkFactory, container: Container | None = None) -> None:
        self._uow_factory = uow_factory
        self._container = container
        self._plain: dict[type[Any], bool] = {}

    async def run(
        self,
        use_case: type[Any] | UseCasePlan,
        *,
        params: Mapping[str, Any] | None = None,
        payload: Any = None,
    ) -> Any:
        """Run ``use_case`` with path/query ``params`` and a command ``payload``.

        A nested run (from inside another use case, through the invoker) shares the
        outer unit of work; otherwise a new one is opened and committed when ``execute``
        returns, or rolled back when anything raises.

        Raises:
            ValidationError: bad params or payload (every problem listed).
            RuleViolations: one or more rules failed (every violation listed).
            NotFound: a ``LoadById``/``Exists`` with ``OnMissing.RAISE`` found nothing.
        """
        plan = use_case if isinstance(use_case, UseCasePlan) else compile_use_case(use_case)
        if tracing.is_enabled():
            with tracing.span(f"use_case {plan.name}", {"loom.use_case": plan.name}):
                return await self._run(plan, params, payload)
        return await self._run(plan, params, payload)

    async def _run(self, plan: UseCasePlan, params: Mapping[str, Any] | None, payload: Any) -> Any:
        values, command = _bind(plan, params or _NO_PARAMS, payload)
        run = _current.get()
        if run is not None:
            return await self._run_in(plan, run, values, command)
        return await self._run_new(plan, values, command)

    async def _run_new(self, plan: UseCasePlan, values: dict[str, Any], command: Any) -> Any:
        run = None
        try:
            async with self._uow_factory(read_only=plan.read_only) as uow:
                run = _Run(uow)
                token = _current.set(run)
                try:
                    return await self._run_in(plan, run, values, command)
                finally:
                    _current.reset(token)
        finally:
            if run is not None and run.scope is not None:
                await run.scope.aclose()

    def _build(self, use_case: type[Any], run: _Run) -> Any:
        plain = self._plain.get(use_case)
        if plain is None:
            plain = self._plain[use_case] = use_case.__init__ is object.__init__
        if plain or self._container is None:
            return use_case()
        if run.scope is None:
            run.scope = self._container.scope({UnitOfWork: run.uow})
        return run.scope.build(use_case)

    async def _run_in(
        self, plan: UseCasePlan, run: _Run, values: dict[str, Any], command: Any
    ) -> Any:
        uow = run.uow
        repos: dict[type[Any], Any] = {}
        if plan.read_models:
            for model in plan.read_models:
                repos[model] = uow.repository(model)
            if len(plan.loads) + len(plan.exists) > 1 and getattr(uow, "concurrent_reads", False):
                steps = [_load(repos[s.model], s, values, command) for s in plan.loads]
                steps += [_exists(repos[s.model], s, values, command) for s in plan.exists]
                values.update(await asyncio.gather(*steps))
            else:
                for load in plan.loads:
                    key = (
                        values.get(load.by_param)
                        if load.by_param is not None
                        else _source(None, load.by_field, values, command)
                    )
                    entity = (
                        None
                        if key is None
                        else await repos[load.model].get(key, profile=load.profile)
                    )
                    if entity is None and load.on_missing is OnMissing.RAISE:
                        raise NotFound(entity=load.model.__name__, id=key)
                    values[load.name] = entity
                for check in plan.exists:
                    name, found = await _exists(repos[check.model], check, values, command)
                    values[name] = found
        if plan.rules:
            violations = None
            for rule in plan.rules:
                violation = rule(command, values)
                if violation is not None:
                    violations = violations or []
                    violations.append(violation)
            if violations:
                raise RuleViolations(violations)
        instance = self._build(plan.use_case, run)
        if plan.model is not None:
            repo = repos.get(plan.model)
            instance.main_repo = repo if repo is not None else uow.repository(plan.model)
        if plan.command is not None:
            values[plan.command.name] = command
        return await instance.execute(**values)


_NO_PARAMS: Mapping[str, Any] = MappingProxyType({})


_UNSET = msgspec.UNSET


def _bind(plan: UseCasePlan, params: Mapping[str, Any], payload: Any) -> tuple[dict[str, Any], Any]:
    values: dict[str, Any] = {}
    errors: list[FieldError] | None = None
    get = params.get
    for binding in plan.params:
        raw = get(binding.name, _UNSET)
        if raw is _UNSET or raw is None:
            if binding.required and raw is _UNSET:
                errors = errors or []
                errors.append(FieldError(binding.name, "parameter required"))
                continue
            values[binding.name] = binding.default if raw is _UNSET else None
            continue
        if type(raw) is binding.exact:
            values[binding.name] = raw
            continue
        try:
            values[binding.name] = binding.convert(raw)
        except ValidationError as exc:
            errors = errors or []
            errors.extend(exc.errors)
    if plan.principal_param is not None:
        principal = get(PRINCIPAL_KEY)
        if principal is None and plan.principal_required:
            raise Unauthorized("this operation needs an authenticated caller")
        values[plan.principal_param] = principal
    if plan.query_param is not None:
        query = get(plan.query_param)
        values[plan.query_param] = query if isinstance(query, QuerySpec) else QuerySpec()
    command = None
    command_binding = plan.command
    if command_binding is not None:
        if isinstance(payload, command_binding.type):
            command = payload
        elif type(payload) is dict and not command_binding.max_lengths:
            try:
                command = msgspec.convert(payload, command_binding.type)
            except msgspec.ValidationError:
                try:
                    command = decode_command(command_binding.type, payload)
                except ValidationError as exc:
                    errors = errors or []
                    errors.extend(exc.errors)
        elif payload is None:
            errors = errors or []
            errors.append(FieldError("", "a request body is required"))
        else:
            try:
                command = decode_command(
                    command_binding.type, payload, max_lengths=command_binding.max_lengths
                )
            except ValidationError as exc:
                errors = errors or []
                errors.extend(exc.errors)
        if command is not None:
            for compute in plan.computes:
                command = compute(command)
    if errors:
        raise ValidationError(errors=errors)
    return values, command


def _source(name: str | None, field: str | None, values: Mapping[str, Any], command: Any) -> Any:
    if name is not None:
        return values.get(name)
    return getattr(command, field) if field is not None and command is not None else None


async def _load(
    repo: Any, step: LoadStep, values: Mapping[str, Any], command: Any
) -> tuple[str, Any]:
    key = _source(step.by_param, step.by_field, values, command)
    entity = None if key is None else await repo.get(key, profile=step.profile)
    if entity is None and step.on_missing is OnMissing.RAISE:
        raise NotFound(entity=step.model.__name__, id=key)
    return step.name, entity


async def _exists(
    repo: Any, step: ExistsStep, values: Mapping[str, Any], command: Any
) -> tuple[str, Any]:
    value = _source(step.from_param, step.from_field, values, command)
    found = False
    if value is not None and value is not msgspec.UNSET:
        found = await repo.exists({step.against: value})
    if not found:
        if step.on_missing is OnMissing.RAISE:
            raise NotFound(f"{step.model.__name__} with {step.against}={value!r} not found")
        if step.on_missing is OnMissing.RETURN_NONE:
            return step.name, None
    return step.name, found
