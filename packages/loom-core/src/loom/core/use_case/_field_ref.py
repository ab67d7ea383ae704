"""``F(Command).field``: a typed reference to a command field, for rules and computes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["F", "FieldRef", "Presence"]


@dataclass(frozen=True, slots=True)
class FieldRef:
    """A reference to one field of one command class."""

    command: type[Any]
    name: str

    def __or__(self, other: FieldRef | Presence) -> Presence:
        return Presence.of(self) | other

    def __and__(self, other: FieldRef | Presence) -> Presence:
        return Presence.of(self) & other

    def __str__(self) -> str:
        return f"{self.command.__name__}.{self.name}"


@dataclass(frozen=True, slots=True)
class Presence:
    """A condition on which command fields were sent, built with ``|`` and ``&``."""

    op: str
    refs: tuple[FieldRef, ...] = ()
    parts: tuple[Presence, ...] = ()

    @staticmethod
    def of(value: FieldRef | Presence) -> Presence:
        """Wrap a field reference (present when sent) or return a condition as it is."""
        return value if isinstance(value, Presence) else Presence("field", refs=(value,))

    def __or__(self, other: FieldRef | Presence) -> Presence:
        return Presence("or", parts=(self, Presence.of(other)))

    def __and__(self, other: FieldRef | Presence) -> Presence:
        return Presence("and", parts=(self, Presence.of(other)))

    def fields(self) -> tuple[FieldRef, ...]:
        """Every field the condition mentions."""
        return self.refs + tuple(r for p in self.parts for r in p.fields())

    def holds(self, present: frozenset[str]) -> bool:
        """Evaluate against the names of the fields that were sent."""
        if self.op == "field":
            return all(r.name in present for r in self.refs)
        results = (p.holds(present) for p in self.parts)
        return any(results) if self.op == "or" else all(results)


class F:
    """``F(CreateUser).email`` refers to the ``email`` field of ``CreateUser``.

    The field is checked against the command class when the use case is compiled.
    """

    __slots__ = ("_command",)

    def __init__(self, command: type[Any]) -> None:
        self._command = command

    def __getattr__(self, name: str) -> FieldRef:
        if name.startswith("__"):
            raise AttributeError(name)
        return FieldRef(self._command, name)
