"""``loom etl run`` and ``loom etl validate``."""

from __future__ import annotations

import sys
from typing import Any

import click
from rich.console import Console

from loom.etl.cli._common import (
    BadInput,
    bad_input_on,
    config_options,
    import_pipeline,
    load,
    out_console,
)
from loom.etl.cli._params import explain_params_error, parse_params
from loom.etl.compiler._plan import ExecutionPlan
from loom.etl.errors import ParamsValidationError, PipelineRunError
from loom.etl.runner._display import RichDisplay
from loom.etl.runner._records import RunResult

__all__ = ["run", "validate"]


def _steps(values: tuple[str, ...]) -> list[str] | None:
    names = [name.strip() for value in values for name in value.split(",") if name.strip()]
    return names or None


def _param_option(command: Any) -> Any:
    return click.option(
        "--param",
        "-p",
        "param_pairs",
        multiple=True,
        metavar="NAME=VALUE",
        help="A params field (repeatable); lists take a,b,c.",
    )(command)


def _validated(
    runner: Any, pipeline: type, values: dict[str, Any] | None, include: Any
) -> ExecutionPlan:
    try:
        with bad_input_on():
            plan: ExecutionPlan = runner.validate(pipeline, values, include=include)
    except BadInput as exc:
        if isinstance(exc.__cause__, ParamsValidationError):
            raise explain_params_error(exc.__cause__, values or {}) from exc.__cause__
        raise
    return plan


def _print_result(result: RunResult) -> None:
    out_console().print(result.table())


@click.command(name="run")
@click.argument("pipeline_ref", metavar="MODULE:Pipeline")
@config_options
@_param_option
@click.option(
    "--include", multiple=True, metavar="STEP,...", help="Run only these steps (repeatable)."
)
@click.option("--resume", "resume_id", metavar="RUN_ID", help="Resume a failed run.")
@click.option("--run-id", metavar="ID", help="The new run's id (default: random).")
@click.option(
    "--progress/--no-progress",
    default=None,
    help="Show a progress bar (default: when stderr is a terminal).",
)
def run(
    pipeline_ref: str,
    configs: tuple[str, ...],
    overrides: tuple[str, ...],
    param_pairs: tuple[str, ...],
    include: tuple[str, ...],
    resume_id: str | None,
    run_id: str | None,
    progress: bool | None,
) -> None:
    """Run a pipeline; exit 1 when a step fails (resume it with --resume RUN_ID).

    \b
    loom etl run app.etl:DailyPipeline -c etl.yaml -p run_date=2026-01-01
    loom etl run app.etl:DailyPipeline -c etl.yaml --resume 5f0c...
    """
    if resume_id is not None and (param_pairs or include or run_id):
        raise BadInput(
            "--resume re-runs the run with its own params and steps: drop --param, "
            "--include and --run-id"
        )
    pipeline = import_pipeline(pipeline_ref)
    show_progress = Console(stderr=True).is_terminal if progress is None else progress
    display = RichDisplay(Console(stderr=True), progress=show_progress, summary=False)
    _, runner = load(configs, overrides, show=False, listeners=[display])
    try:
        if resume_id is not None:
            with bad_input_on():
                result = runner.resume(resume_id, pipeline)
        else:
            values = parse_params(param_pairs, pipeline)
            steps = _steps(include)
            _validated(runner, pipeline, values, steps)
            with bad_input_on():
                result = runner.run(pipeline, values, include=steps, run_id=run_id)
    except PipelineRunError as exc:
        _print_result(exc.result)
        click.echo(
            f"resume with: loom etl run {pipeline_ref} {_config_args(configs)} "
            f"--resume {exc.result.run_id}",
            err=True,
        )
        raise
    _print_result(result)


def _config_args(configs: tuple[str, ...]) -> str:
    return " ".join(f"--config {c}" for c in configs)


@click.command(name="validate")
@click.argument("pipeline_ref", metavar="MODULE:Pipeline")
@config_options
@_param_option
@click.option("--include", multiple=True, metavar="STEP,...", help="Plan only these steps.")
def validate(
    pipeline_ref: str,
    configs: tuple[str, ...],
    overrides: tuple[str, ...],
    param_pairs: tuple[str, ...],
    include: tuple[str, ...],
) -> None:
    """Compile a pipeline and print its plan, without reading or writing any data.

    The plan lists steps in order (parallel groups marked), each source and target,
    and the write modes; every declaration error is reported at once (exit 2).
    """
    pipeline = import_pipeline(pipeline_ref)
    _, runner = load(configs, overrides, show=False)
    values = parse_params(param_pairs, pipeline) if param_pairs else None
    plan = _validated(runner, pipeline, values, _steps(include))
    sys.stdout.write(str(plan) + "\n")
