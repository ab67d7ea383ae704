"""Serve a loom application on Starlette: ``create_app("config/api.yaml")``.

Needs ``loom-rest[starlette]``.
"""

from loom.core.extras import import_extra

import_extra("starlette", distribution="loom-rest", extra="starlette")

from loom.rest.starlette._app import create_app  # noqa: E402 - after the extra check

__all__ = ["create_app"]
