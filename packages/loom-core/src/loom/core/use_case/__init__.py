"""Use cases: declared inputs (``Input``, ``LoadById``, ``Exists``), rules and computes.

``UseCase`` itself lives in :mod:`loom.core.use_case.use_case` and the invoker in
:mod:`loom.core.use_case.invoker`, as the seeds import them.
"""

from loom.core.use_case._field_ref import F, FieldRef, Presence
from loom.core.use_case._markers import Exists, Input, LoadById, OnMissing
from loom.core.use_case._rules import CheckRule, Compute, ComputeStep, PredicateRule, Rule

__all__ = [
    "CheckRule",
    "Compute",
    "ComputeStep",
    "Exists",
    "F",
    "FieldRef",
    "Input",
    "LoadById",
    "OnMissing",
    "PredicateRule",
    "Presence",
    "Rule",
]
