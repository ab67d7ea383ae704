"""snake_case <-> camelCase names, matching msgspec's ``rename="camel"``."""

from __future__ import annotations

import re

__all__ = ["to_camel", "to_snake"]

_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def to_camel(name: str) -> str:
    """Return ``name`` in camelCase exactly as msgspec's ``rename="camel"`` spells it.

    Leading underscores stay, empty parts are dropped, the first part is kept as is and
    every later part is title-cased: ``price_cents`` -> ``priceCents``,
    ``address_line_2`` -> ``addressLine2``, ``url_ID`` -> ``urlId``.
    """
    stripped = name.lstrip("_")
    parts = [part for part in stripped.split("_") if part]
    if not parts:
        return name
    lead = name[: len(name) - len(stripped)]
    return lead + parts[0] + "".join(part.title() for part in parts[1:])


def to_snake(name: str) -> str:
    """Return ``name`` in snake_case: ``priceCents`` -> ``price_cents``.

    A snake_case name comes back unchanged. Digits do not start a word, so
    ``to_snake(to_camel("line_2"))`` is ``"line2"``: map names through a table built
    with :func:`to_camel` when the round trip matters.
    """
    return _BOUNDARY.sub("_", name).lower()
