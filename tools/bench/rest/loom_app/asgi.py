"""ASGI factories for uvicorn: ``loom_app.asgi:litestar_app`` / ``loom_app.asgi:starlette_app``.

Run from ``tools/bench/rest`` (``uvicorn --app-dir tools/bench/rest --factory ...``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

CONFIG = Path(__file__).with_name("config.yaml")
OVERRIDES = (f"app.code_path={Path(__file__).resolve().parent.parent}",)


def litestar_app() -> Any:
    """loom on Litestar."""
    from loom.rest.litestar import create_app

    return create_app(CONFIG, overrides=OVERRIDES)


def starlette_app() -> Any:
    """loom on Starlette."""
    from loom.rest.starlette import create_app

    return create_app(CONFIG, overrides=OVERRIDES)
