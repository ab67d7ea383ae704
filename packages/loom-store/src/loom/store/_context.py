"""``StoreContext``: what every unit of work of one store shares (engine, plans, codec)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncEngine

from loom.core.repository.abc.cursor import CursorCodec
from loom.store._engine import read_only_engine
from loom.store._mapping import Catalog
from loom.store._plan import ModelPlan
from loom.store._relations import PlanView
from loom.store.errors import StoreError

__all__ = ["StoreContext"]


class StoreContext:
    """The catalog, the statement plans of every model, the cursor codec and the engine.

    Plans (and their profile loaders) are built for every model up front, so declaration
    errors surface at start-up; the engine is attached by :meth:`attach` when the store
    starts.

    Args:
        catalog: The store's tables.
        dialect: ``"postgresql"`` or ``"sqlite"``.
        codec: Signs and checks keyset cursors.
        lean_reads: Run hot reads as asyncpg prepared statements (PostgreSQL only).
    """

    def __init__(
        self, catalog: Catalog, dialect: str, codec: CursorCodec, *, lean_reads: bool = True
    ) -> None:
        self.catalog = catalog
        self.dialect = dialect
        self.codec = codec
        self.lean_reads = lean_reads and dialect == "postgresql"
        self._engine: AsyncEngine | None = None
        self._read_only_engine: AsyncEngine | None = None
        self._plans: dict[type[Any], ModelPlan[Any]] = {}
        for model in catalog.models:
            self.plan(model)
        for plan in list(self._plans.values()):
            for profile in sorted(plan.info.profiles):
                plan.profile(profile)

    @property
    def engine(self) -> AsyncEngine:
        """The engine; raises :class:`StoreError` before the store has started."""
        if self._engine is None:
            raise StoreError("the store is not started; await store.start() first")
        return self._engine

    def engine_for(self, *, read_only: bool) -> AsyncEngine:
        """The engine, or its read-only variant (same pool), for a unit of work."""
        engine = self._read_only_engine if read_only else self._engine
        if engine is None:
            raise StoreError("the store is not started; await store.start() first")
        return engine

    def attach(self, engine: AsyncEngine | None) -> None:
        """Use ``engine`` from now on (``None`` detaches it)."""
        self._engine = engine
        self._read_only_engine = None if engine is None else read_only_engine(engine, self.dialect)

    def plan(self, model: type[Any]) -> ModelPlan[Any]:
        """The plan of ``model`` (a ``CompilationError`` when it is not a store model)."""
        plan = self._plans.get(model)
        if plan is None:
            table = self.catalog.table(model)
            plan = ModelPlan(model, table, self.dialect, self.view, self.secondary)
            self._plans[model] = plan
        return plan

    def view(self, model: type[Any]) -> PlanView:
        """The plan view of ``model``, for relation loaders."""
        return self.plan(model).view()

    def secondary(self, name: str) -> Table:
        """The table called ``name`` (an association table)."""
        return self.catalog.metadata.tables[name]
