"""One model's rows: write payloads to checked column values, database rows to entities.

Decoding lives here and only here, so a faster read path can reuse :class:`RowCodec`.
"""

from __future__ import annotations

import copy
import functools
import typing
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, Generic, TypeVar

import msgspec

from loom.core.command import Command
from loom.core.errors import FieldError, ValidationError
from loom.core.model import model_info
from loom.store._builders import entity_builder, values_builder
from loom.store._columns import is_json_type

__all__ = ["RowCodec"]

M = TypeVar("M")


def _message(exc: msgspec.ValidationError) -> str:
    return str(exc).removesuffix(" - at `$`")


def _defaults(model: type[Any]) -> dict[str, Callable[[], Any]]:
    found: dict[str, Callable[[], Any]] = {}
    for field in msgspec.structs.fields(model):
        if field.default_factory is not msgspec.NODEFAULT:
            found[field.name] = field.default_factory
        elif field.default is not msgspec.NODEFAULT and field.default is not msgspec.UNSET:
            found[field.name] = functools.partial(copy.deepcopy, field.default)
    return found


_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


class RowCodec(Generic[M]):
    """Checks what is written to, and builds entities from what is read from, one table.

    Args:
        model: The model class.
        names: The table's column names, in the order statements select them.
    """

    def __init__(self, model: type[M], names: Sequence[str]) -> None:
        info = model_info(model)
        self.model = model
        self.info = info
        self.names = tuple(names)
        self.width = len(self.names)
        self.pk = info.pk
        hints = typing.get_type_hints(model, include_extras=True)
        self._hints = {name: hints[name] for name in info.columns}
        self._json = {
            name: self._hints[name]
            for name, column in info.columns.items()
            if is_json_type(column.python_type)
        }
        converters = {name: _json_converter(hint) for name, hint in self._json.items()}
        self._entity = entity_builder(model, self.names, converters)
        self._values = values_builder(self.names, converters)
        self._defaults = {
            name: factory for name, factory in _defaults(model).items() if name in info.columns
        }
        pk_column = info.columns[info.pk]
        self.autoincrement = pk_column.info.autoincrement
        self.onupdate = tuple(
            name for name, column in info.columns.items() if column.info.server_onupdate
        )

    # -- writes -----------------------------------------------------------------------------

    def payload(self, data: Any) -> dict[str, Any]:
        """The columns a write sets: a command's given fields, a struct's or mapping's items.

        ``UNSET`` values are left out; a loaded entity's relations and projections are
        ignored.

        Raises:
            ValidationError: a key is not a column of the model.
            TypeError: ``data`` is neither a struct nor a mapping.
        """
        if isinstance(data, Command):
            values = data.__dict__
        elif isinstance(data, msgspec.Struct):
            values = {name: getattr(data, name) for name in data.__struct_fields__}
            if isinstance(data, self.model):
                for name in (*self.info.relations, *self.info.projections):
                    values.pop(name, None)
        elif isinstance(data, Mapping):
            values = dict(data)
        else:
            raise TypeError(
                f"{self.model.__qualname__} repository: write data must be a struct or a "
                f"mapping, not {type(data).__name__}"
            )
        values = {k: v for k, v in values.items() if v is not msgspec.UNSET}
        unknown = [k for k in values if k not in self.info.columns]
        if unknown:
            name = self.model.__qualname__
            raise ValidationError(
                errors=[FieldError(str(k), f"unknown field of {name}") for k in unknown]
            )
        return values

    def checked(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """Convert and check every value of ``values``: type, NULL, length, timezone.

        Returns the values ready to bind (JSON fields as plain data).

        Raises:
            ValidationError: listing every problem.
        """
        errors: list[FieldError] = []
        out: dict[str, Any] = {}
        columns = self.info.columns
        for name, value in values.items():
            column = columns[name]
            if value is None:
                if not column.nullable:
                    errors.append(FieldError(name, "must not be null"))
                out[name] = None
                continue
            try:
                value = msgspec.convert(value, self._hints[name])
            except msgspec.ValidationError as exc:
                errors.append(FieldError(name, _message(exc)))
                continue
            if isinstance(value, datetime) and value.tzinfo is None:
                errors.append(FieldError(name, "naive datetime; give a timezone-aware value"))
                continue
            if type(value) is int and not _INT64_MIN <= value <= _INT64_MAX:
                errors.append(FieldError(name, "must fit in a signed 64-bit integer"))
                continue
            length = column.info.length
            if length is not None and isinstance(value, (str, bytes)) and len(value) > length:
                errors.append(FieldError(name, f"must be at most {length} characters"))
                continue
            out[name] = msgspec.to_builtins(value) if name in self._json else value
        if errors:
            raise ValidationError(errors=errors)
        return out

    def for_insert(self, data: Any) -> dict[str, Any]:
        """The checked values of a new row: given, client defaults, NULL for optional columns.

        Columns the database fills (the autoincrement key, ``server_default``) are left
        out unless given.

        Raises:
            ValidationError: a required value is missing, or a value is wrong.
        """
        payload = self.payload(data)
        pk = self.pk
        if self.autoincrement and pk in payload and payload[pk] is None:
            del payload[pk]
        errors: list[FieldError] = []
        row: dict[str, Any] = {}
        for name, column in self.info.columns.items():
            if name in payload:
                row[name] = payload[name]
            elif name == pk and self.autoincrement:
                continue
            elif name in self._defaults:
                row[name] = self._defaults[name]()
            elif column.info.server_default is not None:
                continue
            elif column.nullable:
                row[name] = None
            else:
                errors.append(FieldError(name, "required"))
        if errors:
            raise ValidationError(errors=errors)
        return self.checked(row)

    def for_update(self, id: Any, data: Any) -> dict[str, Any]:
        """The checked values an update sets (the primary key, if given, must be ``id``).

        Raises:
            ValidationError: a value is wrong, or the primary key would change.
        """
        payload = self.payload(data)
        if self.pk in payload:
            if payload[self.pk] != id:
                raise ValidationError(
                    errors=[FieldError(self.pk, "the primary key cannot be changed")]
                )
            del payload[self.pk]
        return self.checked(payload)

    # -- reads ------------------------------------------------------------------------------

    def values(self, row: Sequence[Any]) -> dict[str, Any]:
        """The column values of a row selected in :attr:`names` order (extra items ignored)."""
        values: dict[str, Any] = self._values(row)
        return values

    def entity(self, row: Sequence[Any]) -> M:
        """Build the entity of one row selected in :attr:`names` order (extra items ignored)."""
        entity: M = self._entity(row)
        return entity

    def entities(self, rows: Iterable[Sequence[Any]]) -> list[M]:
        """Build the entities of ``rows``."""
        build = self._entity
        return [build(row) for row in rows]


def _json_converter(hint: Any) -> Callable[[Any], Any]:
    """Converts a JSON column's value (plain data) to the field's type; ``None`` stays."""

    def convert(value: Any) -> Any:
        return None if value is None else msgspec.convert(value, hint)

    return convert
