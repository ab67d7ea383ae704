"""``ReadStatement``: a SELECT built once, with named parameters, that the lean path may run."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select

__all__ = ["ReadStatement"]


class ReadStatement:
    """A ``SELECT`` built once per model and shape, run many times with new parameters.

    The repository hands these (and only these) to the lean read path, which compiles
    each one once for asyncpg and keeps the compiled form in :attr:`lean`; any other
    statement runs through SQLAlchemy. ``statement`` takes its values from named bound
    parameters, so SQLAlchemy can run it too.

    Args:
        statement: The ``SELECT``: a model's columns in :attr:`RowCodec.names` order,
            optionally followed by extra columns (gets, pages), or the rows a profile
            loader groups (relations, counts).
    """

    __slots__ = ("lean", "statement")

    def __init__(self, statement: Select[Any]) -> None:
        self.statement = statement
        self.lean: Any = None
