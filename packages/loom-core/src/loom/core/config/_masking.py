"""Masking secrets whenever config is printed or logged."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit, urlunsplit

__all__ = ["MASK", "mask_value", "masked"]

MASK = "***"
_SECRET_KEY = re.compile(r"(password|passwd|secret|token|api_?key|credentials?|private_?key)", re.I)


def mask_value(value: str, secrets: Iterable[str] = ()) -> str:
    """Hide every known secret inside ``value`` and the password of a URL."""
    for secret in secrets:
        if secret:
            value = value.replace(secret, MASK)
    if "://" in value and "@" in value:
        try:
            parts = urlsplit(value)
            password = parts.password
        except ValueError:
            return value
        if password:
            userinfo, _, host = parts.netloc.rpartition("@")
            user = userinfo.split(":", 1)[0]
            value = urlunsplit(parts._replace(netloc=f"{user}:{MASK}@{host}"))
    return value


def masked(data: Any, secrets: Iterable[str] = (), *, _key: str = "") -> Any:
    """Return a copy of a plain config tree with secrets replaced by ``***``.

    A value is masked when it came from a ``${secret:...}`` reference (its text is in
    ``secrets``), when its key names a secret (``password``, ``token``, ``api_key``...),
    and a URL's password is masked wherever it appears.
    """
    secrets = tuple(secrets)
    if isinstance(data, dict):
        return {k: masked(v, secrets, _key=str(k)) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [masked(v, secrets, _key=_key) for v in data]
    if isinstance(data, str):
        return MASK if _SECRET_KEY.search(_key) else mask_value(data, secrets)
    return data
