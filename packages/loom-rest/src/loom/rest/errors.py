"""loom-rest's errors: the ``RestError`` subtree of ``LoomError``."""

from __future__ import annotations

from loom.core.errors import LoomError

__all__ = ["RestError"]


class RestError(LoomError):
    """Root of the errors loom-rest raises itself (set-up and serving problems)."""

    code = "rest_error"
