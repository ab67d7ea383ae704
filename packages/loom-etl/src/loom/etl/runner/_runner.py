"""``ETLRunner``: compile, validate and run pipelines against one storage."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import importlib
import os
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import msgspec

from loom.core.config import LoomConfig, load_config, register_section
from loom.core.logging import configure_logging, logger
from loom.core.tracing import configure_tracing
from loom.etl.backend._protocol import Backend
from loom.etl.backend._storage import Storage
from loom.etl.compiler._compile import compile_pipeline
from loom.etl.compiler._param_values import coerce_params
from loom.etl.compiler._plan import ExecutionPlan
from loom.etl.errors import BackendUnavailableError, PipelineRunError, ResumeError
from loom.etl.history._open import open_history
from loom.etl.history._store import RunHistory
from loom.etl.runner._display import auto_display
from loom.etl.runner._execute import RunSetup, execute_plan
from loom.etl.runner._listeners import RunListener
from loom.etl.runner._records import RunResult, StepRecord
from loom.etl.runner._resume import active, committed_steps, is_alive, reconcile_unfinished
from loom.etl.settings import HistorySettings, StorageSettings

__all__ = ["ETLRunner", "backend_for"]


def _pipeline_ref(pipeline: type) -> str | None:
    if "<locals>" in pipeline.__qualname__:
        return None
    return f"{pipeline.__module__}:{pipeline.__qualname__}"


def _import_pipeline(ref: str | None, run_id: str) -> type:
    if ref is None:
        raise ResumeError(
            f"run {run_id}: its pipeline class cannot be imported (it was defined in a function)",
            fix="pass the pipeline: runner.resume(run_id, pipeline=MyPipeline)",
        )
    module, _, qualname = ref.partition(":")
    try:
        target: Any = importlib.import_module(module)
        for part in qualname.split("."):
            target = getattr(target, part)
    except (ImportError, AttributeError) as exc:
        raise ResumeError(
            f"run {run_id}: cannot import its pipeline {ref}: {exc}",
            fix="pass the pipeline: runner.resume(run_id, pipeline=MyPipeline)",
        ) from exc
    if not isinstance(target, type):
        raise ResumeError(f"run {run_id}: {ref} is not a class")
    return target


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
        history: The run history (runs, steps, lineage, high-water marks); ``None`` keeps
            none, which rules out :meth:`resume` and incremental sources.
            :meth:`from_yaml` and :meth:`from_config` open the one the ``history``
            section points at.
        show: ``None`` (default) shows a progress bar and a summary table in a terminal,
            the summary table in Jupyter, and nothing elsewhere; ``True``/``False`` force.
        listeners: More :class:`~loom.etl.runner.RunListener` s told as runs go.

    Example:
        >>> runner = ETLRunner.from_yaml("config/etl.yaml")  # doctest: +SKIP
        >>> print(runner.validate(DailyPipeline))  # doctest: +SKIP
        >>> result = runner.run(DailyPipeline, DailyParams(run_date=date.today()))  # doctest: +SKIP
        >>> runner.resume(result.run_id)  # after a failure  # doctest: +SKIP

    """

    __slots__ = ("backend", "history", "listeners", "max_workers", "show", "storage")

    def __init__(
        self,
        backend: Backend,
        storage: StorageSettings | Storage | None = None,
        *,
        max_workers: int | None = None,
        history: RunHistory | None = None,
        show: bool | None = None,
        listeners: Sequence[RunListener] = (),
    ) -> None:
        self.backend = backend
        self.storage = storage if isinstance(storage, Storage) else Storage(storage)
        self.max_workers = max_workers or os.cpu_count() or 4
        self.history = history
        self.show = show
        self.listeners = tuple(listeners)

    @classmethod
    def from_yaml(
        cls, *paths: str | os.PathLike[str], overrides: Sequence[str] = (), **options: Any
    ) -> ETLRunner:
        """A runner from YAML config files (their ``storage`` and ``history`` sections).

        ``options`` are passed to the constructor (``show``, ``max_workers``, ``listeners``).

        Raises:
            ConfigurationError: a file is missing or does not validate (names the key).
            MissingDependencyError: the engine's extra is not installed.
        """
        _register_sections()
        return cls.from_config(load_config(*paths, overrides=overrides), **options)

    @classmethod
    def from_config(cls, config: LoomConfig | Mapping[str, Any], **options: Any) -> ETLRunner:
        """A runner from a loaded config, or from plain config data (``{"storage": {...}}``).

        When the config has an ``observability`` section, logging and tracing are set up
        from it (``observability.log``, ``observability.otel``).

        Raises:
            ConfigurationError: the data does not validate.
            MissingDependencyError: the engine's extra is not installed.
        """
        _register_sections()
        if not isinstance(config, LoomConfig):
            config = load_config(data=config)
        if "observability" in config.to_dict(mask=False):
            configure_logging(config.observability.log)
            configure_tracing(config.observability.otel)
        settings = config.section("storage", StorageSettings)
        storage = Storage(settings)
        history = open_history(config.section("history", HistorySettings), storage)
        return cls(backend_for(settings), storage, history=history, **options)

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
        (Jupyter); parallel groups run on threads. With a run history, the run, every
        step, its lineage and its high-water marks are recorded there.

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
            HistoryError: ``run_id`` is already in the run history, or the history cannot
                be opened; nothing ran.
            PipelineRunError: a step failed; ``error.result`` has every step's record and
                ``runner.resume(error.result.run_id)`` re-runs what did not commit.
        """
        plan = self.validate(pipeline, params, include=include)
        values = plan.params
        if values is None:
            values = coerce_params(plan.params_type, None, pipeline=plan.name)
            plan = dataclasses.replace(plan, params=values)
        run = run_id or uuid.uuid4().hex
        if self.history is not None:
            reconcile_unfinished(plan, self.history, self.backend, current=run)
            self.history.start_run(
                run_id=run,
                pipeline=plan.name,
                pipeline_ref=_pipeline_ref(pipeline),
                params=msgspec.to_builtins(values),
                include=None if include is None else [s.name for s in plan.steps],
                started_at=dt.datetime.now(dt.UTC),
            )
        return self._execute(plan, run, attempt=1, reused={})

    def resume(self, run_id: str, pipeline: type | None = None) -> RunResult:
        """Run again what run ``run_id`` did not commit, with the same params and steps.

        Steps the run committed — by the run history, or by a commit in their table
        carrying ``loom.run_id`` and ``loom.step`` (a crash after the commit and before
        the history write) — are not run again and are recorded as ``reused``. The
        resumed attempt keeps the run id, so its commits carry it too.

        Args:
            run_id: The run to resume.
            pipeline: The pipeline class; imported from the history when omitted.

        Raises:
            ResumeError: no history, unknown run, another pipeline, or the run is still
                running.
            PipelineRunError: a step failed again; resume again once it is fixed.
        """
        history = self.history
        if history is None:
            raise ResumeError(
                "this runner keeps no run history, so it cannot resume runs",
                fix="enable the history section (history.url / history.enabled)",
            )
        row = history.run(run_id)
        if row is None:
            raise ResumeError(f"run {run_id} is not in the run history {history.url}")
        if is_alive(row):
            raise ResumeError(
                f"run {run_id} is still running (pid {row.pid} on {row.host})",
                fix="wait for it to end, or stop that process",
            )
        pipeline = pipeline or _import_pipeline(row.pipeline_ref, run_id)
        if getattr(pipeline, "__name__", None) != row.pipeline:
            raise ResumeError(
                f"run {run_id} ran pipeline {row.pipeline}, not "
                f"{getattr(pipeline, '__name__', pipeline)}",
                fix=f"resume it with {row.pipeline}",
            )
        plan = self.validate(pipeline, row.params, include=row.include)
        assert plan.params is not None
        reused = committed_steps(plan, history, self.backend, run_id)
        attempt = history.resume_run(run_id)
        logger.bind(etl_run_id=run_id).info(
            "etl run {} resumed (attempt {}): {} of {} steps committed earlier",
            run_id,
            attempt,
            len(reused),
            len(plan.steps),
        )
        return self._execute(plan, run_id, attempt=attempt, reused=reused)

    def _execute(
        self, plan: ExecutionPlan, run_id: str, *, attempt: int, reused: dict[str, StepRecord]
    ) -> RunResult:
        assert plan.params is not None
        display = auto_display(self.show)
        setup = RunSetup(
            run_id,
            self.max_workers,
            history=self.history,
            attempt=attempt,
            reused=reused,
            listeners=(*self.listeners, *([display] if display else [])),
        )
        try:
            with active(run_id):
                result, errors = execute_plan(plan, plan.params, self.backend, setup)
        except BaseException as exc:
            # Interrupted (Ctrl-C, a crash in a listener or the history): leave a trace.
            self._finish(run_id, "failed", f"interrupted: {type(exc).__name__}: {exc}")
            raise
        first = errors[0] if errors else None
        self._finish(run_id, result.status.value, None if first is None else str(first))
        if errors:
            raise PipelineRunError(result, errors) from errors[0]
        return result

    def _finish(self, run_id: str, status: str, error: str | None) -> None:
        if self.history is None:
            return
        try:
            self.history.finish_run(
                run_id, status=status, finished_at=dt.datetime.now(dt.UTC), error=error
            )
        except Exception as exc:  # noqa: BLE001 - the run's outcome matters more
            logger.bind(etl_run_id=run_id).error("etl history: finishing run failed: {}", exc)

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
