"""Keyset cursors: opaque, tamper-evident tokens holding the last row's sort values.

A cursor page is sorted by the requested fields plus the primary key as the final
tie-breaker (:func:`keyset_sort`), so the order is total. The cursor of the next page holds
the last row's values of those fields; the next page holds the rows that sort strictly after
them, with NULLs ordered as PostgreSQL does (last in ``ASC``, first in ``DESC``).

Encoding: each value is stored with a type tag (``["dt", "2024-05-01T10:00:00+00:00"]``), so
datetimes, dates, times, decimals, UUIDs and bytes come back as the same type. Enum
members are stored as their value. The JSON payload is signed with HMAC-SHA256 (truncated
to 16 bytes) over the sort signature and the payload, then url-safe base64 encoded without
padding. A forged, truncated or foreign-sort token is refused with
``ValidationError(errors=[FieldError("cursor", "invalid cursor")])``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Callable, Sequence
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Any
from uuid import UUID

import msgspec

from loom.core.errors import FieldError, ValidationError
from loom.core.repository.abc.query import SortSpec

__all__ = ["MAX_CURSOR_LENGTH", "CursorCodec", "invalid_cursor", "keyset_sort", "sort_signature"]

MAX_CURSOR_LENGTH = 4096
"""Longer tokens are refused without being decoded."""

_MAC_SIZE = 16


def invalid_cursor() -> ValidationError:
    """The error every unusable cursor raises: ``cursor: invalid cursor``."""
    return ValidationError(errors=[FieldError("cursor", "invalid cursor")])


def keyset_sort(sort: Sequence[SortSpec], primary_key: str) -> tuple[SortSpec, ...]:
    """Return ``sort`` with ``primary_key`` appended (``ASC``) unless it is already sorted on."""
    if any(spec.field == primary_key for spec in sort):
        return tuple(sort)
    return (*sort, SortSpec(field=primary_key, direction="ASC"))


def sort_signature(sort: Sequence[SortSpec]) -> str:
    """Describe a sort as ``"stock:ASC,id:ASC"``: a cursor only fits the sort it came from."""
    return ",".join(f"{spec.field}:{spec.direction}" for spec in sort)


def _tag(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, Enum):
        return _tag(value.value)
    if isinstance(value, float):
        return ["f", value.hex()]
    if isinstance(value, datetime):
        return ["dt", value.isoformat()]
    if isinstance(value, date):
        return ["d", value.isoformat()]
    if isinstance(value, time):
        return ["t", value.isoformat()]
    if isinstance(value, Decimal):
        return ["dec", str(value)]
    if isinstance(value, UUID):
        return ["u", str(value)]
    if isinstance(value, bytes):
        return ["b", base64.b64encode(value).decode("ascii")]
    raise TypeError(f"a cursor cannot hold a value of type {type(value).__name__}")


_UNTAG: dict[str, Callable[[str], Any]] = {
    "f": float.fromhex,
    "dt": datetime.fromisoformat,
    "d": date.fromisoformat,
    "t": time.fromisoformat,
    "dec": Decimal,
    "u": UUID,
    "b": lambda text: base64.b64decode(text, validate=True),
}


def _untag(item: Any) -> Any:
    if item is None or isinstance(item, (bool, int, str)):
        return item
    if isinstance(item, list) and len(item) == 2 and isinstance(item[1], str):
        convert = _UNTAG.get(item[0])
        if convert is not None:
            return convert(item[1])
    raise ValueError("unknown cursor value")


class CursorCodec:
    """Encode and decode signed keyset cursors.

    Args:
        secret: The HMAC key; every process serving the same API must share it.

    """

    __slots__ = ("_key",)

    def __init__(self, secret: bytes | str) -> None:
        key = secret.encode("utf-8") if isinstance(secret, str) else bytes(secret)
        if not key:
            raise ValueError("CursorCodec needs a non-empty secret")
        self._key = key

    def _mac(self, payload: bytes, signature: str) -> bytes:
        message = signature.encode("utf-8") + b"\x00" + payload
        return hmac.new(self._key, message, hashlib.sha256).digest()[:_MAC_SIZE]

    def encode(self, values: Sequence[Any], signature: str) -> str:
        """Return the token for the row whose sort values are ``values``.

        Raises:
            TypeError: a value has a type a cursor cannot hold.

        """
        payload = msgspec.json.encode([_tag(v) for v in values])
        token = base64.urlsafe_b64encode(self._mac(payload, signature) + payload)
        return token.rstrip(b"=").decode("ascii")

    def decode(self, token: str, signature: str) -> list[Any]:
        """Return the values held by ``token``, which must have been made for ``signature``.

        Raises:
            ValidationError: the token is malformed, tampered with, or from another sort.

        """
        if not isinstance(token, str) or not token or len(token) > MAX_CURSOR_LENGTH:
            raise invalid_cursor()
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        except (binascii.Error, ValueError):
            raise invalid_cursor() from None
        mac, payload = raw[:_MAC_SIZE], raw[_MAC_SIZE:]
        if len(mac) != _MAC_SIZE or not hmac.compare_digest(mac, self._mac(payload, signature)):
            raise invalid_cursor()
        try:
            items = msgspec.json.decode(payload)
            if not isinstance(items, list):
                raise ValueError("not a list")
            return [_untag(item) for item in items]
        except (msgspec.DecodeError, ValueError, TypeError, InvalidOperation, binascii.Error):
            raise invalid_cursor() from None
