"""Generating one specialised coroutine function per plan, once, at compile time.

The generic way to run a plan walks its bindings, steps and rules in loops, keeps values
in a dict and goes through a few coroutine frames. For a plan known at start-up all of
that is decided already, so :func:`build_runner` writes the plan out as straight-line
Python — each parameter bound by its own lines, each load awaited in place, simple rules
inlined, ``execute`` called with its keyword arguments — and compiles it. The generated
source is registered with :mod:`linecache`, so tracebacks through it show real lines.

A runner is called as ``runner(executor, params, payload)``; it binds and validates
(raising :class:`~loom.core.errors.ValidationError` with every problem), then either
joins the run already under way in this task (a nested ``invoke``) or opens a unit of
work, runs the body in it and commits.
"""

from __future__ import annotations

import asyncio
import itertools
import linecache
from collections.abc import Mapping
from typing import Any

import msgspec

from loom.core.command._decode import decode_command
from loom.core.engine._checks import CheckOne, ParamPredicate
from loom.core.engine._plan import ExistsStep, LoadStep, Runner, UseCasePlan
from loom.core.engine._run import Run, current_run
from loom.core.errors import (
    FieldError,
    NotFound,
    RuleViolation,
    RuleViolations,
    Unauthorized,
    ValidationError,
)
from loom.core.repository.abc.query import QuerySpec
from loom.core.security import PRINCIPAL_KEY
from loom.core.use_case._markers import OnMissing

__all__ = ["build_runner"]

_serial = itertools.count()


class _Source:
    """Lines of Python with indentation, and the objects they refer to by name."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.names: dict[str, Any] = {}
        self._known: dict[int, str] = {}
        self._depth = 0

    def line(self, text: str) -> None:
        self.lines.append("    " * self._depth + text)

    def ref(self, prefix: str, value: Any) -> str:
        """A global name in the generated module bound to ``value``."""
        name = self._known.get(id(value))
        if name is None:
            name = self._known[id(value)] = f"{prefix}_{len(self.names)}"
            self.names[name] = value
        return name

    def indent(self) -> _Indent:
        return _Indent(self)


class _Indent:
    def __init__(self, source: _Source) -> None:
        self._source = source

    def __enter__(self) -> None:
        self._source._depth += 1

    def __exit__(self, *_: object) -> None:
        self._source._depth -= 1


def build_runner(plan: UseCasePlan) -> Runner:
    """Write ``plan`` out as one coroutine function and compile it."""
    src = _Source()
    local: dict[str, str] = {}
    """``execute`` parameter name → the local variable holding its value."""

    src.line("async def run(executor, params, payload):")
    with src.indent():
        src.line("errors = None")
        if plan.params or plan.principal_param or plan.query_param:
            src.line("get = params.get")
        for index, binding in enumerate(plan.params):
            var = local[binding.name] = f"p{index}"
            _bind_param(src, var, binding.name, binding)
        if plan.principal_param is not None:
            var = local[plan.principal_param] = "principal"
            src.line(f"principal = get({src.ref('PRINCIPAL_KEY', PRINCIPAL_KEY)})")
            if plan.principal_required:
                src.line("if principal is None:")
                with src.indent():
                    src.line(
                        f"raise Unauthorized({'this operation needs an authenticated caller'!r})"
                    )
        if plan.query_param is not None:
            local[plan.query_param] = "query"
            src.line(f"query = get({plan.query_param!r})")
            src.line("if not isinstance(query, QuerySpec):")
            with src.indent():
                src.line("query = QuerySpec()")
        _bind_command(src, plan)
        src.line("if errors:")
        with src.indent():
            src.line("raise ValidationError(errors=errors)")

        src.line("run = current_run.get()")
        src.line("if run is not None:")
        with src.indent():
            _body(src, plan, dict(local))
        src.line("run = None")
        src.line("try:")
        with src.indent():
            src.line(f"async with executor._uow_factory(read_only={plan.read_only!r}) as uow:")
            with src.indent():
                src.line("run = Run(uow)")
                src.line("token = current_run.set(run)")
                src.line("try:")
                with src.indent():
                    _body(src, plan, dict(local), opened=True)
                src.line("finally:")
                with src.indent():
                    src.line("current_run.reset(token)")
        src.line("finally:")
        with src.indent():
            src.line("if run is not None and run.scope is not None:")
            with src.indent():
                src.line("await run.scope.aclose()")

    filename = f"<loom plan {plan.use_case.__module__}.{plan.name} #{next(_serial)}>"
    text = "\n".join(src.lines) + "\n"
    namespace: dict[str, Any] = {**_GLOBALS, **src.names}
    exec(compile(text, filename, "exec"), namespace)
    linecache.cache[filename] = (len(text), None, text.splitlines(True), filename)
    runner: Runner = namespace["run"]
    runner.__qualname__ = runner.__name__ = f"run_{plan.use_case.__name__}"
    return runner


_GLOBALS: dict[str, Any] = {
    "UNSET": msgspec.UNSET,
    "FieldError": FieldError,
    "NotFound": NotFound,
    "QuerySpec": QuerySpec,
    "Run": Run,
    "RuleViolation": RuleViolation,
    "RuleViolations": RuleViolations,
    "Unauthorized": Unauthorized,
    "ValidationError": ValidationError,
    "MsgspecValidationError": msgspec.ValidationError,
    "convert": msgspec.convert,
    "current_run": current_run,
    "decode_command": decode_command,
    "gather": asyncio.gather,
}


def _bind_param(src: _Source, var: str, name: str, binding: Any) -> None:
    src.line(f"raw = get({name!r}, UNSET)")
    keyword = "if"
    if binding.exact is not None:
        src.line(f"if type(raw) is {src.ref('EXACT', binding.exact)}:")
        with src.indent():
            src.line(f"{var} = raw")
        keyword = "elif"
    src.line(f"{keyword} raw is UNSET:")
    with src.indent():
        if binding.required:
            src.line(f"{var} = None")
            _error(src, f"append(FieldError({name!r}, 'parameter required'))")
        else:
            src.line(f"{var} = {src.ref('DEFAULT', binding.default)}")
    src.line("elif raw is None:")
    with src.indent():
        src.line(f"{var} = None")
    src.line("else:")
    with src.indent():
        _attempt(src, var, f"{src.ref('CONVERT', binding.convert)}(raw)")


def _bind_command(src: _Source, plan: UseCasePlan) -> None:
    src.line("cmd = None")
    binding = plan.command
    if binding is None:
        return
    command_type = src.ref("COMMAND", binding.type)
    src.line(f"if isinstance(payload, {command_type}):")
    with src.indent():
        src.line("cmd = payload")
    if not binding.max_lengths:
        src.line("elif type(payload) is dict:")
        with src.indent():
            src.line("try:")
            with src.indent():
                src.line(f"cmd = convert(payload, {command_type})")
            src.line("except MsgspecValidationError:")
            with src.indent():
                _attempt(src, "cmd", f"decode_command({command_type}, payload)")
    src.line("elif payload is None:")
    with src.indent():
        _error(src, "append(FieldError('', 'a request body is required'))")
    src.line("else:")
    with src.indent():
        lengths = src.ref("MAX_LENGTHS", binding.max_lengths)
        _attempt(src, "cmd", f"decode_command({command_type}, payload, max_lengths={lengths})")
    if plan.computes:
        src.line("if cmd is not None:")
        with src.indent():
            for compute in plan.computes:
                src.line(f"cmd = {src.ref('COMPUTE', compute)}(cmd)")


def _attempt(src: _Source, var: str, call: str) -> None:
    """``var = call``; a ``ValidationError`` joins ``errors`` and leaves ``var`` ``None``."""
    src.line("try:")
    with src.indent():
        src.line(f"{var} = {call}")
    src.line("except ValidationError as exc:")
    with src.indent():
        src.line(f"{var} = None")
        _error(src, "extend(exc.errors)")


def _error(src: _Source, method_call: str) -> None:
    """Record a binding problem: ``errors.<method_call>`` on a list made when first needed."""
    src.line("errors = errors or []")
    src.line(f"errors.{method_call}")


def _body(src: _Source, plan: UseCasePlan, local: dict[str, str], *, opened: bool = False) -> None:
    """Loads, existence checks, rules and ``execute``; ``local`` gains the loaded names."""
    if not opened:
        src.line("uow = run.uow")
    repos = {}
    for index, model in enumerate(plan.read_models):
        repos[model] = f"repo{index}"
        src.line(f"repo{index} = uow.repository({src.ref('MODEL', model)})")
    steps: list[LoadStep | ExistsStep] = [*plan.loads, *plan.exists]
    for index, step in enumerate(steps):
        local[step.name] = f"s{index}"
    if len(steps) > 1:
        src.line("if getattr(uow, 'concurrent_reads', False):")
        with src.indent():
            _concurrent_steps(src, steps, repos, local)
        src.line("else:")
        with src.indent():
            _serial_steps(src, steps, repos, local)
    else:
        _serial_steps(src, steps, repos, local)
    _rules(src, plan, local)
    use_case = src.ref("USE_CASE", plan.use_case)
    if plan.use_case.__init__ is object.__init__:
        src.line(f"instance = {use_case}()")
    else:
        src.line(f"instance = executor._build({use_case}, run)")
    if plan.model is not None:
        repo = repos.get(plan.model) or f"uow.repository({src.ref('MODEL', plan.model)})"
        src.line(f"instance.main_repo = {repo}")
    if plan.command is not None:
        local[plan.command.name] = "cmd"
    arguments = ", ".join(f"{name}={var}" for name, var in local.items())
    src.line(f"return await instance.execute({arguments})")


def _key(src: _Source, param: str | None, field: str | None, local: Mapping[str, str]) -> str:
    """The expression giving a load's key or an existence check's value."""
    if param is not None:
        return local.get(param, "None")
    if field is None:
        return "None"
    return f"(None if cmd is None else cmd.{field})"


def _serial_steps(
    src: _Source,
    steps: list[LoadStep | ExistsStep],
    repos: Mapping[type[Any], str],
    local: Mapping[str, str],
) -> None:
    for step in steps:
        var, repo = local[step.name], repos[step.model]
        if isinstance(step, LoadStep):
            src.line(f"key = {_key(src, step.by_param, step.by_field, local)}")
            profile = step.profile
            src.line(f"{var} = None if key is None else await {repo}.get(key, profile={profile!r})")
            if step.on_missing is OnMissing.RAISE:
                src.line(f"if {var} is None:")
                with src.indent():
                    src.line(f"raise NotFound(entity={step.model.__name__!r}, id=key)")
            continue
        src.line(f"value = {_key(src, step.from_param, step.from_field, local)}")
        src.line(f"{var} = False")
        src.line("if value is not None and value is not UNSET:")
        with src.indent():
            src.line(f"{var} = await {repo}.exists({{{step.against!r}: value}})")
        if step.on_missing is OnMissing.RAISE:
            src.line(f"if not {var}:")
            with src.indent():
                prefix = f"{step.model.__name__} with {step.against}="
                src.line(f"raise NotFound({prefix!r} + repr(value) + ' not found')")
        elif step.on_missing is OnMissing.RETURN_NONE:
            src.line(f"if not {var}:")
            with src.indent():
                src.line(f"{var} = None")


def _concurrent_steps(
    src: _Source,
    steps: list[LoadStep | ExistsStep],
    repos: Mapping[type[Any], str],
    local: Mapping[str, str],
) -> None:
    """Every load and check at once (stores that read concurrently); steps are independent."""
    calls = []
    for step in steps:
        repo = repos[step.model]
        if isinstance(step, LoadStep):
            key = _key(src, step.by_param, step.by_field, local)
            calls.append(f"{src.ref('LOAD', _load)}({repo}, {src.ref('STEP', step)}, {key})")
        else:
            value = _key(src, step.from_param, step.from_field, local)
            calls.append(f"{src.ref('EXISTS', _exists)}({repo}, {src.ref('STEP', step)}, {value})")
    targets = ", ".join(local[step.name] for step in steps)
    src.line(f"{targets}, = await gather({', '.join(calls)})")


def _rules(src: _Source, plan: UseCasePlan, local: Mapping[str, str]) -> None:
    if not plan.rules:
        return
    if any(not isinstance(rule, CheckOne) for rule in plan.rules):
        # Rules see the bound values and loaded entities by name (not the command).
        names = [n for n in local if plan.command is None or n != plan.command.name]
        src.line("values = {" + ", ".join(f"{n!r}: {local[n]}" for n in names) + "}")
    src.line("violations = None")
    for rule in plan.rules:
        name = src.ref("RULE", rule)
        if isinstance(rule, CheckOne):
            src.line(f"value = cmd.{rule.field}")
            src.line("if value is not UNSET:")
            with src.indent():
                src.line(f"result = {src.ref('VIA', rule.via)}(value)")
                src.line("if result is not None and result is not False:")
                with src.indent():
                    _violation(src, f"{name}.violation(result)")
        elif isinstance(rule, ParamPredicate):
            argument = local.get(rule.name, "None")
            predicate = src.ref("PREDICATE", rule.predicate)
            src.line(f"if bool({predicate}(cmd, values, {argument})) is {rule.violated_when!r}:")
            with src.indent():
                _violation(src, f"{name}.violation()")
        else:
            src.line(f"violation = {name}(cmd, values)")
            src.line("if violation is not None:")
            with src.indent():
                _violation(src, "violation")
    src.line("if violations:")
    with src.indent():
        src.line("raise RuleViolations(violations)")


def _violation(src: _Source, expression: str) -> None:
    src.line("if violations is None:")
    with src.indent():
        src.line("violations = []")
    src.line(f"violations.append({expression})")


async def _load(repo: Any, step: LoadStep, key: Any) -> Any:
    entity = None if key is None else await repo.get(key, profile=step.profile)
    if entity is None and step.on_missing is OnMissing.RAISE:
        raise NotFound(entity=step.model.__name__, id=key)
    return entity


async def _exists(repo: Any, step: ExistsStep, value: Any) -> Any:
    found = False
    if value is not None and value is not msgspec.UNSET:
        found = await repo.exists({step.against: value})
    if not found:
        if step.on_missing is OnMissing.RAISE:
            raise NotFound(f"{step.model.__name__} with {step.against}={value!r} not found")
        if step.on_missing is OnMissing.RETURN_NONE:
            return None
    return found
