"""``Command`` and ``Patch``: immutable request data with presence tracking."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any, ClassVar, TypeVar, Union, get_args, get_origin

import msgspec
from msgspec import UNSET, UnsetType

from loom.core.model._base import reject_naive_datetimes

__all__ = ["Command", "CommandMeta", "Patch", "is_patch_field"]

T = TypeVar("T")


class _PatchMarker:
    """Marks an annotation as ``Patch[...]``: absent, explicit null and value are distinct."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "PATCH"


PATCH = _PatchMarker()

Patch = Annotated[Union[T, UnsetType, None], PATCH]  # noqa: UP007 - a generic alias needs Union
"""A field of a partial update: ``UNSET`` when absent, ``None`` when sent as null, else the value.

Declare it with a ``None`` default (``name: Patch[str] = None``); loom turns the default
into ``UNSET`` so that "not sent" and "sent as null" stay different.
"""

_PATCH_TEXT = re.compile(r"(^|[\s\[.|])Patch\[")


def is_patch_field(annotation: Any) -> bool:
    """True when ``annotation`` (a type or its source text) is ``Patch[...]``."""
    if isinstance(annotation, str):
        return bool(_PATCH_TEXT.search(annotation))
    return get_origin(annotation) is Annotated and any(a is PATCH for a in get_args(annotation)[1:])


class CommandMeta(msgspec.StructMeta):
    """Makes ``Patch`` fields default to ``UNSET`` and records which fields are patches."""

    def __new__(
        mcls, name: str, bases: tuple[type, ...], namespace: dict[str, Any], **kwargs: Any
    ) -> CommandMeta:
        annotations: Mapping[str, Any] = namespace.get("__annotations__", {})
        patch_fields = [key for key, ann in annotations.items() if is_patch_field(ann)]
        for key in patch_fields:
            if namespace.get(key) is None:
                namespace[key] = UNSET
        cls = super().__new__(mcls, name, bases, namespace, **kwargs)
        inherited: frozenset[str] = frozenset()
        for base in cls.__mro__[1:]:
            inherited |= base.__dict__.get("__patch_fields__", frozenset())
        cls.__patch_fields__ = inherited | frozenset(patch_fields)  # type: ignore[attr-defined]
        return cls


class Command(
    msgspec.Struct, metaclass=CommandMeta, frozen=True, kw_only=True, forbid_unknown_fields=True
):
    """Base of every command: a frozen msgspec struct decoded from a request payload.

    ``fields_set`` names the fields that carry a value (``Patch`` fields that were sent,
    as a value or as ``null``, and every other field). ``decode`` validates a JSON
    payload and reports every problem at once.
    """

    __patch_fields__: ClassVar[frozenset[str]]
    __loom_datetime_fields__: ClassVar[tuple[str, ...] | None] = None

    def __post_init__(self) -> None:
        fields = type(self).__loom_datetime_fields__
        if fields is None:
            from loom.core.model._introspection import datetime_fields

            fields = type(self).__loom_datetime_fields__ = datetime_fields(type(self))
        if fields:
            reject_naive_datetimes(self, fields)

    @property
    def fields_set(self) -> frozenset[str]:
        """Names of the fields that were given (a ``Patch`` field left out is not)."""
        return frozenset(f for f in self.__struct_fields__ if getattr(self, f) is not UNSET)

    @property
    def __dict__(self) -> dict[str, Any]:  # type: ignore[override]
        """The given fields as a dict, so ``Record(**cmd.__dict__)`` works."""
        return {f: v for f in self.__struct_fields__ if (v := getattr(self, f)) is not UNSET}

    def to_dict(self) -> dict[str, Any]:
        """The given fields as plain data (nested structs included)."""
        return {
            f: msgspec.to_builtins(v) if isinstance(v, msgspec.Struct) else v
            for f, v in self.__dict__.items()
        }

    @classmethod
    def decode(cls: type[C], payload: bytes | str | Mapping[str, Any]) -> C:
        """Validate ``payload`` (JSON or a mapping) into this command.

        Raises:
            loom.core.errors.ValidationError: listing every problem with its field path.
        """
        from loom.core.command._decode import decode_command

        return decode_command(cls, payload)


C = TypeVar("C", bound=Command)
