"""``loom etl``: run, validate and inspect pipelines from the terminal.

A ``loom.cli`` plug-in (entry point ``etl = "loom.etl.cli:etl"``)::

    loom etl validate app.etl:DailyPipeline --config etl.yaml --param run_date=2026-01-01
    loom etl run app.etl:DailyPipeline --config etl.yaml --param run_date=2026-01-01
    loom etl run app.etl:DailyPipeline --config etl.yaml --resume RUN_ID
    loom etl status RUN_ID --config etl.yaml
    loom etl history DailyPipeline --config etl.yaml --limit 10
    loom etl lineage RUN_ID --config etl.yaml --format mermaid

Exit codes: 0 when it worked, 1 when a run failed, 2 for bad input or config
(declaration errors, invalid params, unknown runs); errors are one line each, without
a traceback (``loom --debug etl ...`` shows it).
"""

import click

from loom.etl.cli._inspect import history, lineage, status
from loom.etl.cli._run import run, validate

__all__ = ["etl"]


@click.group(name="etl")
def etl() -> None:
    """Run, validate and inspect ETL pipelines."""


for _command in (run, validate, status, history, lineage):
    etl.add_command(_command)
