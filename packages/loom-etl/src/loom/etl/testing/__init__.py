"""Testing helpers for your pipelines (extra ``delta``).

- :class:`PolarsStepRunner` runs one step on rows you seed for its sources (and
  optionally its target), and asserts on the rows and schema it wrote.
- :class:`ETLScenario` is a small lake in a temporary folder: seed tables and files,
  run whole pipelines (incremental and resumed runs included), assert on final tables.
- :func:`assert_rows` and :func:`assert_schema` compare frames with readable diffs.

Importing this module without the extra raises
:class:`~loom.core.errors.MissingDependencyError` naming ``loom-etl[delta]``.
"""

from loom.core.extras import import_extra

for _module in ("polars", "deltalake", "pyarrow"):
    import_extra(_module, distribution="loom-etl", extra="delta")

from loom.etl.testing._assertions import Rows, assert_rows, assert_schema, to_frame  # noqa: E402
from loom.etl.testing._scenario import ETLScenario  # noqa: E402
from loom.etl.testing._step_runner import PolarsStepRunner, StepResult  # noqa: E402

__all__ = [
    "ETLScenario",
    "PolarsStepRunner",
    "Rows",
    "StepResult",
    "assert_rows",
    "assert_schema",
    "to_frame",
]
