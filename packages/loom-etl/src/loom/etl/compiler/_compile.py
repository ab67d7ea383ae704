"""Compiling a pipeline class into an :class:`ExecutionPlan`, reporting every error at once."""

from __future__ import annotations

from collections.abc import Iterable

from loom.etl.backend._protocol import Backend
from loom.etl.backend._storage import Storage
from loom.etl.compiler._context import CompileContext
from loom.etl.compiler._param_values import coerce_params
from loom.etl.compiler._plan import ExecutionPlan, SequenceNode, iter_steps
from loom.etl.compiler._storage_checks import check_storage
from loom.etl.compiler._structure import build_tree, check_names, check_parallel
from loom.etl.dsl._declarations import ETLParams, ETLPipeline, declared_params_type
from loom.etl.errors import DeclarationError, PipelineCompilationError

__all__ = ["compile_pipeline"]


def _included(
    ctx: CompileContext, root: SequenceNode, include: str | Iterable[str] | None
) -> frozenset[str] | None:
    if include is None:
        return None
    wanted = [include] if isinstance(include, str) else list(include)
    names = [step.name for step in iter_steps(root)]
    if not wanted:
        ctx.add(
            DeclarationError,
            "include=[] selects no step",
            attribute="include",
            fix="name at least one step, or pass include=None to run them all",
        )
    for name in wanted:
        if name not in names:
            ctx.add(
                DeclarationError,
                f"include names {name!r}, which is not a step of the pipeline "
                f"(steps: {', '.join(names)})",
                attribute="include",
                fix="use step class names",
            )
    return frozenset(wanted)


def compile_pipeline(
    pipeline: type,
    *,
    storage: Storage | None = None,
    backend: Backend | None = None,
    params: object = None,
    include: str | Iterable[str] | None = None,
) -> ExecutionPlan:
    """Compile ``pipeline`` into an immutable :class:`ExecutionPlan`.

    Checks, before anything is read or written: the structure (processes, parallel
    groups, unique step names); each step's sources, its one target and write mode, and
    that ``execute``'s keyword-only parameters match the sources by name both ways (or
    the ``sql`` of a ``StepSQL``); every ``params.x`` reference against the params type;
    parallel branches that would write the same table or read a sibling's. With a
    ``backend``, every table a running step reads must exist or be written by an earlier
    step, and declared columns must exist in tables whose schema is known.

    Args:
        pipeline: An :class:`~loom.etl.ETLPipeline` subclass.
        storage: Resolves table names and file aliases (defaults: ``./lake``, no aliases).
        backend: Answers schema questions; ``None`` skips the storage checks.
        params: When given, validated into the pipeline's params type and kept on the plan.
        include: Step names to run; the others are planned but excluded.

    Raises:
        PipelineCompilationError: listing every declaration error found.
        ParamsValidationError: the declarations are fine but ``params`` do not validate.
    """
    name = getattr(pipeline, "__name__", repr(pipeline))
    if not (isinstance(pipeline, type) and issubclass(pipeline, ETLPipeline)):
        raise PipelineCompilationError(
            name,
            [
                DeclarationError(
                    f"{name} is not an ETLPipeline subclass",
                    fix="pass a class deriving from ETLPipeline[YourParams]",
                )
            ],
        )
    params_type = declared_params_type(pipeline) or ETLParams
    ctx = CompileContext(name, params_type, storage or Storage(), backend)
    root = build_tree(ctx, pipeline)
    check_names(ctx, root)
    check_parallel(ctx, root)
    included = _included(ctx, root, include)
    root = check_storage(ctx, root, included)
    ctx.raise_if_any()
    values = None if params is None else coerce_params(params_type, params, pipeline=name)
    steps = tuple(s for s in iter_steps(root) if included is None or s.name in included)
    excluded = tuple(
        s.name for s in iter_steps(root) if included is not None and s.name not in included
    )
    return ExecutionPlan(pipeline, name, params_type, root, steps, values, excluded)
