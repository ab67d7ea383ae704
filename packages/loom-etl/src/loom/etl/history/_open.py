"""Opening the run history the ``history`` section (and the storage root) point at."""

from __future__ import annotations

from pathlib import Path

from loom.etl.backend._storage import Storage
from loom.etl.history._store import RunHistory
from loom.etl.settings import HistorySettings

__all__ = ["HISTORY_FILE", "default_history_url", "open_history"]

HISTORY_FILE = "_loom_runs.db"


def default_history_url(storage: Storage) -> str:
    """``sqlite:///<root>/_loom_runs.db`` for a local root, else ``./_loom_runs.db``."""
    root = storage.root
    if "://" in root and not root.startswith("file://"):
        return f"sqlite:///{Path.cwd() / HISTORY_FILE}"
    return f"sqlite:///{Path(root.removeprefix('file://')) / HISTORY_FILE}"


def open_history(settings: HistorySettings | None, storage: Storage) -> RunHistory | None:
    """The run history configured by ``settings`` (``None`` when it is disabled).

    Raises:
        ConfigurationError: ``history.url`` is not a ``sqlite://`` URL.
    """
    settings = settings or HistorySettings()
    if not settings.enabled:
        return None
    return RunHistory(settings.url or default_history_url(storage))
