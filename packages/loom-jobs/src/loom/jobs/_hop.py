"""Running a coroutine on the process's event loop from a Dramatiq worker thread.

Dramatiq's own ``EventLoopThread.run_coroutine`` goes through
``asyncio.run_coroutine_threadsafe``: a wrapper coroutine, a ``concurrent.futures``
future chained to the task and a ``Condition`` to wake the caller. This does the same
with less: the loop creates the task, its done-callback releases a plain lock the
worker thread waits on. The wait wakes every ``interrupt_check`` seconds so Dramatiq's
asynchronous interrupts (time limit, shutdown) are raised; the task is then cancelled
and given a second to unwind.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

__all__ = ["run_on_loop"]

T = TypeVar("T")

INTERRUPT_CHECK = 0.1
UNWIND = 1.0


def run_on_loop(
    loop: asyncio.AbstractEventLoop,
    coroutine: Coroutine[Any, Any, T],
    *,
    interrupt_check: float = INTERRUPT_CHECK,
) -> T:
    """Run ``coroutine`` on ``loop`` (running in another thread) and return its result.

    Raises:
        BaseException: what the coroutine raised, or an interrupt raised in this thread
            while waiting (after the coroutine was cancelled).
    """
    done = threading.Lock()
    done.acquire()
    started: list[asyncio.Task[T]] = []

    def release(_task: asyncio.Task[T]) -> None:
        done.release()

    def start() -> None:
        task = loop.create_task(coroutine)
        started.append(task)
        task.add_done_callback(release)

    loop.call_soon_threadsafe(start)
    try:
        while not done.acquire(timeout=interrupt_check):
            pass
    except BaseException:

        def cancel() -> None:
            if started:
                started[0].cancel()

        loop.call_soon_threadsafe(cancel)  # runs after start(): call_soon keeps order
        done.acquire(timeout=UNWIND)
        raise
    return started[0].result()
