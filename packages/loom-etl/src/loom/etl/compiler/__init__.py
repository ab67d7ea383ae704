"""The pipeline compiler and the immutable execution plan it builds.

:func:`compile_pipeline` runs before anything is read or written and reports every
declaration error of a pipeline together, as one
:class:`~loom.etl.errors.PipelineCompilationError`.
"""

from loom.etl.compiler._compile import compile_pipeline
from loom.etl.compiler._param_values import coerce_params, resolve_param
from loom.etl.compiler._plan import (
    ExecutionPlan,
    Node,
    ParallelNode,
    SequenceNode,
    SourcePlan,
    StepNode,
    StepPlan,
    TargetPlan,
    iter_steps,
)

__all__ = [
    "ExecutionPlan",
    "Node",
    "ParallelNode",
    "SequenceNode",
    "SourcePlan",
    "StepNode",
    "StepPlan",
    "TargetPlan",
    "coerce_params",
    "compile_pipeline",
    "iter_steps",
    "resolve_param",
]
