"""Errors of loom-store: the ``StoreError`` subtree of :class:`~loom.core.errors.LoomError`.

Database failures are translated before they leave a repository: a taken unique value
becomes :class:`~loom.core.errors.Conflict`, a missing foreign-key parent or a bad value a
:class:`~loom.core.errors.ValidationError`, an unreachable database
:class:`StoreUnavailable` (503). The driver's own message is logged, never shown.
"""

from __future__ import annotations

from loom.core.errors import InternalError, LoomError, ServiceUnavailable

__all__ = ["MigrationError", "ReadOnlyError", "StoreError", "StoreUnavailable"]


class StoreError(LoomError):
    """Root of the errors loom-store raises on its own account."""

    code = "store_error"


class StoreUnavailable(StoreError, ServiceUnavailable):
    """The database cannot be reached right now (refused, lost or timed-out connection)."""

    code = "service_unavailable"


class ReadOnlyError(StoreError, InternalError):
    """A write was attempted through a read-only unit of work (a bug in the caller)."""

    code = "internal_error"


class MigrationError(StoreError):
    """A migration command failed: no migrations folder, an unknown revision, a DDL error.

    Raised by ``loom db`` (and :mod:`loom.store.migrations`); its message is meant for
    the operator and may carry the database's own words.
    """

    code = "migration_error"
