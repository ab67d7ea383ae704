"""The immutable execution plan of a use case, produced once by the compiler."""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from typing import Any

from loom.core.errors import RuleViolation
from loom.core.use_case._markers import OnMissing

__all__ = [
    "CommandBinding",
    "ExistsStep",
    "LoadStep",
    "ParamBinding",
    "RuleCheck",
    "Runner",
    "UseCasePlan",
]

RuleCheck = Callable[[Any, Mapping[str, Any]], RuleViolation | None]
"""A compiled rule: ``(command, params) -> violation or None``."""

Runner = Callable[[Any, Mapping[str, Any], Any], Coroutine[Any, Any, Any]]
"""A plan written out as one coroutine function: ``runner(executor, params, payload)``."""


@dataclass(frozen=True, slots=True)
class ParamBinding:
    """A plain ``execute`` parameter filled from path/query params by name."""

    name: str
    annotation: Any
    convert: Callable[[Any], Any]
    required: bool
    default: Any
    exact: type[Any] | None = None
    """The annotation when it is a plain class: values already of it need no conversion."""


@dataclass(frozen=True, slots=True)
class CommandBinding:
    """The ``Input()`` parameter: its name, command type and length limits from the model."""

    name: str
    type: type[Any]
    max_lengths: Mapping[str, int]


@dataclass(frozen=True, slots=True)
class LoadStep:
    """A ``LoadById`` parameter."""

    name: str
    model: type[Any]
    by_param: str | None
    by_field: str | None
    profile: str
    on_missing: OnMissing


@dataclass(frozen=True, slots=True)
class ExistsStep:
    """An ``Exists`` parameter."""

    name: str
    model: type[Any]
    from_param: str | None
    from_field: str | None
    against: str
    on_missing: OnMissing


@dataclass(frozen=True, slots=True, eq=False)
class UseCasePlan:
    """Everything the executor needs to run a use case, decided at start-up."""

    use_case: type[Any]
    model: type[Any] | None
    params: tuple[ParamBinding, ...]
    command: CommandBinding | None
    query_param: str | None
    loads: tuple[LoadStep, ...]
    exists: tuple[ExistsStep, ...]
    computes: tuple[Callable[[Any], Any], ...]
    rules: tuple[RuleCheck, ...]
    read_only: bool
    result_type: Any
    read_models: tuple[type[Any], ...] = ()
    """The models that loads and existence checks read, each once."""
    principal_param: str | None = None
    """The ``execute`` parameter that receives the authenticated principal."""
    principal_required: bool = False
    runner: Runner | None = field(default=None, repr=False)
    """The plan as one generated coroutine function (set by the compiler)."""

    @property
    def name(self) -> str:
        """The use case's qualified class name."""
        return self.use_case.__qualname__

    @property
    def param_names(self) -> tuple[str, ...]:
        """The plain parameters, in declaration order."""
        return tuple(p.name for p in self.params)
