"""Compiling interfaces into framework-neutral route specs, once, at start-up."""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from loom.core.engine import UseCasePlan, compile_use_case
from loom.core.errors import CompilationError
from loom.core.interface._model import INHERIT, RestInterface, RestRoute
from loom.core.repository.abc.query import PaginationMode

__all__ = ["PathParam", "QueryParam", "RouteSpec", "compile_interfaces", "join_path"]

_SEGMENT = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass(frozen=True, slots=True)
class PathParam:
    """A ``{name}`` path segment, bound to the ``execute`` parameter of that name."""

    name: str
    type: Any
    convert: Callable[[Any], Any]


@dataclass(frozen=True, slots=True)
class QueryParam:
    """A plain ``execute`` parameter read from the query string."""

    name: str
    type: Any
    required: bool
    default: Any
    convert: Callable[[Any], Any]


@dataclass(frozen=True, slots=True, eq=False)
class RouteSpec:
    """Everything an adapter needs to serve one route; built once per app.

    Specs compare and hash by identity, so adapters can key caches on them.
    """

    method: str
    path: str
    path_params: tuple[PathParam, ...]
    query_params: tuple[QueryParam, ...]
    body_type: type[Any] | None
    response_type: Any
    status_code: int
    plan: UseCasePlan
    summary: str
    description: str
    tags: tuple[str, ...]
    operation_id: str
    list_model: type[Any] | None
    pagination_mode: PaginationMode
    auth: Any
    interface: type[Any]
    action: str | None

    @property
    def is_list(self) -> bool:
        """True when the route takes list parameters (limit, sort, filters...)."""
        return self.list_model is not None


def join_path(prefix: str, path: str) -> str:
    """Join an interface prefix and a route path: one slash between, none at the end."""
    return "/" + "/".join(p for p in (*prefix.split("/"), *path.split("/")) if p)


def compile_interfaces(
    interfaces: Iterable[type[RestInterface[Any]]], *, default_auth: Any = None
) -> tuple[RouteSpec, ...]:
    """Compile every route of ``interfaces``.

    Raises:
        CompilationError: listing every problem at once — a path segment that binds no
            ``execute`` parameter, two routes on the same method and path, a use case
            that does not compile.
    """
    specs: list[RouteSpec] = []
    errors: list[str] = []
    seen: dict[tuple[str, str], str] = {}
    operation_ids: set[str] = set()
    for interface in interfaces:
        for index, route in enumerate(interface.routes):
            where = f"{interface.__qualname__}.routes[{index}] ({route.method} {route.path or '/'})"
            if not isinstance(route, RestRoute):
                errors.append(f"{where}: {route!r} is not a RestRoute")
                continue
            try:
                plan = compile_use_case(route.use_case)
            except CompilationError as exc:
                errors.append(f"{where}: {exc}")
                continue
            path = join_path(interface.prefix, route.path)
            key = (route.method, _SEGMENT.sub("{}", path))
            if key in seen:
                errors.append(f"{where}: {route.method} {path} is already served by {seen[key]}")
                continue
            seen[key] = where
            spec = _spec(interface, route, plan, path, where, errors, default_auth)
            if spec is None:
                continue
            operation_id = spec.operation_id
            suffix = 2
            while operation_id in operation_ids:
                operation_id = f"{spec.operation_id}_{suffix}"
                suffix += 1
            operation_ids.add(operation_id)
            specs.append(_replace_operation_id(spec, operation_id))
    if errors:
        raise CompilationError("\n".join(errors))
    return tuple(specs)


def _replace_operation_id(spec: RouteSpec, operation_id: str) -> RouteSpec:
    if spec.operation_id == operation_id:
        return spec
    from dataclasses import replace

    return replace(spec, operation_id=operation_id)


def _spec(
    interface: type[RestInterface[Any]],
    route: RestRoute,
    plan: UseCasePlan,
    path: str,
    where: str,
    errors: list[str],
    default_auth: Any,
) -> RouteSpec | None:
    bindings = {p.name: p for p in plan.params}
    segment_names = _SEGMENT.findall(path)
    path_params: list[PathParam] = []
    ok = True
    for name in segment_names:
        binding = bindings.get(name)
        if binding is None:
            errors.append(
                f"{where}: path segment {{{name}}} binds no parameter of "
                f"{plan.name}.execute(); parameters: {', '.join(bindings) or 'none'}"
            )
            ok = False
            continue
        path_params.append(PathParam(name, binding.annotation, binding.convert))
    if not ok:
        return None
    query_params = tuple(
        QueryParam(b.name, b.annotation, b.required, b.default, b.convert)
        for b in plan.params
        if b.name not in segment_names
    )
    if route.status_code is not None:
        status = route.status_code
    elif plan.result_type is type(None) or plan.result_type is None:
        status = 204
    else:
        status = 200
    doc = inspect.cleandoc(plan.use_case.__doc__ or "")
    summary, _, details = doc.partition("\n")
    details = details.strip()
    auth = route.auth
    if auth is INHERIT:
        auth = interface.auth if interface.auth is not None else default_auth
    return RouteSpec(
        method=route.method,
        path=path,
        path_params=tuple(path_params),
        query_params=query_params,
        body_type=plan.command.type if plan.command else None,
        response_type=plan.result_type,
        status_code=status,
        plan=plan,
        summary=route.summary or summary,
        description=route.description or (details if not route.summary else ""),
        tags=tuple(dict.fromkeys((*interface.tags, *route.tags))),
        operation_id=route.operation_id or _operation_id(route, plan, interface),
        list_model=plan.model if plan.query_param is not None else None,
        pagination_mode=interface.pagination_mode,
        auth=auth,
        interface=interface,
        action=route.action,
    )


def _operation_id(route: RestRoute, plan: UseCasePlan, interface: type[Any]) -> str:
    name = plan.use_case.__name__.removesuffix("UseCase")
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()
