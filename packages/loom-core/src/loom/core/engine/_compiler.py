"""Compiling a use case class into a :class:`UseCasePlan`, once, at start-up."""

from __future__ import annotations

import dataclasses
import inspect
import typing
from collections.abc import Callable, Mapping
from typing import Any

import msgspec
from msgspec import UNSET

from loom.core._per_class import per_class
from loom.core.engine._checks import CheckOne, ParamPredicate
from loom.core.engine._plan import (
    CommandBinding,
    ExistsStep,
    LoadStep,
    ParamBinding,
    RuleCheck,
    UseCasePlan,
)
from loom.core.engine._runner import build_runner
from loom.core.errors import CompilationError, FieldError, RuleViolation, ValidationError
from loom.core.model import is_model, model_info
from loom.core.repository.abc.query import QuerySpec
from loom.core.security import Principal
from loom.core.use_case._field_ref import FieldRef, Presence
from loom.core.use_case._markers import ExistsMarker, InputMarker, LoadMarker
from loom.core.use_case._rules import CheckRule, ComputeStep, PredicateRule
from loom.core.use_case.use_case import use_case_model

__all__ = ["compile_use_case", "converter_for"]


def converter_for(name: str, annotation: Any) -> Callable[[Any], Any]:
    """Return a function coercing a raw value (often a string) to ``annotation``."""
    if annotation is Any or annotation is inspect.Parameter.empty:
        return lambda value: value
    exact = annotation if isinstance(annotation, type) else None

    def convert(value: Any) -> Any:
        if exact is not None and type(value) is exact:
            return value
        try:
            return msgspec.convert(value, annotation, strict=False)
        except msgspec.ValidationError as exc:
            if annotation is str and isinstance(value, int | float):
                return str(value)
            message = str(exc).split(" - at ", 1)[0]
            raise ValidationError(errors=[FieldError(name, message)]) from None

    return convert


@per_class
def compile_use_case(use_case: type[Any]) -> UseCasePlan:
    """Compile ``use_case`` (a ``UseCase`` or ``Job`` subclass) into its plan.

    Raises:
        CompilationError: naming the class, the parameter and the fix, for: two
            ``Input()``, an unannotated parameter, ``by=``/``from_param=`` naming a missing
            parameter, ``F(...)`` naming a field the command lacks, a rule on a command
            the use case does not take.
    """
    owner = use_case.__qualname__
    execute = getattr(use_case, "execute", None)
    if execute is None or not inspect.iscoroutinefunction(execute):
        raise CompilationError(f"{owner}: define `async def execute(self, ...)`")
    try:
        hints = typing.get_type_hints(execute, include_extras=True)
    except NameError as exc:
        raise CompilationError(
            f"{owner}.execute: cannot resolve the annotation {exc.name!r}; import it in the module"
        ) from exc
    signature = inspect.signature(execute)

    params: list[ParamBinding] = []
    command: CommandBinding | None = None
    query_param: str | None = None
    principal_param: str | None = None
    principal_required = False
    loads: list[LoadStep] = []
    exists: list[ExistsStep] = []
    model = use_case_model(use_case)
    errors: list[str] = []

    parameters = list(signature.parameters.values())[1:]
    plain_names = {
        p.name
        for p in parameters
        if not isinstance(p.default, InputMarker | LoadMarker | ExistsMarker)
    }
    for param in parameters:
        where = f"{owner}.execute(..., {param.name}=...)"
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            errors.append(f"{where}: *args/**kwargs are not allowed; name every parameter")
            continue
        annotation = hints.get(param.name, inspect.Parameter.empty)
        if annotation is inspect.Parameter.empty:
            errors.append(f"{where}: parameter {param.name!r} has no annotation; add its type")
            continue
        default = param.default
        if isinstance(default, InputMarker):
            if command is not None:
                errors.append(
                    f"{where}: a second Input() (first: {command.name!r}); "
                    "a use case takes one command"
                )
                continue
            if not (isinstance(annotation, type) and issubclass(annotation, msgspec.Struct)):
                errors.append(f"{where}: Input() needs a Command type, got {annotation!r}")
                continue
            command = CommandBinding(param.name, annotation, _max_lengths(annotation, model))
        elif isinstance(default, LoadMarker):
            _check_model(errors, where, default.model)
            by_param = default.by if default.by in plain_names else None
            by_field = None
            if by_param is None:
                by_field = default.by
            loads.append(
                LoadStep(
                    param.name,
                    default.model,
                    by_param,
                    by_field,
                    default.profile,
                    default.on_missing,
                )
            )
        elif isinstance(default, ExistsMarker):
            _check_model(errors, where, default.model)
            if default.from_param is not None and default.from_param not in plain_names:
                errors.append(
                    f"{where}: Exists(from_param={default.from_param!r}) "
                    "names no parameter of execute(); "
                    f"parameters: {', '.join(sorted(plain_names)) or 'none'}"
                )
            if is_model(default.model) and default.against not in model_info(default.model).columns:
                errors.append(
                    f"{where}: Exists(against={default.against!r}) is not a column of "
                    f"{default.model.__qualname__}"
                )
            exists.append(
                ExistsStep(
                    param.name,
                    default.model,
                    default.from_param,
                    default.from_command,
                    default.against,
                    default.on_missing,
                )
            )
        elif annotation is QuerySpec:
            query_param = param.name
        elif _principal_type(annotation) is not None:
            if principal_param is not None:
                errors.append(f"{where}: a second Principal parameter (first: {principal_param!r})")
                continue
            principal_param = param.name
            principal_required = (
                not _is_optional(annotation) and param.default is inspect.Parameter.empty
            )
        else:
            has_default = default is not inspect.Parameter.empty
            params.append(
                ParamBinding(
                    name=param.name,
                    annotation=annotation,
                    convert=converter_for(param.name, annotation),
                    required=not has_default,
                    default=default if has_default else None,
                    exact=annotation if isinstance(annotation, type) else None,
                )
            )

    command_type = command.type if command else None
    command_fields = set(command_type.__struct_fields__) if command_type else set()
    for load in loads:
        if load.by_field is not None and load.by_field not in command_fields:
            errors.append(
                f"{owner}.execute(..., {load.name}=LoadById(by={load.by_field!r})): "
                f"{load.by_field!r} is neither a parameter of execute() nor a field of the command"
            )
    for check in exists:
        if check.from_field is not None and check.from_field not in command_fields:
            errors.append(
                f"{owner}.execute(..., {check.name}=Exists(from_command={check.from_field!r})): "
                + (
                    "the command has no such field"
                    if command_type
                    else "the command is missing: add an Input() parameter"
                )
            )

    def field_ok(ref: FieldRef | str, what: str) -> str:
        name = ref.name if isinstance(ref, FieldRef) else ref
        if command_type is None:
            errors.append(f"{owner}.{what}: refers to {ref} but execute() has no Input() command")
        elif isinstance(ref, FieldRef) and not issubclass(command_type, ref.command):
            errors.append(
                f"{owner}.{what}: F({ref.command.__qualname__}) but the command is "
                f"{command_type.__qualname__}"
            )
        elif name not in command_fields:
            errors.append(
                f"{owner}.{what}: {command_type.__qualname__} has no field {name!r}; "
                f"fields: {', '.join(sorted(command_fields))}"
            )
        return name

    computes = [
        _compile_compute(step, field_ok, index)
        for index, step in enumerate(getattr(use_case, "computes", ()))
    ]
    all_names = plain_names | {p.name for p in parameters}
    rules: list[RuleCheck] = []
    for index, rule in enumerate(getattr(use_case, "rules", ())):
        compiled = _compile_rule(rule, field_ok, f"rules[{index}]", all_names, errors, owner)
        if compiled is not None:
            rules.append(compiled)

    if errors:
        raise CompilationError("\n".join(errors))
    plan = UseCasePlan(
        use_case=use_case,
        model=model,
        params=tuple(params),
        command=command,
        query_param=query_param,
        loads=tuple(loads),
        exists=tuple(exists),
        computes=tuple(computes),
        rules=tuple(rules),
        read_only=bool(getattr(use_case, "read_only", False)),
        result_type=hints.get("return", Any),
        principal_param=principal_param,
        principal_required=principal_required,
        read_models=tuple(dict.fromkeys([*(s.model for s in loads), *(s.model for s in exists)])),
    )
    return dataclasses.replace(plan, runner=build_runner(plan))


def _principal_type(annotation: Any) -> type[Any] | None:
    candidates = typing.get_args(annotation) or (annotation,)
    for candidate in candidates:
        if isinstance(candidate, type) and issubclass(candidate, Principal):
            return candidate
    return None


def _is_optional(annotation: Any) -> bool:
    return type(None) in typing.get_args(annotation)


def _check_model(errors: list[str], where: str, model: Any) -> None:
    if not is_model(model):
        errors.append(f"{where}: {model!r} is not a loom model")
        return
    try:
        model_info(model)
    except CompilationError as exc:
        errors.append(f"{where}: {exc}")


def _max_lengths(command: type[msgspec.Struct], model: type[Any] | None) -> Mapping[str, int]:
    if model is None or not is_model(model):
        return {}
    columns = model_info(model).columns
    return {
        name: columns[name].info.length  # type: ignore[misc]
        for name in command.__struct_fields__
        if name in columns and columns[name].info.length is not None
    }


def _compile_compute(
    step: ComputeStep, field_ok: Callable[[FieldRef | str, str], str], index: int
) -> Callable[[Any], Any]:
    what = f"computes[{index}]"
    if step.via is None:
        raise CompilationError(f"{what}: Compute.set(...) needs .from_command(..., via=fn)")
    target = field_ok(step.target, what)
    sources = tuple(field_ok(s, what) for s in step.sources)
    via = step.via
    replace = msgspec.structs.replace
    if len(sources) == 1:
        (source,) = sources

        def apply_one(command: Any) -> Any:
            value = getattr(command, source)
            if value is UNSET:
                return command
            return replace(command, **{target: via(value)})

        return apply_one

    def apply(command: Any) -> Any:
        values = [getattr(command, s) for s in sources]
        if UNSET in values:
            return command
        return replace(command, **{target: via(*values)})

    return apply


def _compile_rule(
    rule: Any,
    field_ok: Callable[[FieldRef | str, str], str],
    what: str,
    param_names: set[str],
    errors: list[str],
    owner: str,
) -> RuleCheck | None:
    condition: Presence | None = getattr(rule, "condition", None)
    if condition is not None:
        for ref in condition.fields():
            field_ok(ref, f"{what}.when_present")
    if isinstance(rule, CheckRule):
        names = tuple(field_ok(ref, what) for ref in rule.fields)
        return _check_rule(rule, names, condition)
    if isinstance(rule, PredicateRule):
        missing = [n for n in rule.param_names if n not in param_names]
        if missing:
            errors.append(
                f"{owner}.{what}: from_params names {', '.join(map(repr, missing))}, "
                "not parameters of execute(); "
                f"parameters: {', '.join(sorted(param_names)) or 'none'}"
            )
        fields = tuple(field_ok(ref, what) for ref in rule.command_fields)
        return _predicate_rule(rule, fields, condition)
    errors.append(f"{owner}.{what}: {rule!r} is not a rule; use Rule.check/forbid/require")
    return None


def _present(command: Any) -> frozenset[str]:
    return (
        command.fields_set
        if hasattr(command, "fields_set")
        else frozenset(command.__struct_fields__)
    )


def _check_rule(rule: CheckRule, names: tuple[str, ...], condition: Presence | None) -> RuleCheck:
    via, message, field = rule.via, rule.message, names[0]

    def violation(result: Any) -> RuleViolation | None:
        if result is None or result is False:
            return None
        if isinstance(result, str):
            return RuleViolation(result, field=field)
        return RuleViolation(message or f"{field} is invalid", field=field)

    if len(names) == 1 and condition is None:
        return CheckOne(field, via, message)

    def check(command: Any, _params: Mapping[str, Any]) -> RuleViolation | None:
        if condition is not None and not condition.holds(_present(command)):
            return None
        values = [getattr(command, n) for n in names]
        if UNSET in values:
            return None
        return violation(via(*values))

    return check


def _predicate_rule(
    rule: PredicateRule, fields: tuple[str, ...], condition: Presence | None
) -> RuleCheck:
    predicate, message, violated_when = rule.predicate, rule.message, rule.violated_when
    param_names = rule.param_names
    field = param_names[0] if param_names else (fields[0] if fields else "")

    if condition is None and len(param_names) == 1 and not fields:
        return ParamPredicate(param_names[0], predicate, message, violated_when)

    def check(command: Any, params: Mapping[str, Any]) -> RuleViolation | None:
        if condition is not None and command is not None and not condition.holds(_present(command)):
            return None
        if fields:
            selected = [getattr(command, f) for f in fields]
        else:
            selected = [params.get(n) for n in param_names]
        if bool(predicate(command, params, *selected)) is violated_when:
            return RuleViolation(message, field=field)
        return None

    return check
