"""Entity introspection: what loom-store and the REST layer read from a model class."""

from __future__ import annotations

import sys
import types
import typing
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any, Union, get_args, get_origin

import msgspec

from loom.core._per_class import per_class
from loom.core.errors import CompilationError
from loom.core.model._fields import ColumnInfo, ProjectionInfo, RelationInfo, RelationKind

__all__ = [
    "ColumnSpec",
    "ModelInfo",
    "ProjectionSpec",
    "RelationSpec",
    "datetime_fields",
    "is_model",
    "model_info",
    "unwrap_optional",
]


@dataclass(frozen=True, slots=True)
class ColumnSpec:
    """One column: its name, resolved Python type (``None`` stripped) and declaration."""

    name: str
    python_type: Any
    nullable: bool
    info: ColumnInfo
    has_default: bool

    @property
    def required_on_create(self) -> bool:
        """True when a create command must carry this column's value."""
        return not (self.has_default or self.nullable or self.info.server_generated)


@dataclass(frozen=True, slots=True)
class RelationSpec:
    """One relation field, with its target model resolved."""

    name: str
    info: RelationInfo
    target: type[Any]

    @property
    def kind(self) -> RelationKind:
        """The relation's cardinality."""
        return self.info.kind


@dataclass(frozen=True, slots=True)
class ProjectionSpec:
    """One projection field."""

    name: str
    info: ProjectionInfo


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """Everything declared about a model, resolved once per class."""

    model: type[Any]
    table_name: str
    columns: dict[str, ColumnSpec]
    primary_key: tuple[str, ...]
    relations: dict[str, RelationSpec]
    projections: dict[str, ProjectionSpec]
    profiles: frozenset[str] = field(default=frozenset())

    @property
    def pk(self) -> str:
        """The single primary-key column (loom's repositories use one)."""
        return self.primary_key[0]

    def fields_for_profile(
        self, profile: str
    ) -> tuple[tuple[RelationSpec, ...], tuple[ProjectionSpec, ...]]:
        """Return the relations and projections that ``profile`` loads."""
        return (
            tuple(r for r in self.relations.values() if profile in r.info.profiles),
            tuple(p for p in self.projections.values() if profile in p.info.profiles),
        )


def is_model(obj: object) -> bool:
    """True when ``obj`` is a model class (a subclass of ``BaseModel``)."""
    return (
        isinstance(obj, type)
        and hasattr(obj, "__loom_columns__")
        and issubclass(obj, msgspec.Struct)
    )


def unwrap_optional(tp: Any) -> tuple[Any, bool]:
    """Return ``(T, True)`` for ``T | None`` (and ``Annotated`` around it), else ``(tp, False)``."""
    if get_origin(tp) is Annotated:
        tp = get_args(tp)[0]
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        args = [a for a in get_args(tp) if a is not type(None) and a is not msgspec.UnsetType]
        nullable = type(None) in get_args(tp)
        if len(args) == 1:
            inner = args[0]
            if get_origin(inner) is Annotated:
                inner = get_args(inner)[0]
            return inner, nullable
        return Union[tuple(args)], nullable  # noqa: UP007 - built from a runtime tuple
    return tp, False


def _hints(cls: type[Any]) -> dict[str, Any]:
    try:
        return typing.get_type_hints(cls, include_extras=True)
    except NameError as exc:
        raise CompilationError(
            f"{cls.__qualname__}: cannot resolve the annotation {exc.name!r}; "
            "import the type in the model's module"
        ) from exc


def datetime_fields(cls: type[msgspec.Struct]) -> tuple[str, ...]:
    """Names of the struct's fields typed ``datetime`` (optional or not)."""
    try:
        hints = _hints(cls)
    except CompilationError:
        return ()
    return tuple(
        name for name in cls.__struct_fields__ if unwrap_optional(hints.get(name))[0] is datetime
    )


@per_class
def model_info(model: type[Any]) -> ModelInfo:
    """Return the resolved declaration of ``model`` (computed once, then cached).

    Raises:
        CompilationError: the model has no primary key, an annotation cannot be
            resolved, or a relation names an unknown model or column.
    """
    if not is_model(model):
        raise CompilationError(
            f"{model!r} is not a loom model (subclass loom.core.model.BaseModel)"
        )
    hints = _hints(model)
    declared: dict[str, ColumnInfo] = model.__loom_columns__
    relations_decl: dict[str, RelationInfo] = model.__loom_relations__
    projections_decl: dict[str, ProjectionInfo] = model.__loom_projections__
    with_default = {
        f.name
        for f in msgspec.structs.fields(model)
        if f.default is not msgspec.NODEFAULT or f.default_factory is not msgspec.NODEFAULT
    }

    columns: dict[str, ColumnSpec] = {}
    for name in model.__struct_fields__:
        if name in relations_decl or name in projections_decl:
            continue
        info = declared.get(name, ColumnInfo())
        python_type, optional = unwrap_optional(hints[name])
        nullable = info.nullable if info.nullable is not None else optional
        columns[name] = ColumnSpec(
            name=name,
            python_type=python_type,
            nullable=nullable,
            info=info,
            has_default=name in with_default,
        )
    primary_key = tuple(n for n, c in columns.items() if c.info.primary_key)
    if not primary_key:
        raise CompilationError(
            f"{model.__qualname__}: no primary key; declare one, "
            "e.g. id: int = ColumnField(primary_key=True, autoincrement=True)"
        )
    if len(primary_key) > 1:
        raise CompilationError(
            f"{model.__qualname__}: composite primary keys ({', '.join(primary_key)}) "
            "are not supported"
        )

    relations = {
        name: RelationSpec(name=name, info=info, target=_resolve_target(model, name, info.target))
        for name, info in relations_decl.items()
    }
    for rel in relations.values():
        if rel.kind is RelationKind.MANY_TO_ONE and rel.info.foreign_key not in columns:
            raise CompilationError(
                f"{model.__qualname__}.{rel.name}: foreign_key={rel.info.foreign_key!r} "
                f"is not a column of {model.__qualname__}"
            )
    projections = {
        name: ProjectionSpec(name=name, info=info) for name, info in projections_decl.items()
    }
    for proj in projections.values():
        if proj.info.relation not in relations:
            raise CompilationError(
                f"{model.__qualname__}.{proj.name}: Projection names "
                f"{proj.info.relation!r}, which is not a relation"
            )
    named = [*(r.info.profiles for r in relations.values())]
    named += [p.info.profiles for p in projections.values()]
    profiles = frozenset(p for group in named for p in group) | {"default"}
    return ModelInfo(
        model=model,
        table_name=model.__tablename__,
        columns=columns,
        primary_key=primary_key,
        relations=relations,
        projections=projections,
        profiles=profiles,
    )


def _resolve_target(model: type[Any], field_name: str, target: str | type[Any]) -> type[Any]:
    if isinstance(target, type):
        return target
    module = sys.modules.get(model.__module__)
    found = getattr(module, target, None) if module else None
    if found is None:
        from loom.core.model._registry import find_model

        found = find_model(target)
    if not is_model(found):
        raise CompilationError(
            f"{model.__qualname__}.{field_name}: relation target {target!r} is not a known model"
        )
    return typing.cast(type[Any], found)
