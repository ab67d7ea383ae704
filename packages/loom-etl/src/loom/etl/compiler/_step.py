"""Compiling one step class: sources, target, and ``execute`` (or ``sql``) against them."""

from __future__ import annotations

import inspect

from loom.etl.compiler._context import CompileContext
from loom.etl.compiler._params import check_param
from loom.etl.compiler._plan import SourcePlan, StepPlan
from loom.etl.compiler._sources import compile_source, compile_target
from loom.etl.dsl._declarations import StepSQL, declared_params_type, sources_of, targets_of
from loom.etl.dsl._sql_template import SqlTemplate, parse_sql
from loom.etl.errors import DeclarationError, StepSignatureError

__all__ = ["check_params_type", "compile_step"]

_KW = inspect.Parameter.KEYWORD_ONLY
_POSITIONAL = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)


def check_params_type(ctx: CompileContext, cls: type, *, step: str | None = None) -> None:
    """Record an error when ``cls`` is parametrized with params the pipeline does not give."""
    declared = declared_params_type(cls)
    if declared is None or issubclass(ctx.params_type, declared):
        return
    ctx.add(
        DeclarationError,
        f"{cls.__name__} expects params {declared.__name__}, but the pipeline runs with "
        f"{ctx.params_type.__name__}",
        step=step,
        fix=f"make {ctx.params_type.__name__} a subclass of {declared.__name__}, or declare "
        f"{cls.__name__} with [{ctx.params_type.__name__}]",
    )


def _example(sources: list[str]) -> str:
    kws = ", ".join(f"{n}: pl.LazyFrame" for n in sources)
    return f"def execute(self, params, *, {kws}) -> pl.LazyFrame" if kws else ""


def _check_execute(ctx: CompileContext, cls: type, name: str, sources: list[str]) -> None:
    execute = getattr(cls, "execute", None)
    if execute is None or not callable(execute):
        ctx.add(
            StepSignatureError,
            "the step has no execute method",
            step=name,
            attribute="execute",
            fix=f"define {_example(sources) or 'def execute(self, params) -> pl.LazyFrame'}",
        )
        return
    if inspect.iscoroutinefunction(execute):
        ctx.add(
            StepSignatureError,
            "execute is async; steps run synchronously",
            step=name,
            attribute="execute",
            fix="use def, not async def",
        )
    try:
        parameters = list(inspect.signature(execute).parameters.values())[1:]
    except (TypeError, ValueError):
        return
    positional = [p for p in parameters if p.kind in _POSITIONAL]
    keywords = [p.name for p in parameters if p.kind is _KW]
    fix_all = _example(sources) or "def execute(self, params) -> pl.LazyFrame"
    if not positional:
        ctx.add(
            StepSignatureError,
            "execute must take the run's params as its first argument",
            step=name,
            attribute="execute",
            fix=f"write {fix_all}",
        )
    for extra in positional[1:]:
        if extra.name in sources:
            ctx.add(
                StepSignatureError,
                f"source parameter {extra.name!r} is positional; sources are passed by keyword",
                step=name,
                attribute="execute",
                fix=f"put '*' before it: {fix_all}",
            )
            keywords.append(extra.name)
        else:
            ctx.add(
                StepSignatureError,
                f"execute has an extra positional parameter {extra.name!r}",
                step=name,
                attribute="execute",
                fix=f"remove it: {fix_all}",
            )
    for p in parameters:
        if p.kind is inspect.Parameter.VAR_POSITIONAL:
            ctx.add(
                StepSignatureError,
                f"execute takes *{p.name}",
                step=name,
                attribute="execute",
                fix=f"remove it: {fix_all}",
            )
        elif p.kind is inspect.Parameter.VAR_KEYWORD:
            ctx.add(
                StepSignatureError,
                f"execute takes **{p.name}, which hides which sources it uses",
                step=name,
                attribute="execute",
                fix=f"declare one keyword-only parameter per source: {fix_all}",
            )
    for source in sources:
        if source not in keywords:
            ctx.add(
                StepSignatureError,
                f"execute has no keyword-only parameter for source {source!r}",
                step=name,
                attribute=source,
                fix=f"add it: {fix_all}",
            )
    for keyword in keywords:
        if keyword not in sources:
            known = ", ".join(sources) or "none"
            ctx.add(
                StepSignatureError,
                f"execute parameter {keyword!r} matches no source (sources: {known})",
                step=name,
                attribute="execute",
                fix=f"declare {keyword} = FromTable(...) / FromFile(...) on the step, or rename "
                "or remove the parameter",
            )


def _check_sql(ctx: CompileContext, cls: type, name: str) -> SqlTemplate | None:
    for klass in cls.__mro__:
        if klass is StepSQL:
            break
        if "execute" in vars(klass):
            ctx.add(
                StepSignatureError,
                "a StepSQL step defines execute; its query is the sql attribute",
                step=name,
                attribute="execute",
                fix="remove execute, or derive from ETLStep instead",
            )
            break
    sql = getattr(cls, "sql", None)
    if not isinstance(sql, str) or not sql.strip():
        ctx.add(
            StepSignatureError,
            "a StepSQL step needs a non-empty sql string",
            step=name,
            attribute="sql",
            fix='set sql = "SELECT ... FROM <source attribute>"',
        )
        return None
    template = parse_sql(sql)
    for ref in template.params:
        check_param(ctx, ref, step=name, attribute="sql")
    return template


def _check_constructor(ctx: CompileContext, cls: type, name: str) -> None:
    if "__init__" not in {k for c in cls.__mro__[:-1] for k in vars(c)}:
        return
    try:
        parameters = list(inspect.signature(cls).parameters.values())
    except (TypeError, ValueError):
        return
    required = [
        p.name
        for p in parameters
        if p.default is inspect.Parameter.empty
        and p.kind not in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
    ]
    if required:
        ctx.add(
            StepSignatureError,
            f"__init__ requires {', '.join(required)}; the runner creates steps without arguments",
            step=name,
            attribute="__init__",
            fix="give those parameters defaults, or read what they carry from params",
        )


def compile_step(ctx: CompileContext, cls: type, *, process: str | None) -> StepPlan | None:
    """Compile step class ``cls``; ``None`` when it is too broken to plan (errors recorded)."""
    name = cls.__name__
    check_params_type(ctx, cls, step=name)
    _check_constructor(ctx, cls, name)
    declared_sources = sources_of(cls)
    sources: list[SourcePlan] = []
    for attribute, source in declared_sources.items():
        planned = compile_source(ctx, name, attribute, source)
        if planned is not None:
            sources.append(planned)
    targets = targets_of(cls)
    target = None
    if not targets:
        ctx.add(
            DeclarationError,
            "the step declares no target",
            step=name,
            fix="add target = IntoTable('schema.table').replace() (or another write mode), "
            "or IntoFile(...)",
        )
    elif len(targets) > 1:
        ctx.add(
            DeclarationError,
            f"the step declares {len(targets)} targets ({', '.join(targets)}); a step writes one",
            step=name,
            fix="split it into one step per target",
        )
    else:
        ((attribute, declared),) = targets.items()
        target = compile_target(ctx, name, attribute, declared)
    sql: SqlTemplate | None = None
    if issubclass(cls, StepSQL):
        sql = _check_sql(ctx, cls, name)
    else:
        _check_execute(ctx, cls, name, list(declared_sources))
    if target is None:
        return None
    index = ctx.next_index
    ctx.next_index += 1
    return StepPlan(name, cls, process, index, tuple(sources), target, sql)
