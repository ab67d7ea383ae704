"""JSON schemas of the types an OpenAPI document names, from one msgspec call."""

from __future__ import annotations

import types
from typing import Any, Union, get_args, get_origin

import msgspec

from loom.core.logging import logger

__all__ = ["REF_TEMPLATE", "TypeSchemas", "union_members"]

REF_TEMPLATE = "#/components/schemas/{name}"

_NONE = type(None)


def union_members(tp: Any) -> tuple[Any, ...] | None:
    """The members of a ``X | Y`` union, or ``None`` when ``tp`` is not a union."""
    if get_origin(tp) in (Union, types.UnionType):
        return get_args(tp)
    return None


class TypeSchemas:
    """Collects types, then builds every schema and component in one msgspec call.

    A union is split into its members (msgspec cannot describe a union of untagged
    structs, such as ``PageResult[T] | CursorResult[T]``) and described as ``anyOf``.
    """

    def __init__(self) -> None:
        self._types: list[Any] = []
        self._index: dict[Any, int] = {}
        self._schemas: list[dict[str, Any]] = []
        self.components: dict[str, Any] = {}

    def add(self, tp: Any) -> None:
        """Register ``tp`` (or each member of a union) for :meth:`build`."""
        members = union_members(tp)
        if members is not None:
            for member in members:
                self.add(member)
            return
        if tp is _NONE or tp in self._index:
            return
        self._index[tp] = len(self._types)
        self._types.append(tp)

    def build(self) -> None:
        """Describe every registered type; an unsupported one becomes ``{}`` (any value)."""
        try:
            schemas, components = msgspec.json.schema_components(
                self._types, ref_template=REF_TEMPLATE
            )
        except (TypeError, ValueError):
            supported = [tp for tp in self._types if _describable(tp)]
            schemas_ok, components = msgspec.json.schema_components(
                supported, ref_template=REF_TEMPLATE
            )
            by_type = dict(zip(supported, schemas_ok, strict=True))
            schemas = tuple(by_type.get(tp, {}) for tp in self._types)
        self._schemas = list(schemas)
        self.components = dict(sorted(components.items()))

    def schema(self, tp: Any) -> dict[str, Any]:
        """The schema of a registered ``tp``: a ``$ref`` for structs and enums."""
        members = union_members(tp)
        if members is not None:
            return {"anyOf": [self.schema(member) for member in members]}
        if tp is _NONE:
            return {"type": "null"}
        return dict(self._schemas[self._index[tp]])


def _describable(tp: Any) -> bool:
    try:
        msgspec.json.schema(tp)
    except (TypeError, ValueError) as exc:
        logger.warning("OpenAPI: {!r} cannot be described ({}); documented as any value", tp, exc)
        return False
    return True
