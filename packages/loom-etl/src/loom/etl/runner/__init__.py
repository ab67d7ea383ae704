"""The runner: :class:`ETLRunner` compiles pipelines and runs their plans step by step.

Each step reads its sources lazily, runs ``execute`` (or its SQL), and writes its target
in one atomic commit; a run returns a :class:`RunResult` with one :class:`StepRecord` per
step, or raises :class:`~loom.etl.errors.PipelineRunError` carrying that result.
"""

from loom.etl.runner._display import RichDisplay
from loom.etl.runner._listeners import RunListener
from loom.etl.runner._records import RunResult, RunStatus, StepRecord, StepStatus
from loom.etl.runner._runner import ETLRunner, backend_for

__all__ = [
    "ETLRunner",
    "RichDisplay",
    "RunListener",
    "RunResult",
    "RunStatus",
    "StepRecord",
    "StepStatus",
    "backend_for",
]
