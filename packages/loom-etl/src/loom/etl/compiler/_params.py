"""Checking ``params.x`` references against the params type, and literals in predicates."""

from __future__ import annotations

import difflib
import types
import typing
from typing import Any, Union

import msgspec

from loom.etl.compiler._context import CompileContext
from loom.etl.dsl._expr import Expr, IsIn, Lit, ParamRef, is_literal_value, iter_nodes
from loom.etl.errors import DeclarationError, UnknownParamError

__all__ = ["check_expr", "check_param", "param_problem"]


def _hints(struct: type[msgspec.Struct]) -> dict[str, Any]:
    try:
        return typing.get_type_hints(struct)
    except (NameError, TypeError):
        return {}


def _single(tp: Any) -> Any:
    """``X`` for ``X | None``; the type itself otherwise; ``None`` when it is ambiguous."""
    if typing.get_origin(tp) in (Union, types.UnionType):
        members = [a for a in typing.get_args(tp) if a is not type(None)]
        return members[0] if len(members) == 1 else None
    return tp


def _suggest(name: str, options: list[str]) -> str:
    close = difflib.get_close_matches(name, options, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def param_problem(ref: ParamRef, params_type: type) -> str | None:
    """Why ``ref`` does not resolve on ``params_type``, or ``None`` when it does."""
    current: Any = params_type
    walked = "params"
    for name in ref.path:
        owner = _single(current)
        if isinstance(owner, type) and issubclass(owner, msgspec.Struct):
            fields = [f.name for f in msgspec.structs.fields(owner)]
            if name not in fields:
                known = ", ".join(fields) if fields else "none"
                return (
                    f"{walked}.{name}: {owner.__name__} has no field {name!r}"
                    f"{_suggest(name, fields)}; its fields: {known}"
                )
            current = _hints(owner).get(name, Any)
        elif isinstance(owner, type):
            if not hasattr(owner, name):
                return f"{walked}.{name}: {owner.__name__} has no attribute {name!r}"
            return None
        else:
            return None
        walked = f"{walked}.{name}"
    return None


def check_param(
    ctx: CompileContext, ref: ParamRef, *, step: str | None, attribute: str | None
) -> None:
    """Record an :class:`UnknownParamError` when ``ref`` does not resolve."""
    problem = param_problem(ref, ctx.params_type)
    if problem is not None:
        ctx.add(
            UnknownParamError,
            problem,
            step=step,
            attribute=attribute,
            fix=f"reference a field of {ctx.params_type.__name__}, or add the field to it",
        )


def check_expr(
    ctx: CompileContext, expr: object, *, step: str, attribute: str, what: str
) -> Expr | None:
    """Check a predicate: an :class:`Expr` of supported literals and known params.

    Returns the predicate when it is an :class:`Expr`, else records an error and returns
    ``None``.
    """
    if not isinstance(expr, Expr):
        ctx.add(
            DeclarationError,
            f"{what} takes a loom predicate, got {type(expr).__module__}.{type(expr).__name__}",
            step=step,
            attribute=attribute,
            fix="build it with loom.etl.col and params, e.g. col('amount') > 0 "
            "(Polars expressions belong in execute)",
        )
        return None
    for node in iter_nodes(expr):
        if isinstance(node, ParamRef):
            check_param(ctx, node, step=step, attribute=attribute)
        elif isinstance(node, Lit) and not is_literal_value(node.value):
            ctx.add(
                DeclarationError,
                f"{what}: {node.value!r} ({type(node.value).__name__}) is not a supported literal",
                step=step,
                attribute=attribute,
                fix="use None, bool, int, float, str, Decimal, date, datetime, time or an Enum; "
                "lists go in .isin([...])",
            )
        elif isinstance(node, IsIn) and not isinstance(node.values, ParamRef):
            if not node.values:
                ctx.add(
                    DeclarationError,
                    f"{what}: isin() with no values matches nothing",
                    step=step,
                    attribute=attribute,
                    fix="give isin() at least one value",
                )
            if any(not isinstance(v, Lit | ParamRef) for v in node.values):
                ctx.add(
                    DeclarationError,
                    f"{what}: isin() takes literal values or params references",
                    step=step,
                    attribute=attribute,
                    fix="list literal values, e.g. col('region').isin(['eu', 'us'])",
                )
    return expr
