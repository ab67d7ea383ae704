"""``Runtime``: an application assembled from its config, ready to start."""

from __future__ import annotations

import hashlib
import os
import secrets
import typing
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from loom.core.application import Application
from loom.core.bootstrap._discovery import Manifest, add_code_path, discover
from loom.core.config import LoomConfig, load_config
from loom.core.errors import CompilationError
from loom.core.interface import RouteSpec
from loom.core.job.backends import JobRuntime, job_backend_available, open_job_runtime
from loom.core.job.records import JOB_MODELS
from loom.core.job.service import JobService
from loom.core.logging import configure_logging, logger
from loom.core.stores import Store, open_store
from loom.core.tracing import configure_tracing

__all__ = ["Runtime", "load_runtime"]


def _secret(config: LoomConfig) -> bytes:
    key = config.app.secret_key
    if key:
        return hashlib.sha256(key.encode()).digest()
    logger.warning(
        "app.secret_key is not set: cursors are signed with a per-process key and stop "
        "working after a restart or across instances; set app.secret_key in production"
    )
    return secrets.token_bytes(32)


def _uses_jobs(manifest: Manifest) -> bool:
    """True when the app declares jobs or a use case or callback takes a ``JobService``."""
    if manifest.jobs:
        return True
    for cls in (*manifest.use_cases, *manifest.callbacks):
        init = cls.__init__
        if init is object.__init__:
            continue
        try:
            hints = typing.get_type_hints(init)
        except Exception:  # noqa: BLE001 - unresolvable hints are reported by compile()
            return True
        if any(hint is JobService for hint in hints.values()):
            return True
    return False


class Runtime:
    """Everything a process needs to serve an application, decided at start-up.

    Building one reads nothing from the network: it configures logging and tracing,
    imports the application's modules, compiles every use case, job and interface (all
    declaration errors at once), checks every dependency, and prepares (but does not
    open) the store and the job backend. ``start()``/``stop()`` open and close them.
    """

    def __init__(self, config: LoomConfig, *, config_dir: Path | None = None) -> None:
        self.config = config
        configure_logging(config.observability.log)
        configure_tracing(config.observability.otel)
        add_code_path(config.app, config_dir)
        self.manifest: Manifest = discover(config.app)
        uses_jobs = _uses_jobs(self.manifest)
        models = self.manifest.models
        if uses_jobs and job_backend_available(config.jobs):
            models = (*models, *JOB_MODELS)
        self.store: Store = open_store(config.database, models=models, secret=_secret(config))
        self.application = Application(self.store.uow_factory)
        self.jobs: JobRuntime | None = (
            open_job_runtime(
                config.jobs, application=self.application, jobs=self.manifest.jobs, store=self.store
            )
            if uses_jobs
            else None
        )
        if self.jobs is not None:
            self.application.container.register_instance(JobService, self.jobs.service)
        try:
            self.routes: tuple[RouteSpec, ...] = self.application.compile(
                use_cases=self.manifest.use_cases,
                jobs=self.manifest.jobs,
                callbacks=self.manifest.callbacks,
                interfaces=self.manifest.interfaces,
            )
        except CompilationError as exc:
            if self.jobs is None and "JobService" in str(exc):
                raise CompilationError(
                    f"{exc}\n(use cases need a JobService: install loom-jobs)"
                ) from exc
            raise
        self.started = False

    async def start(self) -> None:
        """Open the store's pools and start the job backend."""
        await self.store.start()
        if self.jobs is not None:
            await self.jobs.start()
        self.started = True
        logger.info(
            "{name} started: {routes} routes, {models} models, {jobs} jobs",
            name=self.config.app.name,
            routes=len(self.routes),
            models=len(self.manifest.models),
            jobs=len(self.manifest.jobs),
        )

    async def stop(self) -> None:
        """Stop the job backend, then close the store."""
        try:
            if self.jobs is not None:
                await self.jobs.stop()
        finally:
            await self.store.stop()
            self.started = False


def load_runtime(
    *paths: str | os.PathLike[str],
    overrides: Sequence[str] = (),
    data: dict[str, Any] | None = None,
) -> Runtime:
    """Load config files (see :func:`loom.core.config.load_config`) and build the runtime."""
    config = load_config(*paths, overrides=overrides, data=data)
    config_dir = Path(paths[-1]).resolve().parent if paths else None
    return Runtime(config, config_dir=config_dir)
