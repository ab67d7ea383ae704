"""``ETLRunner``: compile, validate and run pipelines against one storage."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from loom.core.config import LoomConfig, load_config, register_section
from loom.etl.backend._protocol import Backend
from loom.etl.backend._storage import Storage
from loom.etl.compiler._compile import compile_pipeline
from loom.etl.compiler._param_values import coerce_params
from loom.etl.compiler._plan import ExecutionPlan
from loom.etl.errors import BackendUnavailableError, PipelineRunError
from loom.etl.runner._execute import execute_plan
from loom.etl.runner._records import RunResult
from loom.etl.settings import HistorySettings, StorageSettings

__all__ = ["ETLRunner", "backend_for"]


def _register_sections() -> None:
    # The loom.settings entry points register these when loom-etl is installed; doing it
    # here as well keeps a source checkout (or a broken install) working.
    register_section("storage", StorageSettings)
    register_section("history", HistorySettings)


def backend_for(settings: StorageSettings) -> Backend:
    """The backend for ``storage.engine``.

    Raises:
        MissingDependencyError: the engine's extra is not installed.
        BackendUnavailableError: the engine is not built yet (``spark``).
    """
    if settings.engine == "polars":
        from loom.etl.delta import PolarsDeltaBackend

        return PolarsDeltaBackend()
    raise BackendUnavailableError(
        f"storage.engine {settings.engine!r} is not available yet",
        attribute="storage.engine",
        fix="use engine: polars",
    )


class ETLRunner:
    """Compiles and runs pipelines on one backend, against one storage.

    Args:
        backend: The engine (``PolarsDeltaBackend()`` for Polars on Delta Lake).
        storage: The ``storage`` settings (or a ready :class:`~loom.etl.backend.Storage`).
        max_workers: Most steps run at once by one parallel group (default: CPU count).

    Example:
        >>> runner = ETLRunner.from_yaml("config/etl.yaml")  # doctest: +SKIP
        >>> print(runner.validate(DailyPipeline))  # doctest: +SKIP
        >>> result = runner.run(DailyPipeline, DailyParams(run_date=date.today()))  # doctest: +SKIP

    """

    __slots__ = ("backend", "max_workers", "storage")

    def __init__(
        self,
        backend: Backend,
        storage: StorageSettings | Storage | None = None,
        *,
        max_workers: int | None = None,
    ) -> None:
        self.backend = backend
        self.storage = storage if isinstance(storage, Storage) else Storage(storage)
        self.max_workers = max_workers or os.cpu_count() or 4

    @classmethod
    def from_yaml(cls, *paths: str | os.PathLike[str], overrides: Sequence[str] = ()) -> ETLRunner:
        """A runner from YAML config files (their ``storage`` section).

        Raises:
            ConfigurationError: a file is missing or does not validate (names the key).
            MissingDependencyError: the engine's extra is not installed.
        """
        _register_sections()
        return cls.from_config(load_config(*paths, overrides=overrides))

    @classmethod
    def from_config(cls, config: LoomConfig | Mapping[str, Any]) -> ETLRunner:
        """A runner from a loaded config, or from plain config data (``{"storage": {...}}``).

        Raises:
            ConfigurationError: the data does not validate.
            MissingDependencyError: the engine's extra is not installed.
        """
        _register_sections()
        if not isinstance(config, LoomConfig):
            config = load_config(data=config)
        settings = config.section("storage", StorageSettings)
        return cls(backend_for(settings), settings)

    def validate(
        self,
        pipeline: type,
        params: object = None,
        *,
        include: str | Iterable[str] | None = None,
    ) -> ExecutionPlan:
        """Compile ``pipeline`` against the storage without reading or writing any data.

        Returns:
            The execution plan; ``str(plan)`` is the dry-run text.

        Raises:
            PipelineCompilationError: every declaration error, at once.
            ParamsValidationError: ``params`` were given and do not validate.
        """
        return compile_pipeline(
            pipeline, storage=self.storage, backend=self.backend, params=params, include=include
        )

    def run(
        self,
        pipeline: type,
        params: object = None,
        *,
        include: str | Iterable[str] | None = None,
        run_id: str | None = None,
    ) -> RunResult:
        """Compile and run ``pipeline`` with ``params``; each step commits atomically.

        Synchronous, so it works the same in scripts and inside a running event loop
        (Jupyter); parallel groups run on threads.

        Args:
            pipeline: The pipeline class.
            params: A params instance, a mapping of values, or ``None`` when every field
                has a default.
            include: Run only these steps (by name); tables they read must exist.
            run_id: The run's id (a random hex id by default), recorded in Delta commits.

        Returns:
            The run's result with one record per step.

        Raises:
            PipelineCompilationError: the pipeline has declaration errors; nothing ran.
            ParamsValidationError: ``params`` do not validate; nothing ran.
            PipelineRunError: a step failed; ``error.result`` has every step's record.
        """
        plan = self.validate(pipeline, params, include=include)
        values = plan.params
        if values is None:
            values = coerce_params(plan.params_type, None, pipeline=plan.name)
            plan = dataclasses.replace(plan, params=values)
        run = run_id or uuid.uuid4().hex
        result, errors = execute_plan(
            plan, values, self.backend, run_id=run, max_workers=self.max_workers
        )
        if errors:
            raise PipelineRunError(result, errors) from errors[0]
        return result

    async def arun(
        self,
        pipeline: type,
        params: object = None,
        *,
        include: str | Iterable[str] | None = None,
        run_id: str | None = None,
    ) -> RunResult:
        """:meth:`run` on a worker thread, for async code that must not block its loop."""
        return await asyncio.to_thread(self.run, pipeline, params, include=include, run_id=run_id)
