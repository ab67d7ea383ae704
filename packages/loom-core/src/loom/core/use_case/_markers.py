"""Markers for ``execute`` parameters: where each value comes from."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

__all__ = ["Exists", "Input", "InputMarker", "LoadById", "LoadMarker", "ExistsMarker", "OnMissing"]


class OnMissing(StrEnum):
    """What happens when a loaded or checked entity does not exist."""

    RAISE = "raise"
    """Raise :class:`~loom.core.errors.NotFound` (a 404 over HTTP)."""
    RETURN_NONE = "return_none"
    """Pass ``None`` to ``execute``."""
    RETURN_FALSE = "return_false"
    """Pass ``False`` to ``execute`` (the default for ``Exists``)."""


@dataclass(frozen=True, slots=True)
class InputMarker:
    """``cmd: CreateUser = Input()``: the parameter receives the decoded command."""


@dataclass(frozen=True, slots=True)
class LoadMarker:
    """``user: User = LoadById(User, by="user_id")``: the entity, loaded before ``execute``."""

    model: type[Any]
    by: str
    profile: str = "default"
    on_missing: OnMissing = OnMissing.RAISE


@dataclass(frozen=True, slots=True)
class ExistsMarker:
    """``taken: bool = Exists(User, from_command="email", against="email")``."""

    model: type[Any]
    from_param: str | None = None
    from_command: str | None = None
    against: str = "id"
    on_missing: OnMissing = OnMissing.RETURN_FALSE


def Input() -> Any:  # noqa: N802 - reads as a declaration
    """Mark the parameter that receives the use case's command, decoded from the payload."""
    return InputMarker()


def LoadById(  # noqa: N802
    model: type[Any],
    *,
    by: str,
    profile: str = "default",
    on_missing: OnMissing = OnMissing.RAISE,
) -> Any:
    """Load ``model`` by primary key before ``execute`` runs.

    Args:
        model: The model to load.
        by: The ``execute`` parameter (or command field) holding the id.
        profile: The profile to load (which relations and projections come with it).
        on_missing: ``RAISE`` (404, the default) or ``RETURN_NONE``.
    """
    if on_missing is OnMissing.RETURN_FALSE:
        raise TypeError("LoadById(on_missing=RETURN_FALSE) makes no sense; use RETURN_NONE")
    return LoadMarker(model=model, by=by, profile=profile, on_missing=on_missing)


def Exists(  # noqa: N802
    model: type[Any],
    *,
    from_param: str | None = None,
    from_command: str | None = None,
    against: str = "id",
    on_missing: OnMissing = OnMissing.RETURN_FALSE,
) -> Any:
    """Check before ``execute`` whether a ``model`` row has ``against`` equal to a value.

    The value comes from the ``execute`` parameter ``from_param`` or the command field
    ``from_command`` (exactly one). The parameter receives ``True``/``False``; with
    ``on_missing=OnMissing.RAISE`` a missing row raises ``NotFound`` instead.
    """
    if (from_param is None) == (from_command is None):
        raise TypeError("Exists(...) takes exactly one of from_param= or from_command=")
    return ExistsMarker(
        model=model,
        from_param=from_param,
        from_command=from_command,
        against=against,
        on_missing=on_missing,
    )
