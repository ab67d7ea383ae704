"""The per-unit-of-work scope: its own cache of SCOPED instances and its close hooks."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable, Hashable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

from loom.core.di._plan import DependencyError, Scope, type_name

if TYPE_CHECKING:
    from loom.core.di._container import Container

__all__ = ["Scope", "ScopeContext"]

T = TypeVar("T")


class ScopeContext:
    """One unit of work: caches SCOPED instances and closes them on exit.

    Use it as a context manager (``with`` or ``async with``). Values passed when the
    scope is opened (e.g. ``{UnitOfWork: uow}``) are resolvable in it and are never
    closed by it; instances it created that have ``close()``/``aclose()`` are closed on
    exit, most recent first. Tasks of one event loop may share a scope (an async SCOPED
    factory then runs once); a scope is not meant to be shared across threads.
    """

    __slots__ = ("_cache", "_closed", "_container", "_created", "_pending")

    def __init__(self, container: Container, values: Mapping[Any, object] | None = None) -> None:
        self._container = container
        self._cache: dict[Hashable, object] = dict(values) if values else {}
        self._created: list[object] = []
        self._pending: dict[object, asyncio.Future[object]] = {}
        self._closed = False

    @property
    def closed(self) -> bool:
        """Whether the scope has been closed."""
        return self._closed

    def resolve(self, key: Callable[..., T]) -> T:
        """Return the instance for ``key`` in this scope.

        Raises:
            DependencyError: No provider, a cycle, an async provider, or a closed scope.

        """
        if self._closed:
            raise DependencyError(f"cannot resolve {type_name(key)}: the scope is closed")
        value: T = self._container._resolve_in(key, self)
        return value

    async def aresolve(self, key: Callable[..., T]) -> T:
        """Return the instance for ``key`` in this scope, awaiting async factories."""
        if self._closed:
            raise DependencyError(f"cannot resolve {type_name(key)}: the scope is closed")
        value: T = await self._container._aresolve_in(key, self)
        return value

    def build(self, cls: type[T], /, **explicit: object) -> T:
        """Instantiate ``cls`` injecting its ``__init__`` parameters from this scope.

        Args:
            cls: Any class; it need not be registered.
            **explicit: Arguments passed as given instead of being resolved.

        """
        if self._closed:
            raise DependencyError(f"cannot build {type_name(cls)}: the scope is closed")
        built: T = self._container._build_in(cls, self, explicit)
        return built

    async def abuild(self, cls: type[T], /, **explicit: object) -> T:
        """Like :meth:`build`, awaiting async factories among the dependencies."""
        if self._closed:
            raise DependencyError(f"cannot build {type_name(cls)}: the scope is closed")
        built: T = await self._container._abuild_in(cls, self, explicit)
        return built

    def close(self) -> None:
        """Close the instances this scope created (``close()``), most recent first.

        Instances that can only be closed asynchronously stay pending for :meth:`aclose`.

        Raises:
            DependencyError: Some instance can only be closed asynchronously.

        """
        errors: list[Exception] = []
        needs_async: list[object] = []
        for obj in self._finish():
            close = getattr(obj, "close", None)
            if callable(close) and not inspect.iscoroutinefunction(close):
                try:
                    result = close()
                except Exception as exc:  # noqa: BLE001 - re-raised after closing the rest
                    errors.append(exc)
                    continue
                if inspect.iscoroutine(result):
                    result.close()
                    needs_async.append(obj)
            elif callable(close) or callable(getattr(obj, "aclose", None)):
                needs_async.append(obj)
        if needs_async:
            self._created.extend(reversed(needs_async))
            names = ", ".join(type_name(type(obj)) for obj in needs_async)
            errors.append(
                DependencyError(
                    f"{names} can only be closed asynchronously: open the scope with "
                    "`async with container.scope()` or await `scope.aclose()`"
                )
            )
        _raise_all(errors)

    async def aclose(self) -> None:
        """Close what this scope created (``aclose()`` or ``close()``), most recent first."""
        errors: list[Exception] = []
        for obj in self._finish():
            try:
                aclose = getattr(obj, "aclose", None)
                if callable(aclose):
                    await aclose()
                    continue
                close = getattr(obj, "close", None)
                if callable(close):
                    result = close()
                    if inspect.isawaitable(result):
                        await result
            except Exception as exc:  # noqa: BLE001 - re-raised after closing the rest
                errors.append(exc)
        _raise_all(errors)

    def _finish(self) -> list[object]:
        """Mark the scope closed; return what it created and is not closed yet, newest first."""
        self._closed = True
        created = self._created[::-1]
        self._created.clear()
        self._cache.clear()
        return created

    def __enter__(self) -> ScopeContext:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    async def __aenter__(self) -> ScopeContext:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


def _raise_all(errors: list[Exception]) -> None:
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise ExceptionGroup("errors while closing the scope", errors)
