"""Binding a compiled step to a run's params: the specs a backend reads and writes with."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from loom.etl.backend._protocol import BoundSql, ReadSpec, WriteSpec
from loom.etl.compiler._param_values import resolve_param
from loom.etl.compiler._plan import StepPlan
from loom.etl.dsl._declarations import ETLParams
from loom.etl.dsl._expr import Expr, Lit, ParamRef, bind_expr
from loom.etl.errors import ParamsValidationError

__all__ = ["BoundStep", "bind_step"]


@dataclass(frozen=True, slots=True)
class BoundStep:
    """A step ready to run: its sources, its target and its query, params bound."""

    reads: tuple[ReadSpec, ...]
    write: WriteSpec
    sql: BoundSql | None


class _Binder:
    def __init__(self, params: ETLParams, pipeline: str, step: str) -> None:
        self.params = params
        self.pipeline = pipeline
        self.step = step
        self.attribute = ""

    def value(self, ref: ParamRef) -> Any:
        try:
            return resolve_param(self.params, ref)
        except AttributeError as exc:
            raise ParamsValidationError(
                f"{self.attribute}: cannot read {ref.dotted}: {exc}",
                pipeline=self.pipeline,
                fix="give the params a value for it",
            ).located(step=self.step) from None

    def expr(self, expr: Expr | None) -> Expr | None:
        if expr is None:
            return None
        try:
            return bind_expr(expr, self.value)
        except TypeError as exc:
            raise ParamsValidationError(
                f"{self.attribute}: {exc}", pipeline=self.pipeline, fix="pass a list"
            ).located(step=self.step) from None


def bind_step(step: StepPlan, params: ETLParams, *, pipeline: str) -> BoundStep:
    """Replace every ``params`` reference of ``step`` by its value in ``params``.

    Raises:
        ParamsValidationError: a reference cannot be read (e.g. it goes through ``None``).
    """
    binder = _Binder(params, pipeline, step.name)
    reads = []
    for source in step.sources:
        binder.attribute = source.attribute
        reads.append(
            ReadSpec(
                attribute=source.attribute,
                kind=source.kind,
                name=source.name,
                location=source.location,
                format=source.format,
                columns=source.columns,
                predicate=binder.expr(source.predicate),
                dtypes=source.dtypes,
                options=getattr(source.declaration, "options", None) or {},
                cursor=source.cursor,
            )
        )
    target = step.target
    binder.attribute = target.attribute
    write = WriteSpec(
        attribute=target.attribute,
        kind=target.kind,
        name=target.name,
        location=target.location,
        format=target.format,
        mode=target.mode,
        schema_mode=target.schema_mode,
        partition_values=tuple(
            (c, binder.value(v) if isinstance(v, ParamRef) else v)
            for c, v in target.partition_values
        ),
        partition_columns=target.partition_columns,
        partition_by=target.partition_by,
        predicate=binder.expr(target.predicate),
        keys=target.keys,
        update_columns=target.update_columns,
    )
    sql = None
    if step.sql is not None:
        binder.attribute = "sql"
        parts = tuple(
            Lit(binder.value(p)) if isinstance(p, ParamRef) else p for p in step.sql.parts
        )
        sql = BoundSql(parts, step.sql.text)
    return BoundStep(tuple(reads), write, sql)
