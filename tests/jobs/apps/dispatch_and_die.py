"""Dispatch effects, then die between the commit and the send (``os._exit``).

Usage: python dispatch_and_die.py CONFIG PREFIX COUNT — prints the committed job ids.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Sequence
from typing import Any

from loom.core.bootstrap import load_runtime


async def main(config: str, prefix: str, count: int) -> None:
    runtime = load_runtime(config)
    await runtime.start()
    from jobsapp.use_cases import DispatchEffects

    def die(messages: Sequence[Any]) -> None:
        sys.stdout.write(",".join(m.job_id for m in messages))
        sys.stdout.flush()
        os._exit(3)

    runtime.jobs.service.outbox.before_send = die  # type: ignore[union-attr]
    await runtime.application.invoker.invoke(
        DispatchEffects, payload={"prefix": prefix, "count": count}
    )
    raise SystemExit("the send was not reached")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
