"""Principals and auth hooks shared by every runtime.

An auth hook authenticates a request: a callable (or a class resolved by DI whose
``__call__`` is the hook) receiving a :class:`RequestInfo` and returning a
:class:`Principal`, or ``None`` for an anonymous request. It raises
:class:`~loom.core.errors.Unauthorized` (401) or :class:`~loom.core.errors.Forbidden`
(403) to refuse. A use case receives the principal by declaring an ``execute`` parameter
annotated ``Principal`` (or a subclass); ``Principal | None`` makes it optional.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import msgspec

from loom.core.errors import Unauthorized

__all__ = [
    "PRINCIPAL_KEY",
    "ApiKeyAuth",
    "AuthHook",
    "BearerTokenAuth",
    "Principal",
    "RequestInfo",
]

PRINCIPAL_KEY = "__loom_principal__"
"""The key under which runtimes pass the authenticated principal in ``params``."""


class Principal(msgspec.Struct, frozen=True, kw_only=True):
    """Who is calling: an id, roles and free-form claims."""

    id: str
    roles: frozenset[str] = frozenset()
    claims: dict[str, Any] = msgspec.field(default_factory=dict)

    def has_role(self, role: str) -> bool:
        """True when the principal holds ``role``."""
        return role in self.roles


@dataclass(frozen=True, slots=True)
class RequestInfo:
    """What an auth hook may read of a request, whatever the runtime."""

    method: str
    path: str
    headers: Mapping[str, str]
    query: Mapping[str, str] = field(default_factory=dict)
    client: str | None = None

    def header(self, name: str) -> str | None:
        """A header's value, looked up case-insensitively."""
        value = self.headers.get(name.lower())
        return value if value is not None else self.headers.get(name)


AuthHook = Callable[[RequestInfo], "Principal | Awaitable[Principal | None] | None"]


class BearerTokenAuth:
    """``Authorization: Bearer <token>``, checked by ``verify(token) -> Principal | None``.

    Args:
        verify: Returns the principal for a valid token, ``None`` for an invalid one
            (may be ``async``).
        optional: Let requests without the header through as anonymous.
    """

    def __init__(
        self,
        verify: Callable[[str], Principal | Awaitable[Principal | None] | None],
        *,
        optional: bool = False,
    ) -> None:
        self._verify = verify
        self._optional = optional

    async def __call__(self, request: RequestInfo) -> Principal | None:
        """Authenticate ``request`` or raise ``Unauthorized``."""
        header = request.header("authorization")
        if not header:
            if self._optional:
                return None
            raise Unauthorized("missing bearer token")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("expected an Authorization: Bearer <token> header")
        principal = self._verify(token.strip())
        if isinstance(principal, Awaitable):
            principal = await principal
        if principal is None:
            raise Unauthorized("invalid or expired token")
        return principal


class ApiKeyAuth:
    """An API key in a header (``X-API-Key`` by default), compared in constant time.

    Args:
        keys: Each accepted key and the principal it stands for.
        header: The header carrying the key.
    """

    def __init__(self, keys: Mapping[str, Principal], *, header: str = "X-API-Key") -> None:
        self._keys = [(key.encode(), principal) for key, principal in keys.items()]
        self._header = header.lower()

    def __call__(self, request: RequestInfo) -> Principal:
        """Authenticate ``request`` or raise ``Unauthorized``."""
        given = request.header(self._header)
        if not given:
            raise Unauthorized(f"missing {self._header} header")
        candidate = given.encode()
        found = None
        for key, principal in self._keys:
            if hmac.compare_digest(key, candidate):
                found = principal
        if found is None:
            raise Unauthorized("invalid API key")
        return found
