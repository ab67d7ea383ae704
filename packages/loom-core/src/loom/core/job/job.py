"""``Job[TResult]``: work that runs later, in a queue, with the use-case parameter rules."""

from __future__ import annotations

import random
from typing import Any, ClassVar, Generic, TypeVar

from loom.core.errors import NotFound, ValidationError

__all__ = ["Job"]

TResult = TypeVar("TResult")


class Job(Generic[TResult]):
    """Base of every background job.

    ``execute`` declares its parameters like a use case's: plain parameters come from
    the dispatch's ``params``, ``Input()`` from its ``payload``, and ``LoadById(...)`` is
    resolved in the worker before ``execute`` runs. A job runs at least once: make its
    effect idempotent.

    Class attributes:
        __queue__: Queue name (default ``"default"``).
        __retries__: Retries after the first failure (default 3), with exponential
            backoff from 1 s, jitter, capped at 5 minutes.
        __timeout__: Seconds one attempt may take (default 600).
        __backoff__: First retry delay in seconds (default 1); each retry doubles it,
            with jitter, up to ``__max_backoff__`` (default 300).
        __retry_on__: Exceptions that are retried (default: any ``Exception``).
        __no_retry_on__: Exceptions that fail the job at once (default: bad input,
            missing entities).
    """

    __queue__: ClassVar[str] = "default"
    __retries__: ClassVar[int] = 3
    __timeout__: ClassVar[float] = 600
    __backoff__: ClassVar[float] = 1.0
    __max_backoff__: ClassVar[float] = 300.0
    __retry_on__: ClassVar[tuple[type[BaseException], ...]] = (Exception,)
    __no_retry_on__: ClassVar[tuple[type[BaseException], ...]] = (ValidationError, NotFound)

    async def execute(self, *args: Any, **kwargs: Any) -> TResult:
        """Do the work; override with the job's own parameters."""
        raise NotImplementedError(f"{type(self).__qualname__} must define execute()")

    @classmethod
    def job_name(cls) -> str:
        """The stable name the job is registered under: ``module.QualName``."""
        return f"{cls.__module__}.{cls.__qualname__}"

    @classmethod
    def retry_delay(cls, attempt: int) -> float:
        """Seconds to wait before retry number ``attempt`` (1-based): exponential, jittered."""
        base: float = min(cls.__max_backoff__, cls.__backoff__ * 2 ** (attempt - 1))
        return base * random.uniform(0.5, 1.0)

    @classmethod
    def should_retry(cls, error: BaseException) -> bool:
        """Whether an attempt that raised ``error`` is retried (retries left permitting)."""
        if isinstance(error, cls.__no_retry_on__):
            return False
        return isinstance(error, cls.__retry_on__)
