"""Logging set-up: loguru configured from ``observability.log``, stdlib logging bridged in."""

from __future__ import annotations

import inspect
import logging
import sys
from types import FrameType

from loguru import logger

from loom.core.config._settings import LogSettings

__all__ = ["InterceptHandler", "configure_logging", "logger"]


class InterceptHandler(logging.Handler):
    """A stdlib logging handler that forwards every record to loguru."""

    def emit(self, record: logging.LogRecord) -> None:
        """Forward ``record`` to loguru, keeping its level and the caller's location."""
        try:
            level: str | int = logger.level(record.levelname).name
        except ValueError:
            level = record.levelno
        frame: FrameType | None = inspect.currentframe()
        depth = 0
        while frame is not None and (depth == 0 or frame.f_code.co_filename == logging.__file__):
            frame = frame.f_back
            depth += 1
        logger.opt(depth=depth, exception=record.exc_info).log(level, record.getMessage())


def configure_logging(settings: LogSettings | None = None, *, sink: object = None) -> None:
    """Configure loguru from ``settings`` and route stdlib logging through it.

    Args:
        settings: The ``observability.log`` section; defaults to INFO, human-readable.
        sink: Where to write (a file-like object or path); defaults to ``sys.stderr``.

    """
    settings = settings or LogSettings()
    logger.remove()
    if settings.enabled:
        logger.add(
            sink or sys.stderr,  # type: ignore[arg-type]
            level=settings.level,
            serialize=settings.json,
            backtrace=False,
            diagnose=False,
        )
    logging.basicConfig(handlers=[InterceptHandler()], level=0, force=True)
