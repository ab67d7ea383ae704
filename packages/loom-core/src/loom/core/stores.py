"""The store contract: how an application opens its persistence from ``database.url``.

loom-core does not import a database driver. A distribution that persists models
(loom-store) registers a provider in the ``loom.stores`` entry-point group, named after
the URL scheme it serves (``sqlite``, ``postgresql``); ``open_store`` picks the provider
from the scheme of ``database.url`` (``postgresql+asyncpg://...`` → ``postgresql``).
``memory://`` is built in: the in-memory store of :mod:`loom.core.testing`, for tests and
demos.
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib.metadata import entry_points
from typing import Any, Protocol, runtime_checkable

from loom.core.config._settings import DatabaseSettings
from loom.core.errors import ConfigurationError
from loom.core.repository.abc.uow import UnitOfWorkFactory

__all__ = ["STORE_GROUP", "Store", "StoreProvider", "open_store", "url_scheme"]

STORE_GROUP = "loom.stores"


@runtime_checkable
class Store(Protocol):
    """An open persistence backend: units of work over the application's models."""

    @property
    def uow_factory(self) -> UnitOfWorkFactory:
        """Opens units of work (transactions) on this store."""
        ...

    async def start(self) -> None:
        """Open pools; create missing tables when ``database.auto_create`` is true."""
        ...

    async def stop(self) -> None:
        """Close pools and connections."""
        ...


class StoreProvider(Protocol):
    """Builds a :class:`Store` (not yet started) for a ``database`` section."""

    def __call__(
        self, settings: DatabaseSettings, *, models: Sequence[type[Any]], secret: bytes
    ) -> Store:
        """Return the store for ``settings.url`` over ``models``; ``secret`` signs cursors."""
        ...


def url_scheme(url: str) -> str:
    """The backend part of a database URL's scheme: ``postgresql+asyncpg://`` → ``postgresql``."""
    scheme, sep, _ = url.partition("://")
    if not sep:
        raise ConfigurationError(
            f"database.url {url!r} is not a URL; e.g. sqlite+aiosqlite:///./app.db",
            key="database.url",
        )
    return scheme.split("+", 1)[0].lower()


class _MemoryStore:
    """The built-in ``memory://`` store."""

    def __init__(self, models: Sequence[type[Any]], secret: bytes) -> None:
        from loom.core.testing.memory import InMemoryDatabase, InMemoryUnitOfWorkFactory

        self._factory = InMemoryUnitOfWorkFactory(InMemoryDatabase(*models, cursor_secret=secret))

    @property
    def uow_factory(self) -> UnitOfWorkFactory:
        return self._factory

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None


def open_store(settings: DatabaseSettings, *, models: Sequence[type[Any]], secret: bytes) -> Store:
    """Build the store for ``settings.url`` through the provider registered for its scheme.

    Raises:
        ConfigurationError: no installed distribution serves the URL's scheme.
    """
    scheme = url_scheme(settings.url)
    if scheme == "memory":
        return _MemoryStore(models, secret)
    found = list(entry_points(group=STORE_GROUP, name=scheme))
    if not found:
        known = sorted({ep.name for ep in entry_points(group=STORE_GROUP)} | {"memory"})
        raise ConfigurationError(
            f"no store serves {scheme}:// URLs; install loom-store (known schemes: "
            f"{', '.join(known)})",
            key="database.url",
        )
    provider: StoreProvider = found[0].load()
    return provider(settings, models=models, secret=secret)
