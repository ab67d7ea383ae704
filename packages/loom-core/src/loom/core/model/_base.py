"""``BaseModel`` and ``TimestampedModel``: msgspec structs that declare tables."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, ClassVar

import msgspec
from msgspec import UNSET

from loom.core.model._fields import ColumnField, ColumnInfo, ProjectionInfo, RelationInfo
from loom.core.model._registry import register_model

__all__ = ["BaseModel", "ModelMeta", "TimestampedModel", "reject_naive_datetimes"]

_DECLARATIONS = (ColumnInfo, RelationInfo, ProjectionInfo)


class ModelMeta(msgspec.StructMeta):
    """Turns ``ColumnField``/relation declarations into struct defaults and records them."""

    def __new__(
        mcls, name: str, bases: tuple[type, ...], namespace: dict[str, Any], **kwargs: Any
    ) -> ModelMeta:
        columns: dict[str, ColumnInfo] = {}
        relations: dict[str, RelationInfo] = {}
        projections: dict[str, ProjectionInfo] = {}
        for key, value in list(namespace.items()):
            if isinstance(value, ColumnInfo):
                columns[key] = value
                if value.default_factory is not None:
                    namespace[key] = msgspec.field(default_factory=value.default_factory)
                elif value.default is not msgspec.NODEFAULT:
                    namespace[key] = value.default
                elif value.nullable or (
                    value.nullable is None
                    and _is_optional(namespace.get("__annotations__", {}).get(key))
                ):
                    namespace[key] = None
                else:
                    del namespace[key]
            elif isinstance(value, RelationInfo):
                relations[key] = value
                namespace[key] = UNSET
            elif isinstance(value, ProjectionInfo):
                projections[key] = value
                namespace[key] = UNSET
        cls = super().__new__(mcls, name, bases, namespace, **kwargs)
        inherited_columns: dict[str, ColumnInfo] = {}
        inherited_relations: dict[str, RelationInfo] = {}
        inherited_projections: dict[str, ProjectionInfo] = {}
        for base in reversed(cls.__mro__[1:]):
            inherited_columns.update(base.__dict__.get("__loom_columns__", {}))
            inherited_relations.update(base.__dict__.get("__loom_relations__", {}))
            inherited_projections.update(base.__dict__.get("__loom_projections__", {}))
        cls.__loom_columns__ = {**inherited_columns, **columns}  # type: ignore[attr-defined]
        cls.__loom_relations__ = {**inherited_relations, **relations}  # type: ignore[attr-defined]
        cls.__loom_projections__ = {**inherited_projections, **projections}  # type: ignore[attr-defined]
        if "__tablename__" not in namespace:
            cls.__tablename__ = _snake(name)  # type: ignore[attr-defined]
        register_model(cls)
        return cls


_OPTIONAL = re.compile(r"(\|\s*None\b|\bNone\s*\||^Optional\[|\.Optional\[)")


def _is_optional(annotation: Any) -> bool:
    if annotation is None:
        return False
    if isinstance(annotation, str):
        return bool(_OPTIONAL.search(annotation))
    from loom.core.model._introspection import unwrap_optional

    return unwrap_optional(annotation)[1]


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def reject_naive_datetimes(obj: msgspec.Struct, fields: tuple[str, ...]) -> None:
    """Raise ``ValueError`` when one of ``fields`` holds a datetime without a timezone."""
    for field in fields:
        value = getattr(obj, field)
        if isinstance(value, datetime) and value.tzinfo is None:
            raise ValueError(
                f"{type(obj).__name__}.{field} is a naive datetime ({value.isoformat()}); "
                "give a timezone-aware value, e.g. datetime.now(UTC)"
            )


class BaseModel(msgspec.Struct, metaclass=ModelMeta, kw_only=True):
    """Base of every persisted model: a msgspec struct whose fields declare columns.

    Fields are columns (``ColumnField(...)`` or a plain annotation), relations
    (``ManyToOne``/``OneToMany``/``ManyToMany``) or projections; relations and projections
    are ``UNSET`` unless the profile that loaded the entity names them. ``__tablename__``
    defaults to the class name in snake_case. A naive ``datetime`` is rejected.
    """

    __tablename__: ClassVar[str]
    __loom_columns__: ClassVar[dict[str, ColumnInfo]]
    __loom_relations__: ClassVar[dict[str, RelationInfo]]
    __loom_projections__: ClassVar[dict[str, ProjectionInfo]]
    __loom_datetime_fields__: ClassVar[tuple[str, ...] | None] = None

    def __post_init__(self) -> None:
        # Runs for every entity built (rows of every page): kept to one loop, no calls.
        fields = self.__loom_datetime_fields__
        if fields is None:
            fields = _datetime_fields(type(self))
        for field in fields:
            value = getattr(self, field)
            if isinstance(value, datetime) and value.tzinfo is None:
                reject_naive_datetimes(self, (field,))


def _datetime_fields(cls: type[msgspec.Struct]) -> tuple[str, ...]:
    from loom.core.model._introspection import datetime_fields

    found = datetime_fields(cls)
    cls.__loom_datetime_fields__ = found  # type: ignore[attr-defined]
    return found


class TimestampedModel(BaseModel, kw_only=True):
    """A model with ``created_at``/``updated_at``: timezone-aware UTC, set by the database."""

    created_at: datetime = ColumnField(server_default="now")
    updated_at: datetime = ColumnField(server_default="now", server_onupdate="now")
