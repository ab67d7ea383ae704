"""The interface model: ``RestInterface``, ``RestRoute`` and ``build_auto_routes``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, Literal, TypeVar

from loom.core.repository.abc.query import PaginationMode
from loom.core.use_case.crud import crud_use_cases

__all__ = ["AUTO_ACTIONS", "HttpMethod", "RestInterface", "RestRoute", "build_auto_routes"]

TModel = TypeVar("TModel")
HttpMethod = Literal["GET", "POST", "PUT", "PATCH", "DELETE"]
AUTO_ACTIONS = ("create", "get", "list", "update", "delete")


class _Inherit:
    """Sentinel: the route takes the interface's (or the app's) auth."""

    def __repr__(self) -> str:
        return "INHERIT"


INHERIT: Any = _Inherit()


@dataclass(frozen=True, slots=True, kw_only=True)
class RestRoute:
    """One HTTP route served by a use case.

    Args:
        use_case: The use case class that answers the route.
        method: HTTP method.
        path: Path under the interface's prefix; ``{name}`` segments bind the
            ``execute`` parameter of that name.
        status_code: Success status; defaults to 201 for auto-created entities, 204 for
            a ``None`` result, else 200.
        summary: One line for the OpenAPI document.
        description: Longer OpenAPI text.
        tags: OpenAPI tags, added to the interface's.
        auth: An auth hook (a callable or a class resolved by DI), ``None`` for a public
            route, or left out to inherit the interface's / the app's.
        operation_id: OpenAPI operationId; derived from the use case when left out.
        action: For auto-CRUD routes: which CRUD action this is.
    """

    use_case: type[Any]
    method: HttpMethod = "GET"
    path: str = ""
    status_code: int | None = None
    summary: str = ""
    description: str = ""
    tags: tuple[str, ...] = ()
    auth: Any = INHERIT
    operation_id: str | None = None
    action: str | None = field(default=None)


class RestInterface(Generic[TModel]):
    """Declares how a model and its use cases are published over HTTP.

    Class attributes:
        prefix: Path prefix of every route (``"/products"``).
        tags: OpenAPI tags of every route.
        routes: The routes (``RestRoute`` and ``*build_auto_routes(Model, ...)``).
        pagination_mode: Default list pagination (``offset`` or ``cursor``).
        auth: Auth hook for every route that does not set its own.
        profile: Default profile of GET routes.
    """

    prefix: ClassVar[str] = ""
    tags: ClassVar[tuple[str, ...]] = ()
    routes: ClassVar[Sequence[RestRoute]] = ()
    pagination_mode: ClassVar[PaginationMode] = PaginationMode.OFFSET
    auth: ClassVar[Callable[..., Any] | type[Any] | None] = None
    profile: ClassVar[str] = "default"


def build_auto_routes(model: type[Any], include: Sequence[str] = ()) -> tuple[RestRoute, ...]:
    """The auto-CRUD routes of ``model``: ``include=()`` means all five.

    ``POST /`` → 201 with the entity; ``GET /{id}`` → 200/404; ``PATCH /{id}`` → 200 with
    the updated entity/404; ``DELETE /{id}`` → 204/404; ``GET /`` → a page.
    """
    unknown = set(include) - set(AUTO_ACTIONS)
    if unknown:
        raise TypeError(
            f"build_auto_routes({model.__name__}, include=...): unknown {sorted(unknown)}; "
            f"choose from {AUTO_ACTIONS}"
        )
    crud = crud_use_cases(model)
    name = model.__name__
    table: dict[str, RestRoute] = {
        "create": RestRoute(
            use_case=crud.create, method="POST", path="/", status_code=201,
            summary=f"Create a {name}", action="create",
        ),
        "list": RestRoute(
            use_case=crud.list, method="GET", path="/", summary=f"List {name} records",
            action="list",
        ),
        "get": RestRoute(
            use_case=crud.get, method="GET", path="/{id}", summary=f"Get a {name}", action="get"
        ),
        "update": RestRoute(
            use_case=crud.update, method="PATCH", path="/{id}", summary=f"Update a {name}",
            action="update",
        ),
        "delete": RestRoute(
            use_case=crud.delete, method="DELETE", path="/{id}", status_code=204,
            summary=f"Delete a {name}", action="delete",
        ),
    }  # fmt: skip
    chosen = include or AUTO_ACTIONS
    return tuple(table[action] for action in AUTO_ACTIONS if action in chosen)
