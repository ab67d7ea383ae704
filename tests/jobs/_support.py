"""Helpers shared by the loom-jobs tests: brokers, namespaces, configs."""

from __future__ import annotations

import contextlib
import itertools
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

RUN_ID = uuid.uuid4().hex[:8]
_COUNTER = itertools.count(1)

REDIS_URL = "redis://127.0.0.1:6379/0"
AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/%2F"
APPS = Path(__file__).parent / "apps"

BACKENDS = {
    "inline": ("inline", "redis://unused"),
    "stub": ("dramatiq", "stub://"),
    "redis": ("dramatiq", REDIS_URL),
    "rabbitmq": ("dramatiq", AMQP_URL),
}
"""Test id -> (jobs.backend, jobs.broker)."""

SEED_MODULES = ["tests.core.seed.models", "tests.core.seed.jobs", "tests.core.seed.use_cases"]


def backend_params(*names: str) -> list[Any]:
    """``pytest.param``s for backends, with the service markers they need."""
    marks = {"redis": [pytest.mark.redis], "rabbitmq": [pytest.mark.rabbitmq]}
    return [pytest.param(name, marks=marks.get(name, []), id=name) for name in names]


def new_namespace() -> str:
    """A queue/key namespace unique to one test of this run."""
    return f"loomtest{RUN_ID}n{next(_COUNTER)}"


def purge_redis(namespace: str) -> None:
    """Delete every Redis key of ``namespace``."""
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    try:
        keys = list(client.scan_iter(match=f"{namespace}*", count=1000))
        for start in range(0, len(keys), 500):
            client.delete(*keys[start : start + 500])
    finally:
        client.close()


def purge_rabbitmq(queues: set[str]) -> None:
    """Delete the RabbitMQ queues (and their delay and dead-letter queues)."""
    import pika

    connection = pika.BlockingConnection(pika.URLParameters(AMQP_URL))
    try:
        channel = connection.channel()
        for queue in queues:
            for name in (queue, f"{queue}.DQ", f"{queue}.XQ"):
                channel.queue_delete(name)
    finally:
        connection.close()


@contextlib.contextmanager
def broker_cleanup(broker_url: str, namespace: str, queues: set[str]) -> Iterator[None]:
    """Remove what a test left in its broker namespace."""
    try:
        yield
    finally:
        if broker_url.startswith("redis"):
            purge_redis(namespace)
        elif broker_url.startswith("amqp"):
            purge_rabbitmq(queues)


def runtime_config(
    backend: str, namespace: str, *, modules: list[str], database: str = "memory://", **jobs: Any
) -> dict[str, Any]:
    """Config data for a runtime of ``modules`` on one of :data:`BACKENDS`."""
    kind, broker = BACKENDS[backend]
    return {
        "app": {
            "name": "jobs-tests",
            "secret_key": "tests",
            "discovery": {"mode": "modules", "modules": {"include": modules}},
        },
        "database": {"url": database},
        "jobs": {"backend": kind, "broker": broker, "namespace": namespace, **jobs},
        "observability": {"log": {"level": "WARNING"}},
    }


def worker_config(
    path: Path,
    *,
    broker: str,
    namespace: str,
    database: str,
    prometheus_port: int | None = None,
) -> Path:
    """Write the config of ``apps/jobsapp`` for ``loom worker`` and the test process."""
    observability: dict[str, Any] = {"log": {"level": "INFO"}}
    if prometheus_port is not None:
        observability["prometheus"] = {"enabled": True, "port": prometheus_port}
    import yaml

    config = {
        "app": {
            "name": "jobsapp",
            "code_path": str(APPS),
            "secret_key": "tests",
            "discovery": {
                "mode": "modules",
                "modules": {"include": ["jobsapp.models", "jobsapp.jobs", "jobsapp.use_cases"]},
            },
        },
        "database": {"url": database},
        "jobs": {"backend": "dramatiq", "broker": broker, "namespace": namespace},
        "observability": observability,
    }
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


class WorkerProcess:
    """A ``loom worker`` subprocess with its output in a log file."""

    def __init__(self, config: Path, *args: str, log: Path, env: dict[str, str] | None = None):
        import os
        import subprocess
        import sys

        self.log = log
        self._file = log.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "loom.core.cli", "worker", str(config), *args],
            stdout=self._file,
            stderr=subprocess.STDOUT,
            cwd=str(config.parent),
            env={**os.environ, **(env or {})},
        )

    @property
    def pid(self) -> int:
        return self.process.pid

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    async def wait_ready(self, timeout: float = 30.0, *, count: int = 1) -> None:
        """Wait for ``count`` "consuming" lines (one per worker process)."""
        import asyncio
        import time

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.output().count(" consuming ") >= count:
                return
            if self.process.poll() is not None:
                raise AssertionError(
                    f"worker exited with {self.process.returncode}:\n{self.output()}"
                )
            await asyncio.sleep(0.05)
        raise AssertionError(f"worker not ready after {timeout}s:\n{self.output()}")

    async def stop(self, sig: int | None = None, timeout: float = 30.0) -> int:
        """Send ``sig`` (SIGTERM) and wait for the exit code (the event loop keeps running)."""
        import asyncio
        import signal
        import subprocess

        if self.process.poll() is None:
            self.process.send_signal(sig if sig is not None else signal.SIGTERM)
        try:
            return await asyncio.to_thread(self.process.wait, timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError(
                f"worker did not stop within {timeout}s:\n{self.output()}"
            ) from None
        finally:
            self._file.close()
