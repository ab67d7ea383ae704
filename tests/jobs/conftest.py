"""Fixtures of the loom-jobs tests: unique namespaces and started runtimes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from tests.jobs._support import (
    BACKENDS,
    SEED_MODULES,
    broker_cleanup,
    new_namespace,
    runtime_config,
)

from loom.core.bootstrap import Runtime, load_runtime


@pytest.fixture
def namespace() -> str:
    """A queue/key namespace unique to this test in this run."""
    return new_namespace()


RuntimeFactory = Callable[..., Awaitable[Runtime]]


@pytest.fixture
async def make_runtime(namespace: str) -> AsyncIterator[RuntimeFactory]:
    """``await make_runtime(backend, modules=..., **jobs)``: a started runtime, stopped after."""
    started: list[tuple[Runtime, str]] = []

    async def make(
        backend: str, *, modules: list[str] | None = None, database: str = "memory://", **jobs: Any
    ) -> Runtime:
        data = runtime_config(
            backend, namespace, modules=modules or SEED_MODULES, database=database, **jobs
        )
        runtime = load_runtime(data=data)
        await runtime.start()
        started.append((runtime, BACKENDS[backend][1]))
        return runtime

    yield make
    for runtime, broker in started:
        queues: set[str] = set()
        if runtime.jobs is not None and hasattr(runtime.jobs, "queue_names"):
            queues = runtime.jobs.queue_names()
        with broker_cleanup(broker, namespace, queues):
            if runtime.started:
                await runtime.stop()
