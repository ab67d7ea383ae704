"""Shared fixtures and the service-availability gate for the whole suite.

Tests that need a backing service carry its marker (``postgres``, ``redis``,
``rabbitmq``). Before such a test runs, :func:`pytest_runtest_setup` checks once per
session that the service's port accepts a TCP connection. When it does not, the test is
skipped with the reason, or fails when ``LOOM_REQUIRE_SERVICES=1`` (CI sets it, so a
missing service can never turn into a silently green run).
"""

from __future__ import annotations

import functools
import os
import socket
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

SERVICES: dict[str, tuple[str, int]] = {
    "postgres": ("127.0.0.1", 5432),
    "redis": ("127.0.0.1", 6379),
    "rabbitmq": ("127.0.0.1", 5672),
}
"""Marker name -> the address its service must listen on."""

CONNECT_TIMEOUT = 1.0
REQUIRE_SERVICES_ENV = "LOOM_REQUIRE_SERVICES"


@functools.cache
def tcp_reachable(host: str, port: int) -> bool:
    """Return whether ``host:port`` accepts a TCP connection; cached for the session."""
    try:
        with socket.create_connection((host, port), timeout=CONNECT_TIMEOUT):
            return True
    except OSError:
        return False


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Skip (or, with ``LOOM_REQUIRE_SERVICES=1``, fail) tests whose service is down."""
    for marker in item.iter_markers():
        address = SERVICES.get(marker.name)
        if address is None:
            continue
        host, port = address
        if tcp_reachable(host, port):
            continue
        reason = (
            f"{marker.name} is not reachable at {host}:{port} "
            f"(no TCP connection within {CONNECT_TIMEOUT:g} s)"
        )
        if os.environ.get(REQUIRE_SERVICES_ENV) == "1":
            pytest.fail(f"{reason}; {REQUIRE_SERVICES_ENV}=1 requires it", pytrace=False)
        pytest.skip(reason)


WriteYaml = Callable[[str, str], Path]


@pytest.fixture
def write_yaml(tmp_path: Path) -> WriteYaml:
    """Return ``write(name, text)``: write dedented YAML under ``tmp_path``, return its path."""

    def write(name: str, text: str) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return path

    return write
