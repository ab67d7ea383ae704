"""Where tables and files live, from the ``storage`` section."""

from __future__ import annotations

import os
import re
from pathlib import Path
from types import MappingProxyType

from loom.etl.backend._protocol import Location
from loom.etl.settings import StorageSettings

__all__ = ["Storage", "table_name_problem"]

_TABLE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_-]*(\.[A-Za-z0-9_][A-Za-z0-9_-]*)*$")


def table_name_problem(name: object) -> str | None:
    """Why ``name`` is not a valid dotted table name, or ``None`` when it is."""
    if not isinstance(name, str):
        return f"table name must be a string, got {type(name).__name__}"
    if not _TABLE_NAME.match(name):
        return (
            f"table name {name!r} is not a dotted name of letters, digits, '_' and '-' "
            "(e.g. 'raw.orders')"
        )
    return None


def _absolute(path: str, base: Path) -> str:
    if "://" in path:
        return path
    expanded = os.path.expanduser(path)
    return str(Path(expanded) if os.path.isabs(expanded) else base / expanded)


class Storage:
    """Resolves table names, file paths and file aliases to :class:`Location` s.

    Args:
        settings: The ``storage`` section.
        base: Directory relative paths are resolved against (the current one by default).

    """

    __slots__ = ("_base", "settings")

    def __init__(self, settings: StorageSettings | None = None, *, base: Path | None = None):
        self.settings = settings or StorageSettings()
        self._base = base or Path.cwd()

    @property
    def root(self) -> str:
        """The absolute root (or root URI) of the tables."""
        return _absolute(self.settings.root, self._base)

    def table(self, name: str) -> Location:
        """Where table ``name`` lives: ``storage.tables[name]`` or ``<root>/a/b``."""
        options = dict(self.settings.storage_options)
        override = self.settings.tables.get(name)
        if override is not None:
            options.update(override.storage_options)
        if override is not None and override.path:
            uri = _absolute(override.path, self._base)
        else:
            uri = "/".join([self.root.rstrip("/"), *name.split(".")])
            if "://" not in uri:
                uri = str(Path(uri))
        return Location(uri, MappingProxyType(options))

    def path(self, path: str) -> Location:
        """A file path given in a declaration, made absolute."""
        return Location(
            _absolute(path, self._base), MappingProxyType(dict(self.settings.storage_options))
        )

    def alias(self, name: str) -> Location | None:
        """The location of file alias ``name``, or ``None`` when it is not configured."""
        entry = self.settings.files.get(name)
        if entry is None:
            return None
        options = {**self.settings.storage_options, **entry.storage_options}
        return Location(_absolute(entry.path, self._base), MappingProxyType(options))

    @property
    def aliases(self) -> tuple[str, ...]:
        """The configured file aliases, sorted."""
        return tuple(sorted(self.settings.files))
