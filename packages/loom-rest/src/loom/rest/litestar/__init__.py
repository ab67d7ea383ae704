"""Serve a loom application on Litestar: ``create_app("config/api.yaml")``.

Needs ``loom-rest[litestar]``.
"""

from loom.core.extras import import_extra

import_extra("litestar", distribution="loom-rest", extra="litestar")

from loom.rest.litestar._app import create_app  # noqa: E402 - after the extra check

__all__ = ["create_app"]
