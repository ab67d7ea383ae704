"""The registry of config sections: which top-level keys exist and their settings types.

loom-core registers ``app``, ``database``, ``jobs`` and ``observability``. Other
distributions add theirs through the ``loom.settings`` entry-point group (name = the
section, value = ``module:StructType``) or :func:`register_section`, so a section is
known exactly when the distribution that reads it is installed.
"""

from __future__ import annotations

from importlib.metadata import entry_points

import msgspec

from loom.core.config._settings import (
    AppSettings,
    DatabaseSettings,
    JobsSettings,
    ObservabilitySettings,
)
from loom.core.errors import ConfigurationError

__all__ = ["SECTION_GROUP", "known_sections", "register_section"]

SECTION_GROUP = "loom.settings"

_CORE_SECTIONS: dict[str, type[msgspec.Struct]] = {
    "app": AppSettings,
    "database": DatabaseSettings,
    "jobs": JobsSettings,
    "observability": ObservabilitySettings,
}
_registered: dict[str, type[msgspec.Struct]] = {}
_from_entry_points: dict[str, type[msgspec.Struct]] | None = None


def register_section(name: str, settings_type: type[msgspec.Struct]) -> None:
    """Declare the top-level config section ``name``, validated into ``settings_type``."""
    if not (isinstance(settings_type, type) and issubclass(settings_type, msgspec.Struct)):
        raise ConfigurationError(
            f"section {name!r}: settings type must be a msgspec.Struct, got {settings_type!r}"
        )
    _registered[name] = settings_type


def _load_entry_points() -> dict[str, type[msgspec.Struct]]:
    global _from_entry_points
    if _from_entry_points is None:
        found: dict[str, type[msgspec.Struct]] = {}
        for ep in entry_points(group=SECTION_GROUP):
            if ep.name in _CORE_SECTIONS:
                continue
            try:
                found[ep.name] = ep.load()
            except ImportError:
                # The section's distribution is installed without the extra it needs to
                # import; the section stays unknown until the extra is installed.
                continue
        _from_entry_points = found
    return _from_entry_points


def known_sections() -> dict[str, type[msgspec.Struct]]:
    """Return every known section name and its settings type, core sections first."""
    return {**_CORE_SECTIONS, **_load_entry_points(), **_registered}
