"""Names of jobs and callbacks in messages, and finding their classes again in a worker."""

from __future__ import annotations

import importlib
import threading
from collections.abc import Iterable
from typing import Any

from loom.core.job.job import Job
from loom.jobs.errors import UnknownJob

__all__ = ["JobRegistry", "callback_name"]


def callback_name(callback: type[Any]) -> str:
    """The name a callback class travels under: ``module:QualName``."""
    return f"{callback.__module__}:{callback.__qualname__}"


def _import_class(name: str) -> Any:
    module_name, sep, qualname = name.partition(":")
    if not sep or not module_name or not qualname:
        return None
    try:
        target: Any = importlib.import_module(module_name)
    except ImportError:
        return None
    for part in qualname.split("."):
        target = getattr(target, part, None)
        if target is None:
            return None
    return target


class JobRegistry:
    """The jobs a process runs and the callbacks their messages name.

    Jobs are known up front (the application's declarations). Callbacks are registered
    when they are discovered or dispatched; a name not seen yet is imported once from
    its module and accepted only when it is a class with the method asked for.

    Args:
        jobs: The application's job classes.
        callbacks: Callback classes known at start-up.
    """

    def __init__(self, jobs: Iterable[type[Any]] = (), callbacks: Iterable[type[Any]] = ()) -> None:
        self._jobs: dict[str, type[Job[Any]]] = {}
        self._callbacks: dict[str, type[Any]] = {}
        self._lock = threading.Lock()
        for job in jobs:
            self.add_job(job)
        for callback in callbacks:
            self.add_callback(callback)

    @property
    def jobs(self) -> tuple[type[Job[Any]], ...]:
        """Every registered job class."""
        return tuple(self._jobs.values())

    def add_job(self, job: type[Any]) -> None:
        """Register a job class under ``job.job_name()``."""
        if not (isinstance(job, type) and issubclass(job, Job)):
            raise TypeError(f"{job!r} is not a Job subclass")
        self._jobs[job.job_name()] = job

    def add_callback(self, callback: type[Any]) -> None:
        """Register a callback class under :func:`callback_name`."""
        self._callbacks[callback_name(callback)] = callback

    def job(self, name: str) -> type[Job[Any]]:
        """The job class registered as ``name``.

        Raises:
            UnknownJob: this process does not know the job.
        """
        found = self._jobs.get(name)
        if found is None:
            raise UnknownJob(f"unknown job {name!r}: it is not among this application's jobs")
        return found

    def callback(self, name: str | None, method: str) -> type[Any] | None:
        """The callback class called ``name`` (``None`` for none).

        Raises:
            UnknownJob: ``name`` is not an importable class with ``method``.
        """
        if name is None:
            return None
        found = self._callbacks.get(name)
        if found is None:
            with self._lock:
                found = self._callbacks.get(name)
                if found is None:
                    found = _import_class(name)
                    if not isinstance(found, type) or not callable(getattr(found, method, None)):
                        raise UnknownJob(f"unknown callback {name!r}: no class with {method}()")
                    self._callbacks[name] = found
        return found
