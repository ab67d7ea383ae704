"""Backend-neutral predicates over columns, literals and ``params`` references.

A predicate is a small immutable tree: ``col("amount") > 0`` builds
``Compare(">", Col("amount"), Lit(0))``. Backends translate the tree (to a Polars
expression, to a Delta predicate, to Spark); the compiler walks it to check columns and
params. Builders never raise: a wrong literal is reported by the compiler together with
every other problem of the pipeline.
"""

from __future__ import annotations

import datetime as dt
import decimal
import enum
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Literal, NoReturn

__all__ = [
    "And",
    "Col",
    "Compare",
    "CompareOp",
    "Expr",
    "IsIn",
    "IsNull",
    "Lit",
    "Not",
    "Or",
    "ParamRef",
    "ParamsProxy",
    "as_expr",
    "bind_expr",
    "col",
    "columns_of",
    "is_literal_value",
    "iter_nodes",
    "params",
    "params_of",
    "render_expr",
]

CompareOp = Literal["==", "!=", "<", "<=", ">", ">="]

_SCALARS: tuple[type, ...] = (
    type(None),
    bool,
    int,
    float,
    str,
    decimal.Decimal,
    dt.date,
    dt.time,
    enum.Enum,
)


def is_literal_value(value: object) -> bool:
    """True when ``value`` can be a predicate literal (None, bool, number, str, date/time)."""
    return isinstance(value, _SCALARS)


class Expr:
    """Base of every predicate node; combine with ``&``, ``|``, ``~`` and comparisons."""

    __slots__ = ()

    def _compare(self, op: CompareOp, other: object) -> Compare:
        return Compare(op, self, as_expr(other))

    def __eq__(self, other: object) -> Compare:  # type: ignore[override]
        return self._compare("==", other)

    def __ne__(self, other: object) -> Compare:  # type: ignore[override]
        return self._compare("!=", other)

    def __lt__(self, other: object) -> Compare:
        return self._compare("<", other)

    def __le__(self, other: object) -> Compare:
        return self._compare("<=", other)

    def __gt__(self, other: object) -> Compare:
        return self._compare(">", other)

    def __ge__(self, other: object) -> Compare:
        return self._compare(">=", other)

    def __and__(self, other: object) -> And:
        return And(self, as_expr(other))

    def __rand__(self, other: object) -> And:
        return And(as_expr(other), self)

    def __or__(self, other: object) -> Or:
        return Or(self, as_expr(other))

    def __ror__(self, other: object) -> Or:
        return Or(as_expr(other), self)

    def __invert__(self) -> Not:
        return Not(self)

    def isin(self, values: Iterable[object] | ParamRef) -> IsIn:
        """True where the value is one of ``values`` (literals, or a ``params`` reference)."""
        if isinstance(values, ParamRef):
            return IsIn(self, values)
        if isinstance(values, str | bytes) or not isinstance(values, Iterable):
            return IsIn(self, (as_expr(values),))
        return IsIn(self, tuple(as_expr(v) for v in values))

    def is_null(self) -> IsNull:
        """True where the value is null."""
        return IsNull(self)

    def is_not_null(self) -> Not:
        """True where the value is not null."""
        return Not(IsNull(self))

    def __bool__(self) -> NoReturn:
        raise TypeError(
            f"the predicate {render_expr(self)} has no truth value: combine predicates with "
            "& | ~ (not and/or/not) and wrap each comparison in parentheses"
        )

    __hash__ = object.__hash__

    def __repr__(self) -> str:
        return render_expr(self)


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class Col(Expr):
    """A column of the data, by name."""

    name: str


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class Lit(Expr):
    """A literal value."""

    value: Any


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class ParamRef(Expr):
    """A reference to a run parameter: ``params.run_date`` or ``params.run_date.year``.

    Attribute access extends the path, so ``params.run_date.month`` reads the ``month``
    of the ``run_date`` field when the run binds its params.
    """

    path: tuple[str, ...]

    def __getattr__(self, name: str) -> ParamRef:
        if name.startswith("_"):
            raise AttributeError(name)
        return ParamRef((*self.path, name))

    @property
    def dotted(self) -> str:
        """The reference as written: ``params.run_date.year``."""
        return ".".join(("params", *self.path))


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class Compare(Expr):
    """``left <op> right``."""

    op: CompareOp
    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class And(Expr):
    """``left & right``."""

    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class Or(Expr):
    """``left | right``."""

    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class Not(Expr):
    """``~operand``."""

    operand: Expr


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class IsNull(Expr):
    """``operand.is_null()``."""

    operand: Expr


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class IsIn(Expr):
    """``operand.isin(values)``: literal items, or a params reference to a sequence."""

    operand: Expr
    values: tuple[Expr, ...] | ParamRef


class ParamsProxy:
    """The ``params`` object of the DSL: ``params.run_date`` is a :class:`ParamRef`.

    References are checked against the pipeline's params type at compile time and
    replaced by the run's values when the run starts.
    """

    __slots__ = ()

    def __getattr__(self, name: str) -> ParamRef:
        if name.startswith("_"):
            raise AttributeError(name)
        return ParamRef((name,))

    def __repr__(self) -> str:
        return "params"


params = ParamsProxy()
"""References to the run's params: ``params.run_date``, ``params.run_date.year``."""


def col(name: str) -> Col:
    """A column, for source ``where`` predicates and target ``replace_where`` predicates.

    Example:
        >>> from loom.etl import col, params
        >>> (col("amount") > 0) & (col("run_date") == params.run_date)
        (col('amount') > 0) & (col('run_date') == params.run_date)

    """
    return Col(name)


def as_expr(value: object) -> Expr:
    """Return ``value`` when it is an :class:`Expr`, else wrap it in a :class:`Lit`."""
    return value if isinstance(value, Expr) else Lit(value)


def iter_nodes(expr: Expr) -> Iterator[Expr]:
    """Yield ``expr`` and every node below it, depth first."""
    yield expr
    match expr:
        case Compare(_, left, right) | And(left, right) | Or(left, right):
            yield from iter_nodes(left)
            yield from iter_nodes(right)
        case Not(operand) | IsNull(operand):
            yield from iter_nodes(operand)
        case IsIn(operand, values):
            yield from iter_nodes(operand)
            if isinstance(values, ParamRef):
                yield values
            else:
                for item in values:
                    yield from iter_nodes(item)
        case _:
            pass


def columns_of(expr: Expr) -> tuple[str, ...]:
    """The column names ``expr`` reads, in order of first appearance."""
    names = (node.name for node in iter_nodes(expr) if isinstance(node, Col))
    return tuple(dict.fromkeys(names))


def params_of(expr: Expr) -> tuple[ParamRef, ...]:
    """Every ``params`` reference in ``expr``."""
    return tuple(node for node in iter_nodes(expr) if isinstance(node, ParamRef))


def bind_expr(expr: Expr, resolve: Callable[[ParamRef], Any]) -> Expr:
    """Return ``expr`` with every :class:`ParamRef` replaced by ``Lit(resolve(ref))``.

    A reference used in ``isin`` must resolve to a sequence; its items become literals.
    """
    match expr:
        case ParamRef():
            return Lit(resolve(expr))
        case Compare(op, left, right):
            return Compare(op, bind_expr(left, resolve), bind_expr(right, resolve))
        case And(left, right):
            return And(bind_expr(left, resolve), bind_expr(right, resolve))
        case Or(left, right):
            return Or(bind_expr(left, resolve), bind_expr(right, resolve))
        case Not(operand):
            return Not(bind_expr(operand, resolve))
        case IsNull(operand):
            return IsNull(bind_expr(operand, resolve))
        case IsIn(operand, values):
            if isinstance(values, ParamRef):
                value = resolve(values)
                if isinstance(value, str | bytes) or not isinstance(value, Iterable):
                    raise TypeError(
                        f"{values.dotted} is used in isin() but is a {type(value).__name__}, "
                        "not a sequence"
                    )
                items: tuple[Expr, ...] = tuple(Lit(v) for v in value)
            else:
                items = tuple(bind_expr(v, resolve) for v in values)
            return IsIn(bind_expr(operand, resolve), items)
        case _:
            return expr


def _render_child(expr: Expr) -> str:
    text = render_expr(expr)
    return f"({text})" if isinstance(expr, Compare | And | Or) else text


def render_expr(expr: Expr) -> str:
    """Render ``expr`` the way it is written in the DSL."""
    match expr:
        case Col(name):
            return f"col({name!r})"
        case Lit(value):
            return repr(value.value) if isinstance(value, enum.Enum) else repr(value)
        case ParamRef():
            return expr.dotted
        case Compare(op, left, right):
            return f"{_render_child(left)} {op} {_render_child(right)}"
        case And(left, right):
            return f"{_render_child(left)} & {_render_child(right)}"
        case Or(left, right):
            return f"{_render_child(left)} | {_render_child(right)}"
        case Not(IsNull(operand)):
            return f"{_render_child(operand)}.is_not_null()"
        case Not(operand):
            return f"~{_render_child(operand)}"
        case IsNull(operand):
            return f"{_render_child(operand)}.is_null()"
        case IsIn(operand, values):
            shown = (
                values.dotted
                if isinstance(values, ParamRef)
                else "[" + ", ".join(render_expr(v) for v in values) + "]"
            )
            return f"{_render_child(operand)}.isin({shown})"
        case _:
            return type(expr).__name__
