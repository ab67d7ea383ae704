"""Finding an application's declarations: ``modules`` and ``manifest`` discovery."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from loom.core.config._settings import AppSettings
from loom.core.errors import ConfigurationError
from loom.core.interface import RestInterface
from loom.core.job.job import Job
from loom.core.model import is_model, model_info
from loom.core.model._base import BaseModel, TimestampedModel
from loom.core.use_case.use_case import UseCase, use_case_model

__all__ = ["Manifest", "add_code_path", "discover"]

_BASES: frozenset[type[Any]] = frozenset({BaseModel, TimestampedModel, UseCase, Job, RestInterface})


@dataclass(frozen=True, slots=True)
class Manifest:
    """Everything an application declares."""

    models: tuple[type[Any], ...]
    use_cases: tuple[type[Any], ...]
    jobs: tuple[type[Any], ...]
    interfaces: tuple[type[Any], ...]
    callbacks: tuple[type[Any], ...]


def add_code_path(app: AppSettings, config_dir: Path | None = None) -> Path | None:
    """Put ``app.code_path`` on ``sys.path`` (relative to the working directory, else to
    the config file's folder or its parent); return the folder added.

    Raises:
        ConfigurationError: the folder does not exist.
    """
    if not app.code_path:
        return None
    raw = Path(app.code_path).expanduser()
    candidates = [raw] if raw.is_absolute() else [Path.cwd() / raw]
    if config_dir is not None and not raw.is_absolute():
        candidates += [config_dir / raw, config_dir.parent / raw]
    for candidate in candidates:
        if candidate.is_dir():
            folder = str(candidate.resolve())
            if folder not in sys.path:
                sys.path.insert(0, folder)
            return candidate.resolve()
    tried = ", ".join(str(c) for c in candidates)
    raise ConfigurationError(f"folder not found (tried {tried})", key="app.code_path")


def _import(name: str, key: str) -> Any:
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name and (name == exc.name or name.startswith(exc.name + ".")):
            raise ConfigurationError(
                f"module {name!r} not found; check app.code_path and the module name", key=key
            ) from exc
        raise


def _is_subclass(obj: Any, base: type[Any]) -> bool:
    return isinstance(obj, type) and issubclass(obj, base) and obj not in _BASES


def _is_callback(obj: Any) -> bool:
    return isinstance(obj, type) and (
        callable(getattr(obj, "on_success", None)) or callable(getattr(obj, "on_failure", None))
    )


def discover(app: AppSettings) -> Manifest:
    """Import the application's modules and collect its declarations.

    ``modules`` mode scans every class of each listed module; ``manifest`` mode reads
    ``MODELS``, ``USE_CASES``, ``JOBS``, ``INTERFACES`` (and optional ``CALLBACKS``) from
    one module. Models used by routes and relations are added either way.
    """
    found: list[Any] = []
    mode = app.discovery.mode
    if mode == "manifest":
        name = app.discovery.manifest.module
        if not name:
            raise ConfigurationError(
                "manifest mode needs app.discovery.manifest.module", key="app.discovery.manifest"
            )
        module = _import(name, "app.discovery.manifest.module")
        for attribute in ("MODELS", "USE_CASES", "JOBS", "INTERFACES", "CALLBACKS"):
            found.extend(getattr(module, attribute, ()))
    else:
        for name in app.discovery.modules.include:
            module = _import(name, "app.discovery.modules.include")
            found.extend(vars(module).values())
    return _complete(found)


def _complete(found: Iterable[Any]) -> Manifest:
    models: dict[type[Any], None] = {}
    use_cases: dict[type[Any], None] = {}
    jobs: dict[type[Any], None] = {}
    interfaces: dict[type[Any], None] = {}
    callbacks: dict[type[Any], None] = {}
    for obj in found:
        if is_model(obj) and obj not in _BASES:
            models[obj] = None
        elif _is_subclass(obj, UseCase):
            use_cases[obj] = None
        elif _is_subclass(obj, Job):
            jobs[obj] = None
        elif _is_subclass(obj, RestInterface):
            interfaces[obj] = None
        elif _is_callback(obj):
            callbacks[obj] = None
    for interface in interfaces:
        for route in interface.routes:
            use_cases.setdefault(route.use_case, None)
    for use_case in list(use_cases):
        model = use_case_model(use_case)
        if model is not None and is_model(model):
            models.setdefault(model, None)
    pending = list(models)
    while pending:
        model = pending.pop()
        for relation in model_info(model).relations.values():
            if relation.target not in models:
                models[relation.target] = None
                pending.append(relation.target)
    return Manifest(
        models=tuple(_parents_first(models)),
        use_cases=tuple(use_cases),
        jobs=tuple(jobs),
        interfaces=tuple(interfaces),
        callbacks=tuple(callbacks),
    )


def _parents_first(models: Iterable[type[Any]]) -> list[type[Any]]:
    """Order models so that a table comes after the tables its foreign keys point at."""
    by_table = {model_info(m).table_name: m for m in models}
    ordered: list[type[Any]] = []
    seen: set[type[Any]] = set()

    def visit(model: type[Any], trail: tuple[type[Any], ...]) -> None:
        if model in seen or model in trail:
            return
        for column in model_info(model).columns.values():
            target = column.info.foreign_key
            parent = by_table.get(target.split(".", 1)[0]) if target else None
            if parent is not None and parent is not model:
                visit(parent, (*trail, model))
        seen.add(model)
        ordered.append(model)

    for model in by_table.values():
        visit(model, ())
    return ordered
