"""``loom etl status``, ``loom etl history`` and ``loom etl lineage``: reading the run history."""

from __future__ import annotations

import json
import sys

import click
from rich.table import Table
from rich.text import Text

from loom.etl.cli._common import BadInput, config_options, load_history, out_console
from loom.etl.history._lineage import lineage_mermaid, lineage_table
from loom.etl.history._rows import RunRow
from loom.etl.history._store import RunHistory
from loom.etl.runner._resume import is_alive
from loom.etl.runner._summary import status_text

__all__ = ["history", "lineage", "status"]


def _status(run: RunRow) -> str:
    if run.status == "running" and not is_alive(run):
        return "interrupted"
    return run.status


def _when(run: RunRow) -> str:
    return run.started_at.strftime("%Y-%m-%d %H:%M:%S")


def _duration(seconds: float | None) -> str:
    return "" if seconds is None else f"{seconds:.2f}s"


def _count(value: int | None) -> str:
    return "" if value is None else f"{value:,}"


def _run(history: RunHistory, run_id: str) -> RunRow:
    run = history.run(run_id)
    if run is None:
        raise BadInput(f"run {run_id} is not in the run history {history.url}")
    return run


@click.command(name="status")
@click.argument("run_id")
@config_options
def status(run_id: str, configs: tuple[str, ...], overrides: tuple[str, ...]) -> None:
    """Show a run: its status, params, attempts and each step's latest attempt."""
    history = load_history(configs, overrides)
    run = _run(history, run_id)
    console = out_console()
    state = _status(run)
    console.print(Text.assemble(f"run {run.run_id} of {run.pipeline}: ", status_text(state)))
    console.print(f"  params    {json.dumps(run.params, sort_keys=True)}", soft_wrap=True)
    console.print(f"  attempts  {run.attempt}")
    console.print(f"  started   {_when(run)} UTC on {run.host} (pid {run.pid})")
    if run.finished_at is not None:
        console.print(
            f"  finished  {run.finished_at:%Y-%m-%d %H:%M:%S} UTC ({run.duration_s:.2f}s)"
        )
    if run.include is not None:
        console.print(f"  steps     {', '.join(run.include)}")
    table = Table(title="steps (latest attempt of each)", title_justify="left")
    for name in ("step", "attempt", "status", "read", "written", "time", "version", "target"):
        table.add_column(name, justify="right" if name in ("read", "written", "time") else "left")
    for row in history.latest_steps(run_id):
        table.add_row(
            row.step,
            str(row.attempt),
            status_text(row.status),
            _count(row.rows_read),
            _count(row.rows_written),
            _duration(row.duration_s),
            "" if row.version is None else str(row.version),
            row.target or "",
        )
    console.print(table)
    for row in history.latest_steps(run_id):
        if row.error:
            console.print(
                Text.assemble((f"{row.step}: ", "bold red"), f"[{row.error_code}] {row.error}"),
                soft_wrap=True,
            )


@click.command(name="history")
@click.argument("pipeline")
@config_options
@click.option("--limit", "-n", default=20, show_default=True, type=click.IntRange(1))
def history(
    pipeline: str, configs: tuple[str, ...], overrides: tuple[str, ...], limit: int
) -> None:
    """List the latest runs of PIPELINE (its class name, or MODULE:Pipeline)."""
    store = load_history(configs, overrides)
    name = pipeline.rpartition(":")[2].rpartition(".")[2]
    runs = store.runs(name, limit=limit)
    if not runs:
        out_console().print(f"no runs of {name} in {store.url}")
        return
    table = Table(title=f"runs of {name} (newest first)", title_justify="left")
    for column in ("run id", "status", "started (UTC)", "time", "attempts", "steps", "params"):
        table.add_column(column, no_wrap=column != "params", overflow="fold")
    for run in runs:
        steps = store.latest_steps(run.run_id)
        done = sum(1 for s in steps if s.status in ("succeeded", "reused"))
        table.add_row(
            run.run_id,
            status_text(_status(run)),
            _when(run),
            _duration(run.duration_s),
            str(run.attempt),
            f"{done}/{len(steps)}",
            json.dumps(run.params, sort_keys=True),
        )
    out_console().print(table)


@click.command(name="lineage")
@click.argument("run_id")
@config_options
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "mermaid"]),
    default="table",
    show_default=True,
    help="A table, or a Mermaid flowchart to paste into Markdown.",
)
def lineage(run_id: str, configs: tuple[str, ...], overrides: tuple[str, ...], fmt: str) -> None:
    """Show what a run's steps read and wrote: tables and files, rows and versions."""
    store = load_history(configs, overrides)
    run = _run(store, run_id)
    rows = store.lineage(run_id)
    if fmt == "mermaid":
        sys.stdout.write(lineage_mermaid(rows) + "\n")
        return
    out_console().print(lineage_table(rows, title=f"lineage of run {run_id} of {run.pipeline}"))
