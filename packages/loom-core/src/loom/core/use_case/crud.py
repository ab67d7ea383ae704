"""The auto-CRUD use cases of a model: create, get, update, delete, list.

``crud_use_cases(Model)`` builds (once per model) the commands ``Create<Model>`` and
``Update<Model>`` (every field a ``Patch``) from the model's columns, and five use cases
that the REST interfaces and ``ApplicationInvoker.entity`` run.
"""

from __future__ import annotations

import types
from dataclasses import dataclass
from typing import Annotated, Any

import msgspec

from loom.core._per_class import per_class
from loom.core.command._command import Command, CommandMeta, Patch
from loom.core.errors import FieldError, NotFound, ValidationError
from loom.core.model import ModelInfo, model_info
from loom.core.repository.abc.query import CursorResult, PageResult, QuerySpec
from loom.core.use_case._markers import Input
from loom.core.use_case.use_case import UseCase

__all__ = ["CrudUseCases", "crud_use_cases"]


@dataclass(frozen=True, slots=True)
class CrudUseCases:
    """The generated commands and use cases of one model."""

    model: type[Any]
    create_command: type[Command]
    update_command: type[Command]
    create: type[UseCase[Any, Any]]
    get: type[UseCase[Any, Any]]
    update: type[UseCase[Any, Any]]
    delete: type[UseCase[Any, Any]]
    list: type[UseCase[Any, Any]]

    def by_action(self, action: str) -> type[UseCase[Any, Any]]:
        """The use case for ``"create" | "get" | "update" | "delete" | "list"``."""
        found: type[UseCase[Any, Any]] = getattr(self, action)
        return found


def _column_type(info: ModelInfo, name: str) -> Any:
    column = info.columns[name]
    tp = column.python_type
    if column.info.length is not None and tp is str:
        tp = Annotated[str, msgspec.Meta(max_length=column.info.length)]
    elif tp is int:
        tp = Annotated[int, msgspec.Meta(ge=-(2**63), le=2**63 - 1)]  # what SQL BIGINT holds
    return tp | None if column.nullable else tp


def _command(name: str, module: str, fields: dict[str, tuple[Any, Any]]) -> type[Command]:
    namespace: dict[str, Any] = {"__annotations__": {}, "__module__": module}
    for field, (annotation, default) in fields.items():
        namespace["__annotations__"][field] = annotation
        if default is not msgspec.NODEFAULT:
            namespace[field] = default
    return CommandMeta(name, (Command,), namespace, frozen=True, kw_only=True)  # type: ignore[return-value]


def _check_profile(info: ModelInfo, profile: str) -> None:
    if profile not in info.profiles:
        raise ValidationError(
            errors=[
                FieldError(
                    "profile", f"unknown profile; one of: {', '.join(sorted(info.profiles))}"
                )
            ]
        )


@per_class
def crud_use_cases(model: type[Any]) -> CrudUseCases:
    """Build (once) the auto-CRUD commands and use cases of ``model``."""
    info = model_info(model)
    module = model.__module__
    pk_type = info.columns[info.pk].python_type
    create_fields: dict[str, tuple[Any, Any]] = {}
    update_fields: dict[str, tuple[Any, Any]] = {}
    for name, column in info.columns.items():
        if column.info.server_generated or (column.info.primary_key and column.info.autoincrement):
            continue
        if column.required_on_create:
            default: Any = msgspec.NODEFAULT
        elif column.info.default_factory is not None:
            default = msgspec.field(default_factory=column.info.default_factory)
        elif column.info.default is not msgspec.NODEFAULT:
            default = column.info.default
        else:
            default = None
        create_fields[name] = (_column_type(info, name), default)
        if not column.info.primary_key:
            update_fields[name] = (Patch[_column_type(info, name)], None)  # type: ignore[misc]
    create_cmd = _command(f"Create{model.__name__}", module, create_fields)
    update_cmd = _command(f"Update{model.__name__}", module, update_fields)
    entity = model.__name__

    async def create(self: Any, cmd: Any = Input()) -> Any:
        return await self.main_repo.create(cmd)

    async def get(self: Any, id: Any, profile: str = "default") -> Any:
        _check_profile(info, profile)
        found = await self.main_repo.get(id, profile=profile)
        if found is None:
            raise NotFound(entity=entity, id=id)
        return found

    async def update(self: Any, id: Any, cmd: Any = Input()) -> Any:
        updated = await self.main_repo.update(id, cmd)
        if updated is None:
            raise NotFound(entity=entity, id=id)
        return updated

    async def delete(self: Any, id: Any) -> None:
        if not await self.main_repo.delete(id):
            raise NotFound(entity=entity, id=id)

    async def list_(self: Any, query: QuerySpec, profile: str = "default") -> Any:
        _check_profile(info, profile)
        return await self.main_repo.list_with_query(query, profile=profile)

    create.__annotations__ = {"cmd": create_cmd, "return": model}
    get.__annotations__ = {"id": pk_type, "profile": str, "return": model}
    update.__annotations__ = {"id": pk_type, "cmd": update_cmd, "return": model}
    delete.__annotations__ = {"id": pk_type, "return": type(None)}
    list_.__annotations__ = {
        "query": QuerySpec,
        "profile": str,
        "return": PageResult[model] | CursorResult[model],  # type: ignore[valid-type]
    }

    def use_case(action: str, execute: Any, read_only: bool) -> type[UseCase[Any, Any]]:
        name = f"{action.capitalize()}{model.__name__}UseCase"
        execute.__name__ = "execute"
        execute.__qualname__ = f"{name}.execute"
        namespace = {"execute": execute, "read_only": read_only, "__module__": module}

        def fill(ns: dict[str, Any]) -> None:
            ns.update(namespace)

        base: Any = UseCase[model, Any]  # type: ignore[valid-type]
        cls: type[UseCase[Any, Any]] = types.new_class(name, (base,), exec_body=fill)
        return cls

    return CrudUseCases(
        model=model,
        create_command=create_cmd,
        update_command=update_cmd,
        create=use_case("create", create, False),
        get=use_case("get", get, True),
        update=use_case("update", update, False),
        delete=use_case("delete", delete, False),
        list=use_case("list", list_, True),
    )
