"""Auto-CRUD routes under the path the seeds use: ``build_auto_routes(Model, include)``."""

from loom.core.interface import build_auto_routes

__all__ = ["build_auto_routes"]
