"""Compiled rules: ``(command, values) -> RuleViolation | None``.

The two commonest forms are small classes rather than closures, so that a plan's
generated runner can see what they check and write them out inline.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from msgspec import UNSET

from loom.core.errors import RuleViolation

__all__ = ["CheckOne", "ParamPredicate"]


class CheckOne:
    """``Rule.check(F(Cmd).field, via=fn, message=...)`` on one field, unconditional."""

    __slots__ = ("field", "message", "via")

    def __init__(self, field: str, via: Callable[[Any], Any], message: str | None) -> None:
        self.field = field
        self.via = via
        self.message = message

    def violation(self, result: Any) -> RuleViolation:
        """The violation for a ``via`` result that is neither ``None`` nor ``False``."""
        if isinstance(result, str):
            return RuleViolation(result, field=self.field)
        return RuleViolation(self.message or f"{self.field} is invalid", field=self.field)

    def __call__(self, command: Any, _values: Mapping[str, Any]) -> RuleViolation | None:
        value = getattr(command, self.field)
        if value is UNSET:
            return None
        result = self.via(value)
        if result is None or result is False:
            return None
        return self.violation(result)


class ParamPredicate:
    """``Rule.forbid/require(fn).from_params(name)`` on one parameter, unconditional."""

    __slots__ = ("field", "message", "name", "predicate", "violated_when")

    def __init__(
        self,
        name: str,
        predicate: Callable[..., Any],
        message: str,
        violated_when: bool,
    ) -> None:
        self.name = name
        self.field = name
        self.predicate = predicate
        self.message = message
        self.violated_when = violated_when

    def violation(self) -> RuleViolation:
        """The violation this rule reports."""
        return RuleViolation(self.message, field=self.field)

    def __call__(self, command: Any, values: Mapping[str, Any]) -> RuleViolation | None:
        if bool(self.predicate(command, values, values.get(self.name))) is self.violated_when:
            return self.violation()
        return None
