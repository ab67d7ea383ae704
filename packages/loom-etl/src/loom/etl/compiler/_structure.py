"""The shape of a pipeline: processes in order, nested lists in parallel, steps at the leaves."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from itertools import combinations

from loom.etl.compiler._context import CompileContext
from loom.etl.compiler._plan import Node, ParallelNode, SequenceNode, StepNode, iter_steps
from loom.etl.compiler._step import check_params_type, compile_step
from loom.etl.dsl._declarations import ETLPipeline, ETLProcess, ETLStep
from loom.etl.errors import DeclarationError, ParallelConflictError

__all__ = ["build_tree", "check_names", "check_parallel"]


def _describe(entry: object) -> str:
    if isinstance(entry, type):
        return f"class {entry.__name__}"
    return f"{type(entry).__name__} {entry!r}"


def _entries(
    ctx: CompileContext, owner: type, attribute: str, value: object
) -> Sequence[object] | None:
    if isinstance(value, list | tuple) and value:
        return value
    ctx.add(
        DeclarationError,
        f"{owner.__name__}.{attribute} must be a non-empty list, got {value!r}",
        attribute=attribute,
        fix=f"set {attribute} = [...] in {owner.__name__}",
    )
    return None


def _entry(
    ctx: CompileContext,
    entry: object,
    *,
    owner: type,
    attribute: str,
    position: int,
    in_parallel: bool,
    process: str | None,
    stack: tuple[type, ...],
) -> Node | None:
    where = f"{owner.__name__}.{attribute}[{position}]"
    if isinstance(entry, list | tuple):
        if in_parallel:
            ctx.add(
                DeclarationError,
                f"{where}: a parallel group holds another list",
                fix="put the steps that must run in order into an ETLProcess and list that "
                "process in the parallel group",
            )
            return None
        if not entry:
            ctx.add(
                DeclarationError,
                f"{where}: empty parallel group",
                fix="list the steps to run in parallel, or remove the empty list",
            )
            return None
        children = [
            _entry(
                ctx,
                item,
                owner=owner,
                attribute=attribute,
                position=position,
                in_parallel=True,
                process=process,
                stack=stack,
            )
            for item in entry
        ]
        kept = tuple(c for c in children if c is not None)
        return ParallelNode(kept) if kept else None
    if isinstance(entry, type) and issubclass(entry, ETLStep):
        plan = compile_step(ctx, entry, process=process)
        return StepNode(plan) if plan is not None else None
    if isinstance(entry, type) and issubclass(entry, ETLProcess):
        if entry in stack:
            ctx.add(
                DeclarationError,
                f"{where}: process {entry.__name__} contains itself",
                fix="remove the cycle",
            )
            return None
        return _process(ctx, entry, stack=(*stack, entry))
    if isinstance(entry, type) and issubclass(entry, ETLPipeline):
        fix = "list its processes instead"
    elif isinstance(entry, ETLStep | ETLProcess):
        fix = f"list the class {type(entry).__name__}, not an instance"
    else:
        fix = "list ETLStep or ETLProcess subclasses (a nested list runs in parallel)"
    ctx.add(
        DeclarationError, f"{where} is {_describe(entry)}, not a step or process class", fix=fix
    )
    return None


def _process(ctx: CompileContext, cls: type, *, stack: tuple[type, ...]) -> SequenceNode | None:
    check_params_type(ctx, cls)
    entries = _entries(ctx, cls, "steps", getattr(cls, "steps", None))
    if entries is None:
        return None
    children = [
        _entry(
            ctx,
            entry,
            owner=cls,
            attribute="steps",
            position=i,
            in_parallel=False,
            process=cls.__name__,
            stack=stack,
        )
        for i, entry in enumerate(entries)
    ]
    return SequenceNode(cls.__name__, tuple(c for c in children if c is not None))


def build_tree(ctx: CompileContext, pipeline: type) -> SequenceNode:
    """Walk ``pipeline.processes`` into an execution tree, compiling every step."""
    entries = _entries(ctx, pipeline, "processes", getattr(pipeline, "processes", None))
    children = [
        _entry(
            ctx,
            entry,
            owner=pipeline,
            attribute="processes",
            position=i,
            in_parallel=False,
            process=None,
            stack=(pipeline,),
        )
        for i, entry in enumerate(entries or ())
    ]
    return SequenceNode(None, tuple(c for c in children if c is not None))


def check_names(ctx: CompileContext, root: SequenceNode) -> None:
    """Record an error for every step name used more than once."""
    counts = Counter(step.name for step in iter_steps(root))
    for name, count in counts.items():
        if count > 1:
            ctx.add(
                DeclarationError,
                f"step {name} appears {count} times; step names must be unique in a pipeline",
                step=name,
                fix="list each step once, or subclass it under another name",
            )


def _tables(node: Node) -> tuple[dict[str, str], dict[str, str]]:
    reads: dict[str, str] = {}
    writes: dict[str, str] = {}
    for step in iter_steps(node):
        for source in step.sources:
            if source.kind == "table":
                reads.setdefault(source.name, step.name)
        if step.target.kind == "table":
            writes.setdefault(step.target.name, step.name)
        else:
            writes.setdefault(step.target.location.uri, step.name)
    return reads, writes


def check_parallel(ctx: CompileContext, node: Node) -> None:
    """Record conflicts between parallel branches: same target, or reading a sibling's target."""
    if isinstance(node, StepNode):
        return
    for child in node.children:
        check_parallel(ctx, child)
    if not isinstance(node, ParallelNode):
        return
    tables = [_tables(child) for child in node.children]
    for (reads_a, writes_a), (reads_b, writes_b) in combinations(tables, 2):
        for table in writes_a.keys() & writes_b.keys():
            ctx.add(
                ParallelConflictError,
                f"parallel steps {writes_a[table]} and {writes_b[table]} both write {table}",
                step=writes_b[table],
                fix="run them one after the other (take them out of the parallel list)",
            )
        for reads, writes in ((reads_a, writes_b), (reads_b, writes_a)):
            for table in reads.keys() & writes.keys():
                ctx.add(
                    ParallelConflictError,
                    f"step {reads[table]} reads {table} while the parallel step "
                    f"{writes[table]} writes it",
                    step=reads[table],
                    fix=f"run {writes[table]} before {reads[table]} (not in parallel)",
                )
