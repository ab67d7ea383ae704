"""Injection plans: what a provider needs, computed once from its signature; graph checks.

A :class:`Plan` lists the parameters of a class's ``__init__`` or of a factory, each with
the key (type) to inject, its default and whether ``None`` is acceptable. Plans are built
by :func:`make_plan` with :func:`inspect.signature` and :func:`typing.get_type_hints`;
callers cache them so resolution never inspects a signature twice. :func:`find_problems`
checks a whole graph of plans: missing providers, cycles, lifetime mismatches.
"""

from __future__ import annotations

import enum
import functools
import inspect
import types
import typing
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

from loom.core.errors import CompilationError

__all__ = [
    "MISSING",
    "DependencyError",
    "Missing",
    "Node",
    "Param",
    "Plan",
    "Scope",
    "find_problems",
    "is_protocol",
    "make_plan",
    "missing_text",
    "type_name",
]


class Missing(enum.Enum):
    """Sentinel type: no value (distinct from ``None``, which may be a real value)."""

    MISSING = enum.auto()


MISSING: Final = Missing.MISSING


class Scope(StrEnum):
    """How long a resolved instance lives.

    Attributes:
        SINGLETON: One instance per container, created on first use.
        SCOPED: One instance per scope (one unit of work, one request).
        TRANSIENT: A new instance on every resolution.

    """

    SINGLETON = "singleton"
    SCOPED = "scoped"
    TRANSIENT = "transient"


class DependencyError(CompilationError):
    """A dependency cannot be resolved: missing provider, cycle, or scope mismatch.

    It is a :class:`~loom.core.errors.CompilationError` because every such failure is a
    wiring mistake that :meth:`Container.validate` reports at start-up.

    Attributes:
        problems: One line per problem, each naming the class, parameter and type.

    """

    code = "dependency_error"

    def __init__(self, message: str = "", *, problems: Iterable[str] = ()) -> None:
        self.problems = tuple(problems)
        if not message:
            if len(self.problems) == 1:
                message = self.problems[0]
            else:
                lines = "\n".join(f"  - {p}" for p in self.problems)
                message = f"{len(self.problems)} dependency problems:\n{lines}"
        elif not self.problems:
            self.problems = (message,)
        super().__init__(message)


@dataclass(frozen=True, slots=True)
class Param:
    """One injectable parameter.

    Attributes:
        name: Parameter name (passed as a keyword).
        key: The type to resolve, or ``None`` when the annotation is missing or unresolvable.
        annotation: The annotation as written, for messages.
        default: The parameter's default, or :data:`MISSING`.
        optional: The annotation is ``X | None``: inject ``None`` when ``X`` has no provider.
        problem: Why ``key`` is ``None`` (no annotation, unresolvable name), if it is.

    """

    name: str
    key: Any
    annotation: Any
    default: object
    optional: bool
    problem: str | None = None

    def describe(self, owner: str) -> str:
        """Return ``"Owner.__init__(name: Type)"`` for messages."""
        if self.annotation is inspect.Parameter.empty:
            return f"{owner}({self.name})"
        return f"{owner}({self.name}: {type_name(self.annotation)})"


@dataclass(frozen=True, slots=True)
class Plan:
    """How to call one provider: its target and the parameters to inject.

    Attributes:
        target: The class or factory to call with keyword arguments.
        label: ``"Class.__init__"`` or the factory's qualified name, for messages.
        params: The parameters to inject, in signature order.
        is_async: The target is an ``async def`` factory.
        problems: Problems that make the plan unusable whatever is registered.

    """

    target: Callable[..., Any]
    label: str
    params: tuple[Param, ...]
    is_async: bool
    problems: tuple[str, ...] = ()


def type_name(tp: object) -> str:
    """Return a short readable name for a type or annotation (``RepoFor[Product]``)."""
    if isinstance(tp, str):
        return tp
    if tp is None or tp is types.NoneType:
        return "None"
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is not None and args:
        if origin is typing.Union or origin is types.UnionType:
            return " | ".join(type_name(a) for a in args)
        if origin is typing.Annotated:
            return type_name(args[0])
        return f"{type_name(origin)}[{', '.join(type_name(a) for a in args)}]"
    qualname = getattr(tp, "__qualname__", None)
    if isinstance(qualname, str):
        return qualname
    return repr(tp).removeprefix("typing.")


def is_protocol(tp: object) -> bool:
    """Return whether ``tp`` is a :class:`typing.Protocol` class (not instantiable)."""
    return isinstance(tp, type) and bool(getattr(tp, "_is_protocol", False))


def _unwrap(annotation: Any) -> tuple[Any, bool]:
    """Return ``(key, optional)`` for an annotation: strips ``Annotated`` and ``| None``."""
    if typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    origin = typing.get_origin(annotation)
    if origin is typing.Union or origin is types.UnionType:
        args = [a for a in typing.get_args(annotation) if a is not types.NoneType]
        if len(args) == 1 and len(typing.get_args(annotation)) == 2:
            return _unwrap(args[0])[0], True
    return annotation, False


def _annotated_function(provider: Callable[..., Any]) -> Callable[..., Any] | None:
    """Return the Python function whose annotations describe ``provider``'s parameters."""
    if isinstance(provider, type):
        for name in ("__init__", "__new__"):
            func = getattr(provider, name, None)
            if inspect.isfunction(func):
                return func
        return None
    if isinstance(provider, functools.partial):
        return _annotated_function(provider.func)
    if inspect.isfunction(provider) or inspect.ismethod(provider):
        return provider
    return None


def _hints(provider: Callable[..., Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """Return resolved annotations and, per parameter, why one could not be resolved."""
    func = _annotated_function(provider)
    if func is None:
        return {}, {}
    try:
        return typing.get_type_hints(func, include_extras=True), {}
    except Exception:  # noqa: BLE001 - some name is undefined: resolve each annotation alone
        return _hints_one_by_one(provider, func)


def _hints_one_by_one(
    provider: Callable[..., Any], func: Callable[..., Any]
) -> tuple[dict[str, Any], dict[str, str]]:
    """Resolve annotations one at a time so each failure names its own parameter."""
    raw = getattr(func, "__annotations__", {})
    globalns = getattr(inspect.unwrap(func), "__globals__", {})
    localns = {provider.__name__: provider} if isinstance(provider, type) else {}
    hints: dict[str, Any] = {}
    failures: dict[str, str] = {}
    for name, annotation in raw.items():
        if not isinstance(annotation, str):
            hints[name] = annotation
            continue
        try:
            hints[name] = eval(annotation, globalns, localns)
        except Exception as exc:  # noqa: BLE001 - reported as a plan problem
            failures[name] = (
                f"cannot resolve annotation {annotation!r} ({type(exc).__name__}: {exc})"
            )
    return hints, failures


def _label(provider: Callable[..., Any]) -> str:
    if isinstance(provider, type):
        return f"{provider.__qualname__}.__init__"
    if isinstance(provider, functools.partial):
        return f"partial({_label(provider.func)})"
    return str(getattr(provider, "__qualname__", None) or repr(provider))


_SKIPPED_KINDS: Final = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)


def make_plan(provider: Callable[..., Any]) -> Plan:
    """Compute the injection plan of a class or factory.

    Problems that no registration can fix (a Protocol used as a provider, a positional-only
    parameter without default) are recorded in :attr:`Plan.problems`; parameters whose
    annotation is missing or unresolvable get ``key=None`` and a :attr:`Param.problem`.

    Args:
        provider: A class (its ``__init__`` is inspected) or a factory callable.

    Returns:
        The plan; callers cache it per provider.

    """
    label = _label(provider)
    if is_protocol(provider):
        message = (
            f"{type_name(provider)} is a Protocol and cannot be instantiated; "
            "register a provider for it"
        )
        return Plan(provider, label, (), False, (message,))
    try:
        signature = inspect.signature(provider)
    except (TypeError, ValueError) as exc:
        return Plan(provider, label, (), False, (f"{label}: cannot read its signature ({exc})",))
    hints, failures = _hints(provider)
    params: list[Param] = []
    problems: list[str] = []
    for parameter in signature.parameters.values():
        if parameter.kind in _SKIPPED_KINDS:
            continue
        if parameter.kind is inspect.Parameter.POSITIONAL_ONLY:
            if parameter.default is inspect.Parameter.empty:
                problems.append(
                    f"{label}({parameter.name}): a positional-only parameter cannot be injected"
                )
            continue
        params.append(_param(parameter, hints, failures.get(parameter.name)))
    is_async = inspect.iscoroutinefunction(provider) or (
        isinstance(provider, functools.partial) and inspect.iscoroutinefunction(provider.func)
    )
    return Plan(provider, label, tuple(params), is_async, tuple(problems))


def _param(parameter: inspect.Parameter, hints: dict[str, Any], failure: str | None) -> Param:
    name = parameter.name
    default = MISSING if parameter.default is inspect.Parameter.empty else parameter.default
    annotation = hints.get(name, parameter.annotation)
    if failure is not None:
        return Param(name, None, annotation, default, False, failure)
    if annotation is inspect.Parameter.empty:
        return Param(name, None, annotation, default, False, "it has no annotation")
    key, optional = _unwrap(annotation)
    if not isinstance(key, Hashable):
        reason = f"its annotation {type_name(annotation)} cannot be a key"
        return Param(name, None, annotation, default, False, reason)
    return Param(name, key, annotation, default, optional)


# -- graph checks -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Node:
    """One registered key, as the graph checks see it.

    Attributes:
        lifetime: The key's scope.
        plan: How its provider is called; ``None`` for instances and scope values.

    """

    lifetime: Scope
    plan: Plan | None


def missing_text(label: str, param: Param) -> str:
    """Return ``"Owner.__init__(name: Type): why"`` for a parameter nothing provides."""
    reason = param.problem or f"no provider registered for {type_name(param.key)}"
    return f"{param.describe(label)}: {reason}"


def find_problems(nodes: Mapping[Hashable, Node], roots: Mapping[Hashable, Plan]) -> list[str]:
    """Return every problem of a dependency graph, one line each, without duplicates.

    Args:
        nodes: Every registered key.
        roots: Unregistered classes that will be built (use cases, callbacks).

    """
    plans = {key: node.plan for key, node in nodes.items() if node.plan is not None}
    plans.update(roots)
    problems: list[str] = []
    for plan in plans.values():
        problems.extend(plan.problems)
        for param in plan.params:
            if param.key not in nodes and param.default is MISSING and not param.optional:
                problems.append(missing_text(plan.label, param))
    problems.extend(_cycles(nodes, plans))
    for key, node in nodes.items():
        if node.lifetime is Scope.SINGLETON and node.plan is not None:
            _mismatches(nodes, key, node.plan, (key,), set(), problems)
    return list(dict.fromkeys(problems))


def _cycles(nodes: Mapping[Hashable, Node], plans: Mapping[Hashable, Plan]) -> list[str]:
    graph = {
        key: [p.key for p in plan.params if p.key in plans and p.key in nodes]
        for key, plan in plans.items()
    }
    found: dict[frozenset[Hashable], str] = {}
    done: dict[Hashable, bool] = {}  # False while on the stack, True when finished
    stack: list[Hashable] = []

    def visit(key: Hashable) -> None:
        done[key] = False
        stack.append(key)
        for dep in graph[key]:
            if dep not in done:
                visit(dep)
            elif done[dep] is False:
                cycle = [*stack[stack.index(dep) :], dep]
                text = " -> ".join(type_name(k) for k in cycle)
                found.setdefault(frozenset(cycle), f"dependency cycle: {text}")
        stack.pop()
        done[key] = True

    for key in graph:
        if key not in done:
            visit(key)
    return list(found.values())


def _mismatches(
    nodes: Mapping[Hashable, Node],
    owner: Hashable,
    plan: Plan,
    path: tuple[Hashable, ...],
    seen: set[Hashable],
    out: list[str],
) -> None:
    """Report SCOPED keys a SINGLETON reaches directly or through TRANSIENTs."""
    for param in plan.params:
        dep = nodes.get(param.key)
        if dep is None or param.key in seen:
            continue
        seen.add(param.key)
        if dep.lifetime is Scope.SCOPED:
            via = " -> ".join(type_name(k) for k in (*path, param.key))
            out.append(
                f"{param.describe(plan.label)}: scope mismatch: SINGLETON {type_name(owner)} "
                f"depends on SCOPED {type_name(param.key)} ({via})"
            )
        elif dep.lifetime is Scope.TRANSIENT and dep.plan is not None:
            _mismatches(nodes, owner, dep.plan, (*path, param.key), seen, out)
