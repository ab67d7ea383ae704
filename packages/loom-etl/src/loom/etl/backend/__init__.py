"""The backend boundary: the :class:`Backend` protocol and the specs it receives.

A backend reads sources into its own lazy frames, runs ``StepSQL`` queries over them and
writes a frame to a target in one atomic commit. The DSL, the compiler and the runner
only know this protocol, so another engine (Spark) plugs in without touching them.
:class:`Storage` turns table names and file aliases into :class:`Location` s.
"""

from loom.etl.backend._protocol import (
    Backend,
    BoundSql,
    Commit,
    Location,
    ReadSpec,
    StepContext,
    TableSchema,
    WriteOutcome,
    WriteSpec,
)
from loom.etl.backend._storage import Storage, table_name_problem

__all__ = [
    "Backend",
    "BoundSql",
    "Commit",
    "Location",
    "ReadSpec",
    "StepContext",
    "Storage",
    "TableSchema",
    "WriteOutcome",
    "WriteSpec",
    "table_name_problem",
]
