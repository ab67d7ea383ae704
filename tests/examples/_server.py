"""Serve the example store app (examples/store) as a real ``loom serve`` subprocess.

Every server gets a free port on 127.0.0.1, a fresh database passed as a ``database.url``
override, and a log file (stdout and stderr, never a pipe that could fill up).

PostgreSQL: each server gets its own schema, created here and dropped afterwards. The
server reaches it through ``search_path`` set *in the URL*: SQLAlchemy's asyncpg dialect
passes URL query options to ``asyncpg.connect()`` as keyword arguments, and asyncpg turns
the unknown query options of a ``dsn`` into server settings. So
``postgresql+asyncpg://postgres@host/test?dsn=postgresql%3A%2F%2F%2F%3Fsearch_path%3Dschema``
connects to ``host/test`` (host, port, user and database come from the URL; the inner
DSN adds only ``search_path``). See :func:`pg_url`.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

ROOT = Path(__file__).resolve().parents[2]
STORE_DIR = ROOT / "examples" / "store"
PG_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
STARTUP_SECONDS = 60.0
STOP_SECONDS = 20.0
ENV_DROPPED = ("DATABASE_URL", "JOBS_BACKEND", "BROKER_URL", "LOOM_SERVE_ARGS")
"""Variables the example config reads: the tests pass everything explicitly instead."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_env(**extra: str) -> dict[str, str]:
    """This process's environment without the example's switches, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if k not in ENV_DROPPED}
    env.update(PYTHONUNBUFFERED="1", NO_COLOR="1", **extra)
    return env


def loom_command() -> list[str]:
    """The ``loom`` console script of this interpreter's environment (else ``-m``)."""
    script = Path(sys.executable).with_name("loom")
    return [str(script)] if script.exists() else [sys.executable, "-m", "loom.core.cli"]


def sqlite_url(path: Path) -> str:
    """An async SQLite URL for the database file ``path``."""
    return f"sqlite+aiosqlite:///{path}"


def pg_url(schema: str) -> str:
    """The PostgreSQL URL of the test server whose connections use ``schema`` only."""
    inner = quote(f"postgresql:///?search_path={schema}", safe="")
    return f"{PG_URL}?dsn={inner}"


def url_override(url: str) -> str:
    """``database.url=...`` quoted for the Hydra override grammar (``?``, ``=``, ``%``)."""
    assert "'" not in url, url
    return f"database.url='{url}'"


async def _admin(statement: str) -> None:
    engine = create_async_engine(PG_URL, poolclass=NullPool)
    try:
        async with engine.begin() as connection:
            await connection.execute(text(statement))
    finally:
        await engine.dispose()


def create_pg_schema(prefix: str = "loom_store") -> str:
    """Create a fresh, uniquely named schema on the test server; return its name."""
    schema = f"{prefix}_{secrets.token_hex(5)}"
    asyncio.run(_admin(f'CREATE SCHEMA "{schema}"'))
    return schema


def drop_pg_schema(schema: str) -> None:
    """Drop ``schema`` and everything in it."""
    asyncio.run(_admin(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))


def pg_tables(schema: str) -> set[str]:
    """The tables in ``schema``."""

    async def run() -> set[str]:
        engine = create_async_engine(PG_URL, poolclass=NullPool)
        try:
            async with engine.connect() as connection:
                rows = await connection.execute(
                    text("SELECT tablename FROM pg_tables WHERE schemaname = :s"), {"s": schema}
                )
                return {str(row[0]) for row in rows}
        finally:
            await engine.dispose()

    return asyncio.run(run())


@dataclass
class Server:
    """A running server process and where it answers."""

    process: subprocess.Popen[bytes]
    base_url: str
    log_path: Path

    def log(self) -> str:
        """Everything the server printed so far."""
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def error_of(self, trace_id: str, wait: float = 2.0) -> str | None:
        """The exception type the server logged for the 500 with ``trace_id``."""
        pattern = re.compile(rf"Request failed with 500 \((\w+)\); trace_id={re.escape(trace_id)}")
        deadline = time.monotonic() + wait
        while True:
            found = pattern.search(self.log())
            if found or time.monotonic() > deadline:
                return found.group(1) if found else None
            time.sleep(0.05)

    def tracebacks(self) -> list[str]:
        """Each traceback the server logged, with the log line before it."""
        return tracebacks(self.log())

    def stop(self, sig: int = signal.SIGTERM, timeout: float = STOP_SECONDS) -> int:
        """Send ``sig``, wait for the exit and return the exit code (kill it if it hangs)."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
                pytest.fail(f"the server ignored signal {sig} for {timeout:g} s:\n{self.log()}")
        return int(self.process.returncode)


KNOWN_TRACEBACKS: dict[str, tuple[str, ...]] = {
    "sqlite": ("OverflowError: Python int too large to convert to SQLite INTEGER",),
}
"""Per database, the exception lines of known bugs in packages/ that log a traceback.

SQLite: loom-store does not translate sqlite3's OverflowError (an integer outside the
signed 64-bit range) into a 422; see test_store_app.py::test_out_of_range_integers_are_422.
"""


def unexpected_tracebacks(server: Server, dialect: str) -> list[str]:
    """The tracebacks ``server`` logged, less those of ``dialect``'s known bugs."""
    known = KNOWN_TRACEBACKS.get(dialect, ())
    return [t for t in server.tracebacks() if not any(t.endswith(line) for line in known)]


def tracebacks(log: str) -> list[str]:
    """The tracebacks in a server log: each from the line before it to its exception line."""
    lines = log.splitlines()
    found: list[str] = []
    for n, line in enumerate(lines):
        if line.startswith("Traceback (most recent call last)"):
            end = n + 1
            while end < len(lines) and lines[end].startswith((" ", "\t")):
                end += 1
            found.append("\n".join(lines[max(n - 1, 0) : end + 1]))
    return found


def wait_until_answering(
    base_url: str, process: subprocess.Popen[bytes], log_path: Path, path: str = "/openapi.json"
) -> None:
    """Poll ``path`` until it answers 200; fail with the log if the process exits first."""
    deadline = time.monotonic() + STARTUP_SECONDS
    while True:
        if process.poll() is not None:
            log = log_path.read_text(encoding="utf-8", errors="replace")
            pytest.fail(f"the server exited with {process.returncode} before answering:\n{log}")
        try:
            if httpx.get(f"{base_url}{path}", timeout=2.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            process.kill()
            process.wait()
            log = log_path.read_text(encoding="utf-8", errors="replace")
            pytest.fail(f"the server did not answer {path} within {STARTUP_SECONDS:g} s:\n{log}")
        time.sleep(0.1)


def start_server(
    *,
    database_url: str,
    log_path: Path,
    runtime: str = "litestar",
    config: str = "config/api.yaml",
    overrides: Sequence[str] = (),
) -> Server:
    """``loom serve CONFIG --runtime RUNTIME --port <free>`` from examples/store."""
    port = free_port()
    command = [
        *loom_command(), "serve", config,
        "--host", "127.0.0.1", "--port", str(port), "--runtime", runtime,
        url_override(database_url), *overrides,
    ]  # fmt: skip
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, cwd=STORE_DIR, env=server_env(), stdout=log, stderr=subprocess.STDOUT
        )
    base_url = f"http://127.0.0.1:{port}"
    wait_until_answering(base_url, process, log_path)
    return Server(process=process, base_url=base_url, log_path=log_path)


_DOCUMENT_SCRIPT = """
import asyncio, json, sys
import httpx
from loom.rest.{runtime} import create_app

app = create_app({config!r}, overrides=[{override!r}])


async def main():
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://store") as client:
        response = await client.get("/openapi.json")
    response.raise_for_status()
    sys.stdout.write(json.dumps(response.json()))


asyncio.run(main())
"""


def openapi_document(runtime: str = "litestar", config: str = "config/api.yaml") -> dict[str, Any]:
    """The example app's OpenAPI document, without serving it or opening a database.

    A subprocess builds the app from examples/store (so the example's ``app`` package and
    models never load into the test process) and asks it for ``/openapi.json`` in-process.
    """
    script = _DOCUMENT_SCRIPT.format(
        runtime=runtime, config=config, override=url_override("sqlite+aiosqlite:///:memory:")
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=STORE_DIR,
        env=server_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"building the example app failed:\n{result.stderr}")
    document: dict[str, Any] = json.loads(result.stdout)
    return document
