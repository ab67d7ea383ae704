"""``ETLParams``, ``ETLStep``, ``StepSQL``, ``ETLProcess`` and ``ETLPipeline``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar, Generic, TypeVar, dataclass_transform, get_args, get_origin

import msgspec

from loom.etl.dsl._sources import Source
from loom.etl.dsl._targets import Target

__all__ = [
    "ETLParams",
    "ETLPipeline",
    "ETLProcess",
    "ETLStep",
    "P",
    "StepSQL",
    "declared_params_type",
    "sources_of",
    "targets_of",
]


# Subclasses inherit frozen/kw_only at run time; this tells type checkers so too.
@dataclass_transform(frozen_default=True, kw_only_default=True, field_specifiers=(msgspec.field,))
class ETLParams(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """Base of a pipeline's typed params: a frozen, keyword-only msgspec struct.

    Runs validate their params against it (an unknown field is an error too).

    Example:
        >>> from datetime import date
        >>> class DailyParams(ETLParams):
        ...     run_date: date
        >>> DailyParams(run_date=date(2024, 5, 1))
        DailyParams(run_date=datetime.date(2024, 5, 1))

    """


P = TypeVar("P", bound=ETLParams)


class ETLStep(Generic[P]):
    """One unit of work: sources as class attributes, one target, and ``execute``.

    A subclass declares each source as a class attribute (``orders = FromTable(...)``),
    exactly one target (``target = IntoTable(...).replace()``), and::

        def execute(self, params: P, *, orders: pl.LazyFrame) -> pl.LazyFrame: ...

    with one keyword-only parameter per source, named like the attribute. ``execute``
    receives lazy frames and returns one; the runner writes it to the target. The step's
    name is its class name.
    """


class StepSQL(ETLStep[P]):
    """A step written in SQL over its sources; each source is a table named like its attribute.

    ``:name`` placeholders (``:run_date``, ``:run_date.year``) are bound to the run's
    params as typed SQL literals — never pasted as text.

    Example:
        >>> from loom.etl import FromTable, IntoTable
        >>> class DailyTotals(StepSQL[ETLParams]):
        ...     orders = FromTable("staging.orders")
        ...     target = IntoTable("mart.daily_totals").replace()
        ...     sql = "SELECT run_date, SUM(amount) AS total FROM orders GROUP BY run_date"

    """

    sql: ClassVar[str] = ""


class ETLProcess(Generic[P]):
    """An ordered group of steps: ``steps = [A, [B, C], D]`` runs B and C in parallel.

    An entry is a step class, a process class (its steps run in order), or a list of
    those, run in parallel.
    """

    steps: ClassVar[Sequence[Any]] = ()


class ETLPipeline(Generic[P]):
    """The unit a runner runs: ``processes = [...]``, in order; a nested list runs in parallel."""

    processes: ClassVar[Sequence[Any]] = ()


_GENERIC_BASES = (ETLStep, StepSQL, ETLProcess, ETLPipeline)


def declared_params_type(cls: type) -> type[ETLParams] | None:
    """The params type a step, process or pipeline class is parametrized with, if any."""
    for klass in cls.__mro__:
        for base in klass.__dict__.get("__orig_bases__", ()):
            if get_origin(base) in _GENERIC_BASES:
                args = get_args(base)
                if args and isinstance(args[0], type):
                    return args[0]
    return None


def _attributes(cls: type, kind: type[Any]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for klass in reversed(cls.__mro__):
        if klass in _GENERIC_BASES or klass is object:
            continue
        for name, value in vars(klass).items():
            if isinstance(value, kind):
                found[name] = value
            else:
                found.pop(name, None)
    return found


def sources_of(cls: type) -> dict[str, Source]:
    """The sources a step class declares, by attribute name (inherited ones included)."""
    return _attributes(cls, Source)


def targets_of(cls: type) -> dict[str, Target]:
    """The targets a step class declares, by attribute name (inherited ones included)."""
    return _attributes(cls, Target)
