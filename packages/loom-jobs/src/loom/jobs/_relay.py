"""The relay: sends outbox rows that were committed but never sent.

It runs as an asyncio task in every process that starts the job runtime (API processes
and ``loom worker``). Each tick it reads rows unsent for longer than ``grace`` seconds,
claims them (see :meth:`Outbox.claim`) and sends them. Delivery is at least once: a row
whose send succeeded but whose "sent" mark was lost is sent again.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time

from loom.core.logging import logger
from loom.jobs._outbox import Outbox

__all__ = ["Relay", "RelaySettings"]


def _env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    try:
        return float(raw) if raw else default
    except ValueError:
        logger.warning("{name}={raw!r} is not a number; using {default}",
                       name=name, raw=raw, default=default)  # fmt: skip
        return default


class RelaySettings:
    """How the relay runs; each value can be set by an environment variable.

    Attributes:
        interval: Seconds between ticks (``LOOM_JOBS_RELAY_INTERVAL``, default 1).
        grace: Seconds a row may stay unsent before the relay sends it
            (``LOOM_JOBS_RELAY_GRACE``, default 5).
        batch: Rows claimed per tick.
        retention: Seconds sent rows are kept before they are purged
            (``LOOM_JOBS_OUTBOX_RETENTION``, default one day).
    """

    def __init__(
        self,
        *,
        interval: float | None = None,
        grace: float | None = None,
        batch: int = 100,
        retention: float | None = None,
    ) -> None:
        self.interval = (
            interval if interval is not None else _env_float("LOOM_JOBS_RELAY_INTERVAL", 1.0)
        )
        self.grace = grace if grace is not None else _env_float("LOOM_JOBS_RELAY_GRACE", 5.0)
        self.batch = batch
        self.retention = (
            retention
            if retention is not None
            else _env_float("LOOM_JOBS_OUTBOX_RETENTION", 86400.0)
        )


class Relay:
    """Periodically resends stale outbox rows.

    Args:
        outbox: The outbox to read and claim from.
        settings: Interval, grace, batch size and retention.
    """

    PURGE_EVERY = 60.0

    def __init__(self, outbox: Outbox, settings: RelaySettings | None = None) -> None:
        self.outbox = outbox
        self.settings = settings or RelaySettings()
        self._task: asyncio.Task[None] | None = None
        self._last_purge = time.monotonic()
        self.relayed = 0
        """Messages this relay has sent so far."""

    async def tick(self) -> int:
        """One pass: claim and send due rows; return how many were sent."""
        rows = await self.outbox.due(self.settings.grace, self.settings.batch)
        if not rows:
            return 0
        claimed = await self.outbox.claim(rows, self.settings.grace)
        if not claimed:
            return 0
        logger.warning(
            "relay: sending {n} job(s) committed but not sent: {ids}",
            n=len(claimed), ids=", ".join(m.job_id for m in claimed[:10]),
        )  # fmt: skip
        if await self.outbox.deliver(claimed, relayed=True):
            self.relayed += len(claimed)
            return len(claimed)
        return 0

    async def _run(self) -> None:
        while True:
            try:
                while await self.tick() >= self.settings.batch:
                    pass
                if time.monotonic() - self._last_purge >= self.PURGE_EVERY:
                    self._last_purge = time.monotonic()
                    await self.outbox.purge(self.settings.retention)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 - the relay keeps going
                logger.warning("relay tick failed: {error!r}", error=error)
            await asyncio.sleep(self.settings.interval)

    def start(self) -> None:
        """Start the relay task on the running loop."""
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run(), name="loom-jobs-relay")

    async def stop(self) -> None:
        """Stop the relay task."""
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
