"""What the ``loom etl`` commands share: config, runner, pipeline import, errors, consoles."""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.markup import escape

from loom.core.config import LoomConfig, load_config, register_section
from loom.core.logging import configure_logging
from loom.core.tracing import configure_tracing
from loom.etl.backend._storage import Storage
from loom.etl.dsl._declarations import ETLPipeline
from loom.etl.errors import (
    HistoryError,
    ParamsValidationError,
    PipelineCompilationError,
    ResumeError,
)
from loom.etl.history._open import open_history
from loom.etl.history._store import RunHistory
from loom.etl.runner._runner import ETLRunner
from loom.etl.settings import HistorySettings, StorageSettings

__all__ = [
    "BadInput",
    "bad_input_on",
    "config_options",
    "import_pipeline",
    "load",
    "load_history",
    "out_console",
]

F = TypeVar("F", bound=Callable[..., Any])

err_console = Console(stderr=True, highlight=False)


def out_console() -> Console:
    """The console for results on stdout (160 columns wide when not a terminal)."""
    wide = not sys.stdout.isatty() and "COLUMNS" not in os.environ
    return Console(highlight=False, width=160 if wide else None)


class BadInput(click.ClickException):
    """Bad input or config: one ``error:`` line per line of the message, exit code 2."""

    exit_code = 2

    def show(self, file: Any = None) -> None:
        """Print the message like the ``loom`` command prints loom errors."""
        for line in self.message.splitlines() or [self.message]:
            err_console.print(f"[bold red]error:[/bold red] {escape(line)}", soft_wrap=True)


def _debug() -> bool:
    ctx = click.get_current_context(silent=True)
    root = ctx.find_root().obj if ctx is not None else None
    return bool(getattr(root, "debug", False))


_BAD: tuple[type[Exception], ...] = (
    PipelineCompilationError,
    ParamsValidationError,
    ResumeError,
    HistoryError,
)


@contextmanager
def bad_input_on(*extra: type[Exception]) -> Iterator[None]:
    """Turn declaration, params, resume and history errors into exit code 2."""
    caught: tuple[type[Exception], ...] = (*_BAD, *extra)
    try:
        yield
    except caught as exc:
        if _debug():
            raise
        raise BadInput(str(exc)) from exc


def config_options(command: F) -> F:
    """``--config FILE`` (repeatable, later files win) and ``--set KEY=VALUE`` overrides."""
    command = click.option(
        "--set",
        "overrides",
        multiple=True,
        metavar="KEY=VALUE",
        help="Override a config value (Hydra syntax), e.g. --set storage.root=/data/lake.",
    )(command)
    return click.option(
        "--config",
        "-c",
        "configs",
        multiple=True,
        required=True,
        type=click.Path(dir_okay=False),
        help="YAML config with the storage and history sections (repeatable).",
    )(command)


def load(
    configs: Sequence[str], overrides: Sequence[str], **options: Any
) -> tuple[LoomConfig, ETLRunner]:
    """The loaded config (logging and tracing configured from it) and a runner on it.

    Raises:
        ConfigurationError: the config does not load or validate (exit code 2).
        BadInput: the run history cannot be opened.
    """
    config = load_config(*configs, overrides=list(overrides))
    configure_logging(config.observability.log)
    configure_tracing(config.observability.otel)
    with bad_input_on():
        runner = ETLRunner.from_config(config, **options)
    return config, runner


def load_history(configs: Sequence[str], overrides: Sequence[str]) -> RunHistory:
    """The run history the config points at, without loading the engine.

    Raises:
        ConfigurationError: the config does not load or validate (exit code 2).
        BadInput: the history is disabled or cannot be opened.
    """
    register_section("storage", StorageSettings)
    register_section("history", HistorySettings)
    config = load_config(*configs, overrides=list(overrides))
    storage = Storage(config.section("storage", StorageSettings))
    with bad_input_on():
        history = open_history(config.section("history", HistorySettings), storage)
    if history is None:
        raise BadInput("the run history is disabled in this config (history.enabled: false)")
    return history


def _module_from_file(path: Path) -> Any:
    name = f"loom_etl_user_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def import_pipeline(ref: str) -> type:
    """The pipeline class ``ref`` names: ``package.module:Pipeline`` or ``file.py:Pipeline``.

    The current directory (or the file's directory) is put on ``sys.path`` first.

    Raises:
        BadInput: the reference is malformed, cannot be imported, or is not a pipeline.
    """
    module_name, sep, attribute = ref.rpartition(":")
    if not sep or not module_name or not attribute:
        raise BadInput(f"{ref!r} is not MODULE:Pipeline (e.g. app.etl.daily:DailyPipeline)")
    try:
        if module_name.endswith(".py"):
            path = Path(module_name).resolve()
            sys.path.insert(0, str(path.parent))
            module = _module_from_file(path)
        else:
            sys.path.insert(0, os.getcwd())
            module = importlib.import_module(module_name)
    except Exception as exc:
        raise BadInput(f"cannot import {module_name}: {type(exc).__name__}: {exc}") from exc
    target: Any = module
    for part in attribute.split("."):
        target = getattr(target, part, None)
        if target is None:
            raise BadInput(f"module {module_name} has no attribute {attribute!r}")
    if not (isinstance(target, type) and issubclass(target, ETLPipeline)):
        raise BadInput(f"{ref} is not an ETLPipeline subclass")
    return target
