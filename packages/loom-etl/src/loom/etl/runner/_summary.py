"""A run's steps as a rich table: the summary printed at the end of a run."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text

from loom.etl.runner._records import RunResult, StepRecord, StepStatus

__all__ = ["STATUS_STYLE", "run_table", "status_text"]

STATUS_STYLE = {
    StepStatus.SUCCEEDED: "green",
    StepStatus.FAILED: "bold red",
    StepStatus.SKIPPED: "yellow",
    StepStatus.REUSED: "cyan",
}


def status_text(status: StepStatus | str) -> Text:
    """A step or run status, coloured."""
    try:
        style = STATUS_STYLE[StepStatus(status)]
    except ValueError:
        style = "green" if status == "succeeded" else "red" if status == "failed" else ""
    return Text(str(status), style=style)


def _count(value: int | None) -> str:
    return "" if value is None else f"{value:,}"


def _row(record: StepRecord) -> tuple[str | Text, ...]:
    return (
        record.name,
        status_text(record.status),
        _count(record.rows_read),
        _count(record.rows_written),
        f"{record.duration_s:.2f}s" if record.status is not StepStatus.SKIPPED else "",
        "" if record.version is None else str(record.version),
        record.target,
    )


def run_table(result: RunResult) -> Table:
    """The steps of ``result`` as a rich table titled with the run's id, status and time.

    Errors of failed steps are listed under the table.
    """
    attempt = f", attempt {result.attempt}" if result.attempt > 1 else ""
    title = Text.assemble(
        f"run {result.run_id} of {result.pipeline}: ",
        status_text(result.status.value),
        f" in {result.duration_s:.2f}s{attempt}",
    )
    errors = Text()
    for record in result.steps:
        if record.error:
            errors.append(f"{record.name}: ", style="bold red")
            errors.append(f"[{record.error_code}] {record.error.splitlines()[0]}\n")
    errors.rstrip()
    table = Table(
        title=title,
        title_justify="left",
        caption=errors if errors.plain else None,
        caption_justify="left",
    )
    table.add_column("step", no_wrap=True)
    table.add_column("status", no_wrap=True)
    table.add_column("read", justify="right", no_wrap=True)
    table.add_column("written", justify="right", no_wrap=True)
    table.add_column("time", justify="right", no_wrap=True)
    table.add_column("version", justify="right", no_wrap=True)
    table.add_column("target", overflow="fold")
    for record in result.steps:
        table.add_row(*_row(record))
    return table
