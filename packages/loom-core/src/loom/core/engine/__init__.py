"""The use-case engine: compile each use case once into a plan, then run plans.

Example:
    >>> plan = compile_use_case(CreateUserUseCase)  # doctest: +SKIP
    >>> await Executor(uow_factory).run(plan, payload=b'{"email": "a@b.c"}')  # doctest: +SKIP
"""

from loom.core.engine._compiler import compile_use_case, converter_for
from loom.core.engine._executor import Executor, current_unit_of_work
from loom.core.engine._plan import (
    CommandBinding,
    ExistsStep,
    LoadStep,
    ParamBinding,
    UseCasePlan,
)

__all__ = [
    "CommandBinding",
    "ExistsStep",
    "Executor",
    "LoadStep",
    "ParamBinding",
    "UseCasePlan",
    "compile_use_case",
    "converter_for",
    "current_unit_of_work",
]
