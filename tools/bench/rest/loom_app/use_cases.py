"""``GET /ping``: a use case that answers without reading anything."""

from __future__ import annotations

import msgspec

from loom.core.use_case.use_case import UseCase

from .models import Record


class Pong(msgspec.Struct, frozen=True):
    status: str


_PONG = Pong(status="ok")


class PingUseCase(UseCase[Record, Pong]):
    """Say the service is up."""

    read_only = True

    async def execute(self) -> Pong:
        return _PONG
