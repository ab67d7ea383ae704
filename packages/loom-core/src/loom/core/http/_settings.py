"""``ListSettings``: how list routes page and how query parameters are spelled."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from loom.core.errors import ConfigurationError
from loom.core.http._case import to_camel
from loom.core.repository.abc.query import MAX_LIMIT

__all__ = ["MAX_PAGE", "ListSettings"]

MAX_PAGE = 2**31 - 1
"""The largest ``page`` a request may ask for (keeps the SQL offset within 64 bits)."""


@dataclass(frozen=True, slots=True)
class ListSettings:
    """How list routes page and how query parameter names are spelled.

    Attributes:
        default_limit: ``limit`` when a request gives none.
        max_limit: The largest ``limit`` a request may ask for (at most ``MAX_LIMIT``).
        case: ``"snake"`` (Python names) or ``"camel"``: query parameters are published
            in camelCase (``priceCents__gt``); the snake_case spelling is accepted too.

    Raises:
        ConfigurationError: on construction, for a limit out of range or an unknown case.
    """

    default_limit: int = 50
    max_limit: int = MAX_LIMIT
    case: Literal["snake", "camel"] = "snake"

    def __post_init__(self) -> None:
        if not _is_int(self.max_limit) or not 1 <= self.max_limit <= MAX_LIMIT:
            raise ConfigurationError(
                f"must be an integer from 1 to {MAX_LIMIT}, got {self.max_limit!r}",
                key="max_limit",
            )
        if not _is_int(self.default_limit) or not 1 <= self.default_limit <= self.max_limit:
            raise ConfigurationError(
                f"must be an integer from 1 to max_limit ({self.max_limit}), "
                f"got {self.default_limit!r}",
                key="default_limit",
            )
        if self.case not in ("snake", "camel"):
            raise ConfigurationError(f"must be 'snake' or 'camel', got {self.case!r}", key="case")

    def published(self, name: str) -> str:
        """The name a client uses for the Python name ``name`` under this case."""
        return to_camel(name) if self.case == "camel" else name


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
