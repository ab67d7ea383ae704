"""Checks against storage: tables a step reads exist (or are written earlier), columns exist."""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Iterable

from loom.etl.backend._protocol import TableSchema
from loom.etl.compiler._context import CompileContext
from loom.etl.compiler._plan import (
    Node,
    ParallelNode,
    SequenceNode,
    SourcePlan,
    StepNode,
    StepPlan,
    TargetPlan,
)
from loom.etl.compiler._sources import predicate_columns
from loom.etl.dsl._targets import SchemaMode, WriteMode
from loom.etl.errors import MissingTableError, SourceReadError, UnknownColumnError

__all__ = ["check_storage"]


class _Schemas:
    """Table schemas looked up once per compilation."""

    def __init__(self, ctx: CompileContext) -> None:
        self._ctx = ctx
        self._cache: dict[str, TableSchema | None] = {}

    def get(self, plan: SourcePlan | TargetPlan, step: str) -> TableSchema | None:
        backend = self._ctx.backend
        assert backend is not None
        uri = plan.location.uri
        if uri not in self._cache:
            try:
                self._cache[uri] = backend.table_schema(plan.location)
            except Exception as exc:  # noqa: BLE001 - report it with the step, keep compiling
                self._ctx.add(
                    SourceReadError,
                    f"cannot read the schema of {plan.name} at {uri}: {exc}",
                    step=step,
                    attribute=plan.attribute,
                    fix="check the path and storage_options in the storage config",
                )
                self._cache[uri] = None
        return self._cache[uri]


def _unknown(
    ctx: CompileContext,
    names: Iterable[str],
    schema: TableSchema,
    *,
    table: str,
    step: str,
    attribute: str,
    where: str,
) -> None:
    known = schema.names
    for name in names:
        if name not in known:
            close = difflib.get_close_matches(name, known, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            ctx.add(
                UnknownColumnError,
                f"{where}: column {name!r} is not in table {table}{hint} "
                f"(columns: {', '.join(known)})",
                step=step,
                attribute=attribute,
                column=name,
                fix=f"fix the column name in {where}, or add the column to {table}",
            )


def _check_source(ctx: CompileContext, source: SourcePlan, schema: TableSchema, step: str) -> None:
    common = {"table": source.name, "step": step, "attribute": source.attribute}
    _unknown(ctx, source.columns or (), schema, where="columns()", **common)
    _unknown(ctx, predicate_columns(source.predicate), schema, where="where()", **common)
    _unknown(ctx, (c for c, _ in source.dtypes), schema, where="types()", **common)
    if source.cursor is not None:
        _unknown(ctx, (source.cursor,), schema, where="incremental(cursor=...)", **common)


def _check_target(ctx: CompileContext, target: TargetPlan, schema: TableSchema, step: str) -> None:
    if target.schema_mode is not SchemaMode.STRICT:
        return
    common = {"table": target.name, "step": step, "attribute": target.attribute}
    mode = target.mode
    if mode is WriteMode.REPLACE_PARTITION:
        names = [c for c, _ in target.partition_values]
        _unknown(ctx, names, schema, where="replace_partition()", **common)
    elif mode is WriteMode.REPLACE_PARTITIONS:
        _unknown(ctx, target.partition_columns, schema, where="replace_partitions()", **common)
    elif mode is WriteMode.REPLACE_WHERE:
        cols = predicate_columns(target.predicate)
        _unknown(ctx, cols, schema, where="replace_where()", **common)
    elif mode is WriteMode.UPSERT:
        _unknown(ctx, target.keys, schema, where="upsert(keys=...)", **common)
        updates = target.update_columns or ()
        _unknown(ctx, updates, schema, where="upsert(update_columns=...)", **common)


def _step(
    ctx: CompileContext,
    step: StepPlan,
    produced: dict[str, str],
    schemas: _Schemas,
    included: frozenset[str] | None,
) -> StepPlan:
    runs = included is None or step.name in included
    sources = []
    for source in step.sources:
        if source.kind == "table" and source.name in produced and runs:
            source = dataclasses.replace(source, produced_by=produced[source.name])
        elif source.kind == "table" and runs and ctx.backend is not None:
            schema = schemas.get(source, step.name)
            if schema is None:
                ctx.add(
                    MissingTableError,
                    f"table {source.name} does not exist at {source.location.uri} and no "
                    "earlier step writes it",
                    step=step.name,
                    attribute=source.attribute,
                    fix=f"create {source.name}, run a step that writes it earlier in the "
                    "pipeline (not in parallel), or fix the name",
                )
            else:
                _check_source(ctx, source, schema, step.name)
        sources.append(source)
    target = step.target
    if runs and target.kind == "table":
        if target.name not in produced and ctx.backend is not None:
            schema = schemas.get(target, step.name)
            if schema is not None:
                _check_target(ctx, target, schema, step.name)
        produced[target.name] = step.name
    return dataclasses.replace(step, sources=tuple(sources))


def _walk(
    ctx: CompileContext,
    node: Node,
    produced: dict[str, str],
    schemas: _Schemas,
    included: frozenset[str] | None,
) -> Node:
    if isinstance(node, StepNode):
        return StepNode(_step(ctx, node.step, produced, schemas, included))
    if isinstance(node, SequenceNode):
        children = tuple(_walk(ctx, c, produced, schemas, included) for c in node.children)
        return SequenceNode(node.label, children)
    start = dict(produced)
    children_out = []
    for child in node.children:
        branch = dict(start)
        children_out.append(_walk(ctx, child, branch, schemas, included))
        produced.update({k: v for k, v in branch.items() if k not in start or start[k] != v})
    return ParallelNode(tuple(children_out))


def check_storage(
    ctx: CompileContext, root: SequenceNode, included: frozenset[str] | None
) -> SequenceNode:
    """Check sources and targets of the steps that run against storage and earlier steps.

    Returns the tree with each source's ``produced_by`` filled in.
    """
    walked = _walk(ctx, root, {}, _Schemas(ctx), included)
    assert isinstance(walked, SequenceNode)
    return walked
