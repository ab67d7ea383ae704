"""The ``${secret:provider:key}`` resolver and its providers.

Built in: ``env`` (an environment variable), ``file`` (the contents of a file, trailing
newline stripped, as Docker and Kubernetes mount secrets) and ``keyring`` (the system
keyring, ``${secret:keyring:service/username}``; needs ``loom-core[keyring]``). More
providers come from :func:`register_secret_provider` or the ``loom.secrets`` entry-point
group (a callable taking the key and returning the secret).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from importlib.metadata import entry_points
from pathlib import Path
from typing import Protocol

from loom.core.errors import ConfigurationError
from loom.core.extras import import_extra

__all__ = [
    "SECRET_GROUP",
    "SecretProvider",
    "register_secret_provider",
    "resolve_secret",
    "secret_providers",
]

SECRET_GROUP = "loom.secrets"


class SecretProvider(Protocol):
    """Looks a secret up by key; raises ``KeyError`` or ``LookupError`` when it is absent."""

    def __call__(self, key: str) -> str:
        """Return the secret stored under ``key``."""
        ...


def _from_env(key: str) -> str:
    try:
        return os.environ[key]
    except KeyError:
        raise LookupError(f"environment variable {key!r} is not set") from None


def _from_file(key: str) -> str:
    path = Path(key).expanduser()
    try:
        return path.read_text(encoding="utf-8").rstrip("\r\n")
    except OSError as exc:
        raise LookupError(f"cannot read secret file {str(path)!r}: {exc.strerror}") from None


def _from_keyring(key: str) -> str:
    keyring = import_extra("keyring", distribution="loom-core", extra="keyring")
    service, sep, username = key.partition("/")
    if not sep or not service or not username:
        raise LookupError(f"keyring key {key!r} must look like 'service/username'")
    value: str | None = keyring.get_password(service, username)
    if value is None:
        raise LookupError(f"no keyring entry for service {service!r}, user {username!r}")
    return value


_providers: dict[str, Callable[[str], str]] = {
    "env": _from_env,
    "file": _from_file,
    "keyring": _from_keyring,
}
_entry_points_loaded = False


def register_secret_provider(name: str, provider: Callable[[str], str]) -> None:
    """Make ``${secret:name:key}`` call ``provider(key)``."""
    _providers[name] = provider


def secret_providers() -> dict[str, Callable[[str], str]]:
    """Return every known provider by name, entry-point providers included."""
    global _entry_points_loaded
    if not _entry_points_loaded:
        for ep in entry_points(group=SECRET_GROUP):
            _providers.setdefault(ep.name, ep.load())
        _entry_points_loaded = True
    return dict(_providers)


def resolve_secret(*args: str) -> str:
    """Resolve ``${secret:provider:key}`` (or ``${secret:provider,key}``) to its value."""
    if len(args) == 1:
        provider_name, sep, key = args[0].partition(":")
    elif len(args) == 2:
        provider_name, key = args
        sep = ":"
    else:
        sep = key = provider_name = ""
    if not sep or not provider_name or not key:
        raise ConfigurationError(
            "a secret reference looks like ${secret:provider:key}, e.g. ${secret:env:DB_PASSWORD}"
        )
    providers = secret_providers()
    provider = providers.get(provider_name)
    if provider is None:
        raise ConfigurationError(
            f"unknown secret provider {provider_name!r}; known: {', '.join(sorted(providers))}"
        )
    try:
        return provider(key)
    except LookupError as exc:
        raise ConfigurationError(f"secret {provider_name}:{key}: {exc.args[0]}") from None
