"""``loom serve CONFIG --runtime ... --port ...`` as a real subprocess."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.rest._support import config_data, free_port, write_config

STARTUP_SECONDS = 30.0

BROKEN_APP = """
from loom.core.model import BaseModel, ColumnField
from loom.core.use_case.use_case import UseCase
from loom.rest.model import RestInterface, RestRoute


class Gadget(BaseModel):
    __tablename__ = "cli_gadgets"
    id: int = ColumnField(primary_key=True, autoincrement=True)


class GetGadgetUseCase(UseCase[Gadget, Gadget]):
    async def execute(self, gadget_id: int) -> Gadget:
        raise NotImplementedError


class GadgetRestInterface(RestInterface[Gadget]):
    prefix = "/gadgets"
    routes = (RestRoute(use_case=GetGadgetUseCase, path="/{wrong_id}"),)
"""


def _loom(*args: str) -> list[str]:
    return [sys.executable, "-m", "loom.core.cli", *args]


@contextmanager
def _serving(
    config: Path, runtime: str, *extra: str
) -> Iterator[tuple[subprocess.Popen[str], str]]:
    port = free_port()
    process = subprocess.Popen(
        _loom("serve", str(config), "--runtime", runtime, "--port", str(port), *extra),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            if process.poll() is not None:
                out, err = process.communicate()
                pytest.fail(f"loom serve exited with {process.returncode}:\n{out}\n{err}")
            try:
                httpx.get(f"{base}/openapi.json", timeout=1.0)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    pytest.fail("loom serve did not answer in time")
                time.sleep(0.1)
        yield process, base
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()


@pytest.fixture
def broken_config(tmp_path: Path) -> Path:
    (tmp_path / "broken_rest_app.py").write_text(textwrap.dedent(BROKEN_APP), encoding="utf-8")
    data: dict[str, Any] = config_data()
    data["app"]["code_path"] = str(tmp_path)
    data["app"]["discovery"] = {"modules": {"include": ["broken_rest_app"]}}
    return write_config(tmp_path / "broken.yaml", data)


def test_loom_serve_answers_then_exits_cleanly_on_sigterm(
    create_app: Any, config_path: Path, runtime_name: str
) -> None:
    with _serving(config_path, runtime_name) as (process, base):
        created = httpx.post(f"{base}/users", json={"full_name": "Ada", "email": "ada@x.io"})
        assert created.status_code == 201
        listed = httpx.get(f"{base}/users")
        assert listed.status_code == 200
        assert listed.json()["items"] == [created.json()]
        assert httpx.get(f"{base}/nope").headers["content-type"] == "application/problem+json"

        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=20)

    assert process.returncode == 0, (out, err)
    assert "Traceback" not in err


def test_loom_serve_takes_overrides(create_app: Any, config_path: Path, runtime_name: str) -> None:
    overrides = ("app.rest.max_limit=7", "app.rest.default_limit=5")
    with _serving(config_path, runtime_name, *overrides) as (process, base):
        response = httpx.get(f"{base}/users", params={"limit": 8})
        assert response.status_code == 422
        assert response.json()["errors"][0]["message"] == "must be an integer from 1 to 7"
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=20)
    assert process.returncode == 0


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_declaration_error_exits_with_one_error_line(
    create_app: Any, broken_config: Path, runtime_name: str, workers: str
) -> None:
    result = subprocess.run(
        _loom(
            "serve", str(broken_config), "--runtime", runtime_name,
            "--port", str(free_port()), "--workers", workers,
        ),
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "NO_COLOR": "1"},
    )  # fmt: skip

    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error:")]
    assert len(errors) == 1, result.stderr
    assert "GadgetRestInterface" in errors[0]
    assert "{wrong_id}" in errors[0]
    assert "Traceback" not in result.stderr
    assert lines == errors, result.stderr


def test_a_bad_setting_is_one_error_line_naming_its_key(
    create_app: Any, config_path: Path, runtime_name: str
) -> None:
    result = subprocess.run(
        _loom(
            "serve", str(config_path), "--runtime", runtime_name, "--port", str(free_port()),
            "app.rest.max_limit=7",
        ),
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "NO_COLOR": "1"},
    )  # fmt: skip

    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "error: overrides: app.rest: default_limit (50) must not exceed max_limit (7)"
    ]


def test_an_uninstalled_runtime_is_one_error_line(config_path: Path) -> None:
    if list(entry_points(group="loom.runtimes", name="pyloop")):
        pytest.skip("loom-pyloop registers its runtime: nothing to refuse")
    result = subprocess.run(
        _loom("serve", str(config_path), "--runtime", "pyloop", "--port", str(free_port())),
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "NO_COLOR": "1"},
    )

    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [
        "error: the pyloop runtime is not installed; install loom-pyloop"
    ]


def test_serve_lists_its_options() -> None:
    result = subprocess.run(_loom("serve", "--help"), capture_output=True, text=True, timeout=60)

    assert result.returncode == 0
    for option in ("--host", "--port", "--workers", "--runtime", "litestar|starlette|pyloop"):
        assert option in result.stdout
