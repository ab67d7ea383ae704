"""The job-backend contract: how an application gets its ``JobService`` from ``jobs.backend``.

loom-jobs registers providers in the ``loom.job_backends`` entry-point group, named after
the backend (``inline``, ``dramatiq``).
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any, Protocol

from loom.core.config._settings import JobsSettings
from loom.core.errors import ConfigurationError
from loom.core.job.service import JobService

if TYPE_CHECKING:
    from loom.core.application import Application
    from loom.core.stores import Store

__all__ = [
    "JOB_BACKEND_GROUP",
    "JobBackendProvider",
    "JobRuntime",
    "job_backend_available",
    "open_job_runtime",
]

JOB_BACKEND_GROUP = "loom.job_backends"


class JobRuntime(Protocol):
    """A running job backend: its service, started and stopped with the application."""

    @property
    def service(self) -> JobService:
        """The job service use cases dispatch through."""
        ...

    async def start(self) -> None:
        """Start workers, relays or connections."""
        ...

    async def stop(self) -> None:
        """Finish or hand back pending work, then release resources."""
        ...


class JobBackendProvider(Protocol):
    """Builds a :class:`JobRuntime` (not yet started) for a ``jobs`` section."""

    def __call__(
        self,
        settings: JobsSettings,
        *,
        application: Application,
        jobs: Sequence[type[Any]],
        store: Store | None,
    ) -> JobRuntime:
        """Return the job runtime for ``settings.backend``."""
        ...


def job_backend_available(settings: JobsSettings) -> bool:
    """True when an installed distribution provides ``settings.backend``."""
    return bool(list(entry_points(group=JOB_BACKEND_GROUP, name=settings.backend)))


def open_job_runtime(
    settings: JobsSettings,
    *,
    application: Application,
    jobs: Sequence[type[Any]],
    store: Store | None,
) -> JobRuntime | None:
    """Build the job runtime for ``settings.backend``; ``None`` when no backend is installed.

    Raises:
        ConfigurationError: the application declares jobs but no installed distribution
            provides ``settings.backend``.
    """
    found = list(entry_points(group=JOB_BACKEND_GROUP, name=settings.backend))
    if not found:
        if jobs:
            raise ConfigurationError(
                f"jobs.backend {settings.backend!r} is not available; install loom-jobs "
                f"(the application declares {len(jobs)} job(s))",
                key="jobs.backend",
            )
        return None
    provider: JobBackendProvider = found[0].load()
    return provider(settings, application=application, jobs=jobs, store=store)
