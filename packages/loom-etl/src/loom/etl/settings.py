"""The ``storage`` and ``history`` config sections loom-etl reads.

Both are registered through the ``loom.settings`` entry points, so ``loom config
validate`` knows them whenever loom-etl is installed::

    storage:
      engine: polars                       # or: spark (not available yet)
      root: ./lake                         # table "raw.orders" lives at <root>/raw/orders
      storage_options: {}                  # defaults for every table and file
      tables: {raw.orders: {path: s3://bucket/raw/orders, storage_options: {}}}
      files: {events_raw: {path: ./data/events/*.csv}}
    history: {url: sqlite:///./lake/_loom_runs.db}   # runs, lineage, high-water marks

Relative paths are relative to the current directory.
"""

from __future__ import annotations

from typing import Literal

import msgspec

__all__ = ["FileSettings", "HistorySettings", "StorageSettings", "TableSettings"]


class _Section(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, frozen=True):
    """Base of loom-etl's settings: unknown keys are errors, values are immutable."""


class TableSettings(_Section, frozen=True):
    """``storage.tables.<name>``: where one table lives, overriding ``<root>/<name path>``.

    Attributes:
        path: Local path or URI (``s3://…``, ``abfss://…``) of the Delta table.
        storage_options: Object-store options for this table, over ``storage.storage_options``.

    """

    path: str | None = None
    storage_options: dict[str, str] = msgspec.field(default_factory=dict)


class FileSettings(_Section, frozen=True):
    """``storage.files.<alias>``: the path behind ``FromFile.alias`` / ``IntoFile.alias``.

    Attributes:
        path: Local path or URI; sources may use ``*`` globs.
        storage_options: Object-store options for these files.

    """

    path: str
    storage_options: dict[str, str] = msgspec.field(default_factory=dict)


class StorageSettings(_Section, frozen=True):
    """``storage``: the engine and where tables and files live.

    Attributes:
        engine: ``polars`` (Polars on Delta Lake) or ``spark`` (not available yet).
        root: Directory or URI under which table ``a.b`` lives at ``<root>/a/b``.
        storage_options: Object-store options for every table and file.
        tables: Per-table path and option overrides, by dotted table name.
        files: File aliases, by name.

    """

    engine: Literal["polars", "spark"] = "polars"
    root: str = "./lake"
    storage_options: dict[str, str] = msgspec.field(default_factory=dict)
    tables: dict[str, TableSettings] = msgspec.field(default_factory=dict)
    files: dict[str, FileSettings] = msgspec.field(default_factory=dict)


class HistorySettings(_Section, frozen=True):
    """``history``: where run records, step attempts, lineage and high-water marks are kept.

    Attributes:
        url: ``sqlite:///path/to/runs.db``; by default ``<storage.root>/_loom_runs.db``
            for a local root, ``./_loom_runs.db`` for an object-store root.
        enabled: ``false`` keeps no history (no resume, no incremental sources).

    """

    url: str | None = None
    enabled: bool = True
