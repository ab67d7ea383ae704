"""The dry-run text of an execution plan."""

from __future__ import annotations

from typing import Any

import msgspec

from loom.etl.compiler._param_values import resolve_param
from loom.etl.compiler._plan import (
    ExecutionPlan,
    Node,
    ParallelNode,
    SequenceNode,
    SourcePlan,
    StepNode,
    StepPlan,
    TargetPlan,
)
from loom.etl.dsl._declarations import ETLParams
from loom.etl.dsl._expr import Expr, ParamRef, render_expr
from loom.etl.dsl._targets import WriteMode

__all__ = ["render_plan"]


def _value(value: Any, params: ETLParams | None) -> str:
    if isinstance(value, ParamRef):
        if params is None:
            return value.dotted
        try:
            return f"{value.dotted}={resolve_param(params, value)!r}"
        except AttributeError:
            return value.dotted
    if isinstance(value, Expr):
        return render_expr(value)
    return repr(value)


def _source(source: SourcePlan) -> str:
    text = f"{source.kind} {source.name}"
    if source.kind == "file":
        text += f" ({source.format.value})"
    if source.columns is not None:
        text += " columns(" + ", ".join(source.columns) + ")"
    if source.predicate is not None:
        text += f" where({render_expr(source.predicate)})"
    if source.dtypes:
        text += " types(" + ", ".join(f"{c}={t}" for c, t in source.dtypes) + ")"
    if source.cursor is not None:
        text += f" incremental(cursor={source.cursor!r})"
    if source.produced_by:
        text += f"  (written by {source.produced_by})"
    return f"{text}  @ {source.location.uri}"


def _target(target: TargetPlan, params: ETLParams | None) -> str:
    if target.kind == "file":
        return f"file {target.name} ({target.format.value}) replace  @ {target.location.uri}"
    args = ""
    if target.mode is WriteMode.REPLACE_PARTITION:
        args = ", ".join(f"{c}={_value(v, params)}" for c, v in target.partition_values)
    elif target.mode is WriteMode.REPLACE_PARTITIONS:
        args = ", ".join(target.partition_columns)
    elif target.mode is WriteMode.REPLACE_WHERE and target.predicate is not None:
        args = render_expr(target.predicate)
    elif target.mode is WriteMode.UPSERT:
        args = "keys=(" + ", ".join(target.keys) + ")"
        if target.update_columns is not None:
            args += ", update_columns=(" + ", ".join(target.update_columns) + ")"
    text = f"table {target.name} {target.mode.value}({args}) schema={target.schema_mode.value}"
    if target.partition_by:
        text += " partition_by=(" + ", ".join(target.partition_by) + ")"
    return f"{text}  @ {target.location.uri}"


def _step(step: StepPlan, plan: ExecutionPlan, indent: str, lines: list[str]) -> None:
    skipped = "  [excluded]" if step.name in plan.excluded else ""
    kind = "sql" if step.sql is not None else "python"
    lines.append(f"{indent}{step.index}. {step.name} ({kind}){skipped}")
    pad = indent + "     "
    for source in step.sources:
        lines.append(f"{pad}read  {source.attribute} <- {_source(source)}")
    params_used = list(step.sql.params) if step.sql is not None else []
    if params_used:
        lines.append(f"{pad}sql   binds " + ", ".join(_value(p, plan.params) for p in params_used))
    lines.append(f"{pad}write {step.target.attribute} -> {_target(step.target, plan.params)}")


def _node(node: Node, plan: ExecutionPlan, indent: str, lines: list[str]) -> None:
    if isinstance(node, StepNode):
        _step(node.step, plan, indent, lines)
    elif isinstance(node, ParallelNode):
        lines.append(f"{indent}parallel:")
        for child in node.children:
            _node(child, plan, indent + "  ", lines)
    elif isinstance(node, SequenceNode):
        lines.append(f"{indent}process {node.label}")
        for child in node.children:
            _node(child, plan, indent + "  ", lines)


def render_plan(plan: ExecutionPlan) -> str:
    """Render ``plan`` as indented text, one line per step, source and target."""
    shown = plan.params_type.__name__
    if plan.params is not None:
        values = ", ".join(f"{k}={v!r}" for k, v in msgspec.structs.asdict(plan.params).items())
        shown = f"{type(plan.params).__name__}({values})"
    lines = [f"pipeline {plan.name} (params: {shown})"]
    for child in plan.root.children:
        _node(child, plan, "  ", lines)
    count = len(plan.steps)
    lines.append(f"{count} step{'s' if count != 1 else ''} to run")
    if plan.excluded:
        lines[-1] += f"; excluded: {', '.join(plan.excluded)}"
    return "\n".join(lines)
