"""``loom serve CONFIG``: serve the application over HTTP with uvicorn."""

from __future__ import annotations

import json
import os
import signal
from importlib.metadata import entry_points
from types import FrameType
from typing import Any

import click

from loom.core.cli import split_config_args
from loom.core.config import load_config
from loom.core.errors import ConfigurationError
from loom.core.extras import import_extra
from loom.rest._serve import ENV_KEY, app_factory

__all__ = ["RUNTIME_GROUP", "serve"]

RUNTIME_GROUP = "loom.runtimes"
"""Other HTTP runtimes (loom-pyloop) register a ``serve`` callable here by name."""


def _stopped(signum: int, frame: FrameType | None) -> None:
    """SIGTERM once uvicorn has shut down: nothing left to do, `loom serve` exits 0."""


@click.command()
@click.argument("args", nargs=-1, required=True, metavar="CONFIG... [KEY=VALUE...]")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=click.IntRange(min=1))
@click.option(
    "--runtime",
    type=click.Choice(["litestar", "starlette", "pyloop"]),
    default=None,
    help="HTTP runtime; defaults to app.rest.backend.",
)
@click.option("--log-level", default="info", show_default=True)
def serve(
    args: tuple[str, ...], host: str, port: int, workers: int, runtime: str | None, log_level: str
) -> None:
    """Serve the application configured in CONFIG over HTTP."""
    files, overrides = split_config_args(args)
    config = load_config(*files, overrides=overrides)
    chosen = runtime or config.app.rest.backend
    if chosen == "pyloop":
        found = list(entry_points(group=RUNTIME_GROUP, name="pyloop"))
        if not found:
            raise ConfigurationError("the pyloop runtime is not installed; install loom-pyloop")
        found[0].load()(
            [os.path.abspath(f) for f in files], overrides, host=host, port=port, workers=workers
        )
        return
    uvicorn = import_extra("uvicorn", distribution="loom-rest", extra=chosen)
    import_extra(chosen, distribution="loom-rest", extra=chosen)
    os.environ[ENV_KEY] = json.dumps(
        {"paths": [os.path.abspath(f) for f in files], "overrides": overrides, "runtime": chosen}
    )
    # Build the app here first: a declaration error stops `loom serve` with one clear
    # `error:` line (with several workers, uvicorn would print a traceback per worker and
    # respawn them forever). One worker serves this app; several each build their own.
    app = app_factory()
    # After a graceful shutdown on SIGTERM uvicorn raises the signal again for the previous
    # handler; with the default one the process would die by it instead of exiting 0.
    signal.signal(signal.SIGTERM, _stopped)
    target: Any = app if workers == 1 else "loom.rest._serve:app_factory"
    uvicorn.run(
        target,
        factory=workers > 1,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
        log_config=None,
        access_log=False,
        lifespan="on",
    )
