"""A run's lineage as a Mermaid flowchart or a rich table."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from loom.etl.history._rows import LineageRow

if TYPE_CHECKING:
    from rich.table import Table

__all__ = ["lineage_mermaid", "lineage_table"]

_UNSAFE = re.compile(r"[^A-Za-z0-9_]")


def _node_id(prefix: str, name: str) -> str:
    return f"{prefix}_{_UNSAFE.sub('_', name)}"


def _label(text: str) -> str:
    return text.replace('"', "#quot;")


def _data_node(row: LineageRow) -> tuple[str, str]:
    node = _node_id("t" if row.kind == "table" else "f", row.name)
    label = _label(row.name)
    if row.kind == "table":
        return node, f'{node}[("{label}")]'
    return node, f'{node}[/"{label}"/]'


def _rows(row: LineageRow) -> str:
    parts = []
    if row.rows is not None:
        parts.append(f"{row.rows} rows")
    if row.version is not None:
        parts.append(f"v{row.version}")
    return f'|"{", ".join(parts)}"|' if parts else ""


def lineage_mermaid(rows: Sequence[LineageRow]) -> str:
    """A Mermaid ``flowchart LR``: tables and files → steps → targets, edges with rows.

    Tables are cylinders, files parallelograms and steps rectangles; each edge carries
    the rows read or written and the Delta version, when known.
    """
    lines = ["flowchart LR"]
    declared: set[str] = set()

    def declare(node: str, text: str) -> None:
        if node not in declared:
            declared.add(node)
            lines.append(f"    {text}")

    for row in rows:
        step = _node_id("s", row.step)
        declare(step, f'{step}["{_label(row.step)}"]')
        data, text = _data_node(row)
        declare(data, text)
    for row in rows:
        step = _node_id("s", row.step)
        data, _ = _data_node(row)
        if row.direction == "in":
            lines.append(f"    {data} -->{_rows(row)} {step}")
        else:
            lines.append(f"    {step} -->{_rows(row)} {data}")
    return "\n".join(lines)


def lineage_table(rows: Sequence[LineageRow], *, title: str | None = None) -> Table:
    """The lineage as a rich table: step, sources → target, rows and versions."""
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    for name, justify in (
        ("step", "left"),
        ("direction", "left"),
        ("kind", "left"),
        ("name", "left"),
        ("rows", "right"),
        ("version", "right"),
    ):
        table.add_column(name, justify=justify, overflow="fold")  # type: ignore[arg-type]
    for row in rows:
        table.add_row(
            row.step,
            "read" if row.direction == "in" else "wrote",
            row.kind,
            row.name,
            "" if row.rows is None else f"{row.rows:,}",
            "" if row.version is None else str(row.version),
        )
    return table
