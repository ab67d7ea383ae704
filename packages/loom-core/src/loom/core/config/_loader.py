"""Loading YAML config: merge files, apply overrides, resolve, validate into sections."""

from __future__ import annotations

import contextvars
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar, cast

import msgspec
import yaml
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from loom.core.config._masking import masked
from loom.core.config._secrets import resolve_secret
from loom.core.config._sections import known_sections
from loom.core.config._settings import (
    AppSettings,
    DatabaseSettings,
    JobsSettings,
    ObservabilitySettings,
)
from loom.core.config._validation import describe_validation_error
from loom.core.errors import ConfigurationError

__all__ = ["LoomConfig", "load_config"]

S = TypeVar("S", bound=msgspec.Struct)

_secret_sink: contextvars.ContextVar[set[str] | None] = contextvars.ContextVar(
    "loom_secret_sink", default=None
)


def _secret_resolver(*args: str) -> str:
    value = resolve_secret(*args)
    sink = _secret_sink.get()
    if sink is not None:
        sink.add(value)
    return value


if not OmegaConf.has_resolver("secret"):
    OmegaConf.register_new_resolver("secret", _secret_resolver)


class LoomConfig:
    """A loaded, resolved and validated configuration.

    The core sections are attributes (``config.app``, ``config.database``, ``config.jobs``,
    ``config.observability``); any other registered section comes from :meth:`section`.
    ``str(config)`` and :meth:`to_yaml` never show a secret.
    """

    __slots__ = ("_data", "_secrets", "_sections", "sources")

    def __init__(
        self,
        data: dict[str, Any],
        sections: dict[str, msgspec.Struct],
        *,
        sources: tuple[str, ...] = (),
        secrets: frozenset[str] = frozenset(),
    ) -> None:
        self._data = data
        self._sections = sections
        self._secrets = secrets
        self.sources = sources

    @property
    def app(self) -> AppSettings:
        """The ``app`` section."""
        return self.section("app", AppSettings)

    @property
    def database(self) -> DatabaseSettings:
        """The ``database`` section."""
        return self.section("database", DatabaseSettings)

    @property
    def jobs(self) -> JobsSettings:
        """The ``jobs`` section."""
        return self.section("jobs", JobsSettings)

    @property
    def observability(self) -> ObservabilitySettings:
        """The ``observability`` section."""
        return self.section("observability", ObservabilitySettings)

    def section(self, name: str, settings_type: type[S]) -> S:
        """Return section ``name`` as ``settings_type`` (its defaults when absent from the files).

        Raises:
            ConfigurationError: the section is absent and ``settings_type`` has required fields,
                or it was validated into a different type.
        """
        value = self._sections.get(name)
        if value is None:
            value = _convert(name, self._data.get(name) or {}, settings_type, self.sources)
            self._sections[name] = value
        if not isinstance(value, settings_type):
            raise ConfigurationError(
                f"section {name!r} holds {type(value).__name__}, not {settings_type.__name__}"
            )
        return value

    def section_value(self, name: str) -> msgspec.Struct:
        """Return the validated settings of a section given in the files.

        Raises:
            KeyError: the files do not contain section ``name``.
        """
        return self._sections[name]

    def to_dict(self, *, mask: bool = True) -> dict[str, Any]:
        """Return the effective config as plain data: every section given in the files,
        validated, with its defaults filled in. Secrets are masked unless ``mask=False``.
        """
        data = {
            name: msgspec.to_builtins(self._sections[name]) if name in self._sections else value
            for name, value in self._data.items()
        }
        return masked(data, self._secrets) if mask else data

    def to_yaml(self) -> str:
        """Return the resolved config as YAML, secrets masked."""
        return yaml.safe_dump(self.to_dict(), sort_keys=False)

    def __repr__(self) -> str:
        return f"LoomConfig(sources={self.sources!r}, data={self.to_dict()!r})"


def load_config(
    *paths: str | os.PathLike[str],
    overrides: Sequence[str] = (),
    data: Mapping[str, Any] | None = None,
) -> LoomConfig:
    """Load, merge, resolve and validate YAML config files.

    Later files win over earlier ones, and ``overrides`` (Hydra syntax: ``key=value``,
    ``+key=value``, ``~key``) win over every file. ``${oc.env:NAME,default}`` and
    ``${secret:provider:key}`` are resolved. Every top-level section must be known (see
    :func:`~loom.core.config.register_section`) and is validated into its typed settings.

    Args:
        *paths: YAML files, in increasing priority.
        overrides: ``key=value`` overrides applied after the files.
        data: Extra config merged after the files and before the overrides.

    Raises:
        ConfigurationError: a file is missing or malformed, an override is bad, a
            reference cannot be resolved, or a value fails validation. The message names
            the file and the full key.
    """
    sources = tuple(str(p) for p in paths)
    layers = [_read_yaml(p) for p in sources]
    if data is not None:
        layers.append(OmegaConf.create(dict(data)))
    if data is not None:
        sources = (*sources, "data")
    merged = cast(DictConfig, OmegaConf.merge(*layers)) if layers else OmegaConf.create({})
    overridden = _apply_overrides(merged, overrides)
    if overridden:
        layers.append(OmegaConf.create(_nested(overridden)))
        sources = (*sources, "overrides")

    secrets: set[str] = set()
    token = _secret_sink.set(secrets)
    try:
        resolved = _resolve(merged, layers, sources)
    finally:
        _secret_sink.reset(token)

    registry = known_sections()
    problems: list[str] = []
    sections: dict[str, msgspec.Struct] = {}
    for name, value in resolved.items():
        settings_type = registry.get(name)
        if settings_type is None:
            origin = _origin((name,), layers, sources)
            problems.append(
                f"{origin}: {name}: unknown section; known sections: {', '.join(sorted(registry))}"
                " (a section appears when the loom distribution that reads it is installed)"
            )
            continue
        try:
            sections[name] = _convert(name, value or {}, settings_type, sources, layers)
        except ConfigurationError as exc:
            problems.append(str(exc))
    if problems:
        raise ConfigurationError("\n".join(problems))
    files = tuple(s for s in sources if s not in ("data", "overrides"))
    return LoomConfig(resolved, sections, sources=files, secrets=frozenset(secrets))


def _read_yaml(path: str) -> DictConfig:
    file = Path(path)
    if not file.is_file():
        raise ConfigurationError(
            "config file not found; check the path (it is relative to the current directory)",
            source=path,
        )
    try:
        loaded = OmegaConf.load(file)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else path
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigurationError(
            f"invalid YAML ({problem}); fix the syntax", source=where
        ) from None
    if not isinstance(loaded, DictConfig):
        raise ConfigurationError("the top level must be a mapping of sections", source=path)
    return loaded


def _nested(keys: list[str]) -> dict[str, Any]:
    tree: dict[str, Any] = {}
    for key in keys:
        node = tree
        *parents, leaf = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = None
    return tree


def _apply_overrides(config: DictConfig, overrides: Sequence[str]) -> list[str]:
    """Apply Hydra-syntax overrides in place; return the keys they set."""
    keys: list[str] = []
    if not overrides:
        return keys
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import HydraException

    parser = OverridesParser.create()
    for text in overrides:
        try:
            (override,) = parser.parse_overrides([text])
            value = override.value()
        except HydraException as exc:
            first = str(exc).strip().splitlines()[0]
            raise ConfigurationError(
                f"bad override {text!r}: {first}; write key=value, +key=value or ~key"
            ) from None
        key = override.key_or_group
        if not key or key.startswith(".") or key.endswith("."):
            raise ConfigurationError(f"bad override {text!r}: no key; write key=value")
        if override.is_sweep_override():
            raise ConfigurationError(f"bad override {text!r}: sweeps are not supported")
        if override.is_delete():
            parent_key, _, leaf = key.rpartition(".")
            parent = OmegaConf.select(config, parent_key) if parent_key else config
            if not isinstance(parent, DictConfig) or leaf not in parent:
                raise ConfigurationError(
                    f"bad override {text!r}: {key} is not set, nothing to delete"
                )
            del parent[leaf]
            continue
        if override.is_add() and OmegaConf.select(config, key) is not None:
            raise ConfigurationError(
                f"bad override {text!r}: {key} is already set; use {key}=... to change it"
            )
        OmegaConf.update(config, key, value, force_add=True)
        keys.append(key)
    return keys


def _resolve(
    config: DictConfig, layers: list[DictConfig], sources: tuple[str, ...]
) -> dict[str, Any]:
    try:
        container = OmegaConf.to_container(config, resolve=True)
    except OmegaConfBaseException as exc:
        key = str(getattr(exc, "full_key", "") or "")
        cause = _configuration_cause(exc)
        reason = cause.message if cause else str(exc).strip().splitlines()[0]
        origin = _origin(tuple(key.split(".")), layers, sources) if key else ", ".join(sources)
        hint = "" if cause else "; set the variable or give a default, e.g. ${oc.env:NAME,default}"
        raise ConfigurationError(
            f"cannot resolve: {reason}{hint}", source=origin or None, key=key or None
        ) from None
    return cast(dict[str, Any], container)


def _configuration_cause(exc: BaseException) -> ConfigurationError | None:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ConfigurationError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def _convert(
    name: str,
    value: Any,
    settings_type: type[S],
    sources: tuple[str, ...],
    layers: list[DictConfig] | None = None,
) -> S:
    try:
        return msgspec.convert(value, settings_type, strict=False)
    except msgspec.ValidationError as exc:
        path, reason = describe_validation_error(name, settings_type, exc)
        origin = (
            _origin(tuple(path.split(".")), layers or [], sources) if layers else ", ".join(sources)
        )
        raise ConfigurationError(reason, source=origin or None, key=path) from None


def _origin(path: tuple[str, ...], layers: list[DictConfig], sources: tuple[str, ...]) -> str:
    """Name the last file that sets ``path`` (or its nearest parent), else 'overrides'."""
    for depth in range(len(path), 0, -1):
        for index in range(min(len(layers), len(sources)) - 1, -1, -1):
            if _has_path(layers[index], path[:depth]):
                return sources[index]
    return "overrides"


def _has_path(node: Any, path: tuple[str, ...]) -> bool:
    for part in path:
        if not isinstance(node, DictConfig) or part not in node:
            return False
        node = node._get_node(part)
    return True
