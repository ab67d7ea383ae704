"""The immutable execution plan a pipeline compiles into."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

from loom.etl.backend._protocol import Location
from loom.etl.dsl._declarations import ETLParams
from loom.etl.dsl._expr import Expr
from loom.etl.dsl._sources import Format, Source
from loom.etl.dsl._sql_template import SqlTemplate
from loom.etl.dsl._targets import SchemaMode, Target, WriteMode

__all__ = [
    "ExecutionPlan",
    "Node",
    "ParallelNode",
    "SequenceNode",
    "SourcePlan",
    "StepNode",
    "StepPlan",
    "TargetPlan",
]


@dataclass(frozen=True, slots=True)
class SourcePlan:
    """A compiled source: what to read and where.

    Attributes:
        attribute: Step attribute and ``execute`` keyword.
        declaration: The source as declared.
        kind: ``"table"`` or ``"file"``.
        name: Table name, or the file path / ``alias <name>``.
        location: Resolved location.
        format: ``Format.DELTA`` for tables.
        columns: Projection (``None``: every column).
        predicate: Row filter, may hold ``params`` references.
        dtypes: Declared column types.
        produced_by: The earlier step of this run that writes the table, if any.
        cursor: The cursor column of an incremental source (``None``: a full read).

    """

    attribute: str
    declaration: Source
    kind: Literal["table", "file"]
    name: str
    location: Location
    format: Format
    columns: tuple[str, ...] | None
    predicate: Expr | None
    dtypes: tuple[tuple[str, str], ...]
    produced_by: str | None = None
    cursor: str | None = None


@dataclass(frozen=True, slots=True)
class TargetPlan:
    """A compiled target: where and how to write."""

    attribute: str
    declaration: Target
    kind: Literal["table", "file"]
    name: str
    location: Location
    format: Format
    mode: WriteMode
    schema_mode: SchemaMode
    partition_values: tuple[tuple[str, Any], ...] = ()
    partition_columns: tuple[str, ...] = ()
    partition_by: tuple[str, ...] = ()
    predicate: Expr | None = None
    keys: tuple[str, ...] = ()
    update_columns: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class StepPlan:
    """A compiled step.

    Attributes:
        name: Step name (its class name).
        step: The step class.
        process: Name of the innermost process holding it (``None`` if listed directly).
        index: 1-based position in execution order.
        sources: Sources, in declaration order.
        target: The target.
        sql: The parsed query of a ``StepSQL``, else ``None``.

    """

    name: str
    step: type
    process: str | None
    index: int
    sources: tuple[SourcePlan, ...]
    target: TargetPlan
    sql: SqlTemplate | None = None


@dataclass(frozen=True, slots=True)
class StepNode:
    """One step in the execution tree."""

    step: StepPlan


@dataclass(frozen=True, slots=True)
class SequenceNode:
    """Children run one after the other; ``label`` names the process, if any."""

    label: str | None
    children: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class ParallelNode:
    """Children run concurrently."""

    children: tuple[Node, ...]


Node = StepNode | SequenceNode | ParallelNode


def iter_steps(node: Node) -> Iterator[StepPlan]:
    """Every step under ``node``, in execution order."""
    if isinstance(node, StepNode):
        yield node.step
    else:
        for child in node.children:
            yield from iter_steps(child)


@dataclass(frozen=True, slots=True)
class ExecutionPlan:
    """What a run will do, decided before anything is read or written.

    Attributes:
        pipeline: The pipeline class.
        name: Pipeline name (its class name).
        params_type: The params type the pipeline runs with.
        root: The execution tree: processes in order, parallel groups as ``ParallelNode``.
        steps: Every step that runs, in execution order (``include`` applied).
        params: The validated params, when given to ``validate``/``run``.
        excluded: Steps left out by ``include``.

    """

    pipeline: type
    name: str
    params_type: type[ETLParams]
    root: SequenceNode
    steps: tuple[StepPlan, ...]
    params: ETLParams | None = None
    excluded: tuple[str, ...] = ()

    def step(self, name: str) -> StepPlan:
        """The step called ``name``.

        Raises:
            KeyError: no step of the plan has that name.
        """
        for step in self.steps:
            if step.name == name:
                return step
        raise KeyError(name)

    def render(self) -> str:
        """The plan as dry-run text: steps, order, sources → targets, write modes."""
        from loom.etl.compiler._render import render_plan

        return render_plan(self)

    def __str__(self) -> str:
        return self.render()
