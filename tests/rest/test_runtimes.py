"""The runtime registry: every runtime loads, and a runtime that is not installed is skipped."""

from __future__ import annotations

import subprocess
import sys

import pytest
from tests.rest._support import RUNTIMES, RuntimeEntry


def test_the_registry_holds_the_loom_rest_runtimes() -> None:
    assert {"litestar", "starlette"} <= set(RUNTIMES)
    for name, entry in RUNTIMES.items():
        assert entry.name == name


def test_a_runtime_that_is_not_installed_is_skipped() -> None:
    ghost = RuntimeEntry("ghost", "loom.ghost_runtime_that_is_not_installed")

    with pytest.raises(pytest.skip.Exception, match="the ghost runtime is not installed"):
        ghost.load()


def test_each_runtime_loads_its_create_app(runtime_name: str) -> None:
    create_app = RUNTIMES[runtime_name].load()

    assert callable(create_app)
    assert create_app.__module__ == f"loom.rest.{runtime_name}._app"


@pytest.mark.parametrize("extra", ["litestar", "starlette"])
def test_a_missing_extra_is_an_import_error_naming_it(extra: str) -> None:
    # What lets the registry skip a runtime whose extra is not installed.
    code = (
        "import sys\n"
        f"sys.modules[{extra!r}] = None\n"
        "try:\n"
        f"    import loom.rest.{extra}\n"
        "except ImportError as exc:\n"
        "    print(type(exc).__name__, exc)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )

    assert result.stdout.strip() == (
        f"MissingDependencyError {extra!r} is not installed; "
        f"install it with: pip install 'loom-rest[{extra}]'"
    )
