"""Row builders generated once per model: entities and value dicts straight from positions.

A row selected in a codec's column order becomes ``Model(a=row[0], b=row[1], ...)`` (or
``{"a": row[0], ...}``) through a function written for that model once, so a read builds
no intermediate mapping per row. Columns needing a conversion (JSON values) go through
their converter; rows may carry extra trailing items, which are ignored.
"""

from __future__ import annotations

import keyword
from collections.abc import Callable, Mapping, Sequence
from typing import Any

__all__ = ["Build", "entity_builder", "values_builder"]

Build = Callable[[Sequence[Any]], Any]


def _plain(names: Sequence[str]) -> bool:
    return all(name.isidentifier() and not keyword.iskeyword(name) for name in names)


def _items(
    names: Sequence[str], converters: Mapping[str, Callable[[Any], Any]], scope: dict[str, Any]
) -> list[tuple[str, str]]:
    """``(name, expression)`` for each column, registering converters in ``scope``."""
    items: list[tuple[str, str]] = []
    for index, name in enumerate(names):
        if name in converters:
            scope[f"_convert_{index}"] = converters[name]
            items.append((name, f"_convert_{index}(row[{index}])"))
        else:
            items.append((name, f"row[{index}]"))
    return items


def _compile(source: str, scope: dict[str, Any]) -> Build:
    exec(compile(source, "<loom.store row builder>", "exec"), scope)
    build: Build = scope["build"]
    return build


def entity_builder(
    model: Callable[..., Any],
    names: Sequence[str],
    converters: Mapping[str, Callable[[Any], Any]],
) -> Build:
    """A function building ``model`` from a row whose first items are ``names``' values."""
    if not _plain(names):
        values = values_builder(names, converters)
        return lambda row: model(**values(row))
    scope: dict[str, Any] = {"_model": model}
    arguments = ", ".join(
        f"{name}={expression}" for name, expression in _items(names, converters, scope)
    )
    return _compile(f"def build(row):\n    return _model({arguments})\n", scope)


def values_builder(names: Sequence[str], converters: Mapping[str, Callable[[Any], Any]]) -> Build:
    """A function returning ``{name: value}`` of a row whose first items are ``names``' values."""
    scope: dict[str, Any] = {}
    entries = ", ".join(
        f"{name!r}: {expression}" for name, expression in _items(names, converters, scope)
    )
    return _compile(f"def build(row):\n    return {{{entries}}}\n", scope)
