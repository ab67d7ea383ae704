"""Choosing and configuring the backend: entry points, broker URLs, status stores."""

from __future__ import annotations

from importlib.metadata import entry_points
from typing import Any

import pytest
from tests.jobs._support import SEED_MODULES, runtime_config

from loom.core.bootstrap import load_runtime
from loom.core.errors import ConfigurationError
from loom.jobs._brokers import broker_scheme, redis_url
from loom.jobs.dramatiq_backend import DramatiqJobRuntime
from loom.jobs.inline import InlineJobRuntime


def test_both_backends_and_the_worker_command_are_registered() -> None:
    backends = {ep.name: ep.value for ep in entry_points(group="loom.job_backends")}
    assert backends["inline"] == "loom.jobs.inline:open_inline_runtime"
    assert backends["dramatiq"] == "loom.jobs.dramatiq_backend:open_dramatiq_runtime"
    (worker,) = entry_points(group="loom.cli", name="worker")
    assert worker.value == "loom.jobs.cli:worker"


def config(backend: str, **jobs: Any) -> dict[str, Any]:
    return runtime_config(backend, "cfgtest", modules=SEED_MODULES, **jobs)


def test_the_backend_comes_from_the_config() -> None:
    assert isinstance(load_runtime(data=config("inline")).jobs, InlineJobRuntime)
    runtime = load_runtime(data=config("stub"))
    assert isinstance(runtime.jobs, DramatiqJobRuntime)
    assert runtime.jobs.namespace.queue("notifications") == "cfgtest.notifications"


def test_redis_states_need_a_redis_broker() -> None:
    data = config("stub", status_store="redis")
    with pytest.raises(ConfigurationError, match="status_store: redis needs a redis://") as info:
        load_runtime(data=data)
    assert info.value.key == "jobs.status_store"  # type: ignore[attr-defined]


@pytest.mark.parametrize("url", ["kafka://somewhere", "http://127.0.0.1"])
def test_unknown_broker_schemes_are_refused(url: str) -> None:
    data = config("stub")
    data["jobs"]["broker"] = url
    with pytest.raises(ConfigurationError, match="use a redis://, amqp:// or stub://"):
        load_runtime(data=data)


def test_redis_urls_carry_dramatiq_options_apart_from_the_clients() -> None:
    client, options = redis_url("redis://h:6379/2?heartbeat_timeout=2000&ssl_cert_reqs=none")
    assert client == "redis://h:6379/2?ssl_cert_reqs=none"
    assert options == {"heartbeat_timeout": 2000}
    with pytest.raises(ConfigurationError, match="heartbeat_timeout"):
        redis_url("redis://h/0?heartbeat_timeout=soon")
    assert [broker_scheme(u) for u in ("rediss://x", "amqps://x", "stub://")] == [
        "redis",
        "amqp",
        "stub",
    ]
