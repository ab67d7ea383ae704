"""The state of one top-level run, shared by the nested runs inside it."""

from __future__ import annotations

import contextvars

from loom.core.di import ScopeContext
from loom.core.repository.abc.uow import UnitOfWork

__all__ = ["Run", "current_run", "current_unit_of_work"]


class Run:
    """One top-level run: its unit of work and, once needed, its DI scope."""

    __slots__ = ("scope", "uow")

    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow
        self.scope: ScopeContext | None = None


current_run: contextvars.ContextVar[Run | None] = contextvars.ContextVar("loom_run", default=None)
"""The run of the use case executing in this task, if any."""


def current_unit_of_work() -> UnitOfWork | None:
    """The unit of work of the use case running in this task, if any.

    Job services use it to hold a dispatch until the unit of work commits.
    """
    run = current_run.get()
    return run.uow if run is not None else None
