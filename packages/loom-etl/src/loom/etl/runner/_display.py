"""The terminal display of a run: a rich progress bar while it runs, a summary table after.

In a terminal the progress goes to stderr and shows the steps running now; in Jupyter
(rich detects it) only the summary table is shown, rendered as HTML by rich.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from loom.etl.compiler._plan import ExecutionPlan, StepPlan
from loom.etl.runner._records import RunResult, StepRecord, StepStatus

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress, TaskID

__all__ = ["RichDisplay", "auto_display"]


class RichDisplay:
    """A :class:`~loom.etl.runner.RunListener` drawing progress and the final summary.

    Args:
        console: Where to draw (stderr by default).
        progress: Draw a live progress bar while the run goes on.
        summary: Print the table of steps when the run ends.

    """

    def __init__(
        self, console: Console | None = None, *, progress: bool = True, summary: bool = True
    ) -> None:
        if console is None:
            from rich.console import Console

            console = Console(stderr=True)
        self.console = console
        self.show_progress = progress
        self.show_summary = summary
        self._lock = threading.Lock()
        self._progress: Progress | None = None
        self._overall: TaskID | None = None
        self._tasks: dict[str, TaskID] = {}

    def run_started(self, plan: ExecutionPlan, run_id: str) -> None:
        """Start the progress display."""
        if not self.show_progress:
            return
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            SpinnerColumn,
            TextColumn,
            TimeElapsedColumn,
        )

        self._progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=self.console,
            transient=True,
        )
        self._overall = self._progress.add_task(
            f"{plan.name} [dim]{run_id}[/dim]", total=len(plan.steps)
        )
        self._progress.start()

    def step_started(self, step: StepPlan) -> None:
        """Show the step as running."""
        with self._lock:
            if self._progress is not None:
                self._tasks[step.name] = self._progress.add_task(
                    f"  {step.name} -> {step.target.name}", total=None
                )

    def step_finished(self, record: StepRecord) -> None:
        """Tick the overall bar and print one line for the step."""
        with self._lock:
            if self._progress is None:
                return
            task = self._tasks.pop(record.name, None)
            if task is not None:
                self._progress.remove_task(task)
            if self._overall is not None:
                self._progress.advance(self._overall)
            line = _line(record)
            self._progress.console.print(line)

    def run_finished(self, result: RunResult) -> None:
        """Stop the progress display and print the summary table."""
        with self._lock:
            if self._progress is not None:
                self._progress.stop()
                self._progress = None
        if self.show_summary:
            self.console.print(result.table())


def _line(record: StepRecord) -> Any:
    from rich.text import Text

    from loom.etl.runner._summary import status_text

    line = Text.assemble("  ", status_text(record.status), f" {record.name}")
    if record.status is StepStatus.SUCCEEDED:
        line.append(
            f"  read={record.rows_read} written={record.rows_written} {record.duration_s:.2f}s",
            style="dim",
        )
    return line


def auto_display(show: bool | None) -> RichDisplay | None:
    """The display for ``ETLRunner(show=...)``: ``None`` picks by where the run happens.

    In a terminal: progress and summary on stderr. In Jupyter: the summary table in the
    cell's output. Elsewhere (pipes, CI, tests): nothing but the logs. ``True`` forces
    progress and summary, ``False`` turns both off.
    """
    if show is False:
        return None
    from rich.console import Console

    console = Console(stderr=True)
    if console.is_jupyter:
        return RichDisplay(Console(), progress=False)
    if show or console.is_terminal:
        return RichDisplay(console)
    return None
