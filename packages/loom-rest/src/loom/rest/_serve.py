"""The app factory ``loom serve`` hands to uvicorn (one call per worker process)."""

from __future__ import annotations

import json
import os
from typing import Any

__all__ = ["ENV_KEY", "app_factory"]

ENV_KEY = "LOOM_SERVE_ARGS"


def app_factory() -> Any:
    """Build the ASGI app described by ``$LOOM_SERVE_ARGS`` (set by ``loom serve``)."""
    args = json.loads(os.environ[ENV_KEY])
    paths, overrides, runtime = args["paths"], args["overrides"], args["runtime"]
    if runtime == "starlette":
        from loom.rest.starlette import create_app as create_starlette

        return create_starlette(*paths, overrides=overrides)
    from loom.rest.litestar import create_app as create_litestar

    return create_litestar(*paths, overrides=overrides)
