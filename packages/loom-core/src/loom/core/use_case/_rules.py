"""``Rule`` and ``Compute``: declarative checks and derivations that run before ``execute``.

Calling conventions (stable; the engine relies on nothing else):

* ``Rule.check(*fields, via=fn, message=...)`` calls ``fn(*values)`` with the values of
  the referenced command fields. ``fn`` returns ``None``/``False`` (fine), a ``str``
  (a violation with that message) or ``True`` (a violation with ``message``). A check is
  skipped when one of its fields was not sent (``UNSET``).
* ``Rule.forbid(fn, message=...)`` and ``Rule.require(fn, message=...)`` call
  ``fn(command, params, *selected)``: ``command`` is the command after computes (or
  ``None`` when the use case has no ``Input()``), ``params`` is a read-only mapping of
  every other ``execute`` parameter after loads and exists checks, and ``selected`` are
  the values named by ``.from_params(...)`` or ``.from_command(...)``, in order. ``forbid``
  is violated when ``fn`` returns something truthy, ``require`` when it returns something
  falsy.
* ``Compute.set(target).from_command(*sources, via=fn)`` calls ``fn(*source values)`` and
  stores the result in ``target`` of a new frozen command. Computes run in declaration
  order, before rules; one whose sources were not sent is skipped.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from loom.core.use_case._field_ref import FieldRef, Presence

__all__ = ["CheckRule", "Compute", "ComputeStep", "PredicateRule", "Rule", "RuleSpec"]


@dataclass(frozen=True, slots=True)
class CheckRule:
    """A rule over command fields: ``Rule.check(F(Cmd).a, via=fn)``."""

    fields: tuple[FieldRef, ...]
    via: Callable[..., Any]
    message: str | None = None
    condition: Presence | None = None

    def when_present(self, condition: FieldRef | Presence) -> CheckRule:
        """Run the rule only when ``condition`` holds (fields sent, combined with | and &)."""
        return replace(self, condition=Presence.of(condition))


@dataclass(frozen=True, slots=True)
class PredicateRule:
    """A rule over the command and parameters: ``Rule.forbid(fn).from_params("x")``."""

    predicate: Callable[..., Any]
    message: str
    violated_when: bool
    param_names: tuple[str, ...] = ()
    command_fields: tuple[FieldRef | str, ...] = ()
    condition: Presence | None = None

    def from_params(self, *names: str) -> PredicateRule:
        """Pass these ``execute`` parameters to the predicate, after the command and params."""
        return replace(self, param_names=names, command_fields=())

    def from_command(self, *fields: FieldRef | str) -> PredicateRule:
        """Pass these command fields to the predicate, after the command and params."""
        return replace(self, command_fields=fields, param_names=())

    def when_present(self, condition: FieldRef | Presence) -> PredicateRule:
        """Run the rule only when ``condition`` holds."""
        return replace(self, condition=Presence.of(condition))


RuleSpec = CheckRule | PredicateRule


class Rule:
    """Factory of rules; see the module docstring for the calling conventions."""

    @staticmethod
    def check(*fields: FieldRef, via: Callable[..., Any], message: str | None = None) -> CheckRule:
        """Check command fields with ``via(*values)``: ``str``/``True`` means a violation."""
        if not fields:
            raise TypeError("Rule.check(...) needs at least one F(Command).field")
        return CheckRule(fields=tuple(fields), via=via, message=message)

    @staticmethod
    def forbid(predicate: Callable[..., Any], message: str) -> PredicateRule:
        """Violated when ``predicate(command, params, *selected)`` is truthy."""
        return PredicateRule(predicate=predicate, message=message, violated_when=True)

    @staticmethod
    def require(predicate: Callable[..., Any], message: str) -> PredicateRule:
        """Violated when ``predicate(command, params, *selected)`` is falsy."""
        return PredicateRule(predicate=predicate, message=message, violated_when=False)


@dataclass(frozen=True, slots=True)
class ComputeStep:
    """``Compute.set(F(Cmd).target).from_command(*sources, via=fn)``."""

    target: FieldRef
    sources: tuple[FieldRef, ...] = ()
    via: Callable[..., Any] | None = None

    def from_command(self, *sources: FieldRef, via: Callable[..., Any]) -> ComputeStep:
        """Compute the target from these command fields with ``via(*values)``."""
        if not sources:
            raise TypeError("Compute...from_command(...) needs at least one source field")
        return replace(self, sources=sources, via=via)


class Compute:
    """Factory of computes: new command values derived before rules run."""

    @staticmethod
    def set(target: FieldRef) -> ComputeStep:
        """Start a compute that sets ``target``; finish it with ``.from_command(...)``."""
        return ComputeStep(target=target)
