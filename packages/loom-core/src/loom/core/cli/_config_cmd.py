"""``loom config show|validate``: the merged, resolved config and its validation."""

from __future__ import annotations

import json
import sys

import click
from rich.console import Console
from rich.syntax import Syntax
from rich.table import Table

from loom.core.cli._app import main
from loom.core.config import load_config

__all__ = ["config", "split_config_args"]


def split_config_args(args: tuple[str, ...]) -> tuple[list[str], list[str]]:
    """Split command-line words into config files and ``key=value`` overrides."""
    files: list[str] = []
    overrides: list[str] = []
    for arg in args:
        (overrides if "=" in arg or arg.startswith("~") else files).append(arg)
    if not files:
        raise click.UsageError(
            "give at least one config file, e.g. loom config show config/api.yaml"
        )
    return files, overrides


@main.group()
def config() -> None:
    """Show and validate configuration files."""


@config.command()
@click.argument("args", nargs=-1, required=True, metavar="CONFIG... [KEY=VALUE...]")
@click.option(
    "--format", "fmt", type=click.Choice(["yaml", "json"]), default="yaml", show_default=True
)
def show(args: tuple[str, ...], fmt: str) -> None:
    """Print the merged, resolved config with secrets masked."""
    files, overrides = split_config_args(args)
    loaded = load_config(*files, overrides=overrides)
    if fmt == "json":
        click.echo(json.dumps(loaded.to_dict(), indent=2, default=str))
        return
    text = loaded.to_yaml()
    if sys.stdout.isatty():
        Console().print(Syntax(text, "yaml", background_color="default"))
    else:
        click.echo(text, nl=False)


@config.command()
@click.argument("args", nargs=-1, required=True, metavar="CONFIG... [KEY=VALUE...]")
def validate(args: tuple[str, ...]) -> None:
    """Check that the config loads, resolves and validates; exit 2 when it does not."""
    files, overrides = split_config_args(args)
    loaded = load_config(*files, overrides=overrides)
    console = Console()
    console.print(f"[green]valid:[/green] {', '.join(files)}", soft_wrap=True)
    table = Table()
    table.add_column("section")
    table.add_column("validated as")
    for name in loaded.to_dict():
        table.add_row(name, type(loaded.section_value(name)).__name__)
    console.print(table)
