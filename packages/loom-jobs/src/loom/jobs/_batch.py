"""Group commit: many coroutines submit small writes, flushed together in few round trips."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

from loom.core.logging import logger

__all__ = ["Batcher"]

T = TypeVar("T")
R = TypeVar("R")


class Batcher(Generic[T, R]):
    """Collects items and flushes them in batches.

    Items submitted during one turn of the event loop go out in one flush, started on
    the next turn; while ``concurrency`` flushes are in flight, new items wait and go out
    together in the next one. Under load N writes become a few round trips; idle, an item
    is flushed at once. The flush function returns one result per item, in order; if it
    raises, every item of that batch gets the exception. Items of one job must be
    submitted one after the other (await each), which keeps them in order.

    Args:
        flush: Writes a batch; returns a result per item.
        name: For log lines.
        max_size: Most items per flush.
        concurrency: Most flushes in flight at once.
    """

    def __init__(
        self,
        flush: Callable[[Sequence[T]], Awaitable[Sequence[R]]],
        *,
        name: str,
        max_size: int = 500,
        concurrency: int = 1,
    ) -> None:
        self._flush = flush
        self._name = name
        self._max_size = max_size
        self._concurrency = concurrency
        self._items: list[tuple[T, asyncio.Future[R] | None]] = []
        self._flushing: set[asyncio.Task[None]] = set()
        self._scheduled = False
        self._closed = False

    @property
    def closed(self) -> bool:
        """True once :meth:`close` was called."""
        return self._closed

    @property
    def pending(self) -> int:
        """Items not flushed yet."""
        return len(self._items)

    def submit(self, item: T) -> asyncio.Future[R]:
        """Queue ``item``; the future resolves once its batch is flushed."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[R] = loop.create_future()
        self._add(loop, item, future)
        return future

    def post(self, item: T) -> None:
        """Queue ``item`` without waiting for it (errors are logged)."""
        self._add(asyncio.get_running_loop(), item, None)

    def _add(
        self, loop: asyncio.AbstractEventLoop, item: T, future: asyncio.Future[R] | None
    ) -> None:
        if self._closed:
            raise RuntimeError(f"{self._name} is closed")
        self._items.append((item, future))
        if not self._scheduled:
            self._scheduled = True
            loop.call_soon(self._kick)

    def _kick(self) -> None:
        self._scheduled = False
        loop = asyncio.get_running_loop()
        while self._items and len(self._flushing) < self._concurrency:
            batch = self._items[: self._max_size]
            del self._items[: self._max_size]
            task = loop.create_task(self._flush_batch(batch), name=f"loom-jobs-{self._name}")
            self._flushing.add(task)
            task.add_done_callback(self._flushed)

    def _flushed(self, task: asyncio.Task[None]) -> None:
        self._flushing.discard(task)
        if self._items and not self._scheduled:
            self._kick()

    async def _flush_batch(self, batch: list[tuple[T, asyncio.Future[R] | None]]) -> None:
        try:
            results = await self._flush([item for item, _ in batch])
        except Exception as error:  # noqa: BLE001 - handed to every waiter
            waited = False
            for _, future in batch:
                if future is not None and not future.done():
                    future.set_exception(error)
                    waited = True
            if not waited:
                logger.warning("{name}: flush of {n} item(s) failed: {error!r}",
                               name=self._name, n=len(batch), error=error)  # fmt: skip
            return
        for (_, future), result in zip(batch, results, strict=True):
            if future is not None and not future.done():
                future.set_result(result)

    async def close(self) -> None:
        """Flush what is queued, wait for flushes in flight, then refuse new items."""
        self._closed = True
        while self._items or self._flushing:
            if self._items and len(self._flushing) < self._concurrency:
                batch = self._items[: self._max_size]
                del self._items[: self._max_size]
                await self._flush_batch(batch)
            elif self._flushing:
                await asyncio.wait(set(self._flushing))
