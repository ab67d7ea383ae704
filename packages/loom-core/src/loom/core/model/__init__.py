"""Models: msgspec structs that declare tables, columns, relations and projections.

Example:
    >>> from loom.core.model import ColumnField, TimestampedModel
    >>> class User(TimestampedModel):
    ...     __tablename__ = "users"
    ...     id: int = ColumnField(primary_key=True, autoincrement=True)
    ...     email: str = ColumnField(length=255, unique=True, index=True)
"""

from loom.core.model._base import BaseModel, TimestampedModel
from loom.core.model._fields import (
    ColumnField,
    ColumnInfo,
    ManyToMany,
    ManyToOne,
    OnDelete,
    OneToMany,
    Projection,
    ProjectionInfo,
    RelationInfo,
    RelationKind,
)
from loom.core.model._introspection import (
    ColumnSpec,
    ModelInfo,
    ProjectionSpec,
    RelationSpec,
    is_model,
    model_info,
    unwrap_optional,
)

__all__ = [
    "BaseModel",
    "ColumnField",
    "ColumnInfo",
    "ColumnSpec",
    "ManyToMany",
    "ManyToOne",
    "ModelInfo",
    "OnDelete",
    "OneToMany",
    "Projection",
    "ProjectionInfo",
    "ProjectionSpec",
    "RelationInfo",
    "RelationKind",
    "RelationSpec",
    "TimestampedModel",
    "is_model",
    "model_info",
    "unwrap_optional",
]
