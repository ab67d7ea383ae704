"""``/records`` (the five auto-CRUD routes; ``?profile=detail`` loads the notes) and ``/ping``."""

from __future__ import annotations

from loom.rest.autocrud import build_auto_routes
from loom.rest.model import PaginationMode, RestInterface, RestRoute

from .models import Record
from .use_cases import PingUseCase


class RecordRestInterface(RestInterface[Record]):
    prefix = "/records"
    tags = ("Records",)
    pagination_mode = PaginationMode.OFFSET
    routes = build_auto_routes(Record, ())


class PingRestInterface(RestInterface[Record]):
    prefix = ""
    tags = ("Health",)
    routes = (RestRoute(use_case=PingUseCase, method="GET", path="/ping", summary="Ping"),)
