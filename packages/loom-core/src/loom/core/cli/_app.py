"""The root ``loom`` group: version, ``--debug``, error handling and plug-in loading."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, entry_points, version

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from loom.core.errors import ConfigurationError, LoomError

__all__ = ["DISTRIBUTIONS", "PLUGIN_GROUP", "CliContext", "LoomGroup", "main", "run"]

PLUGIN_GROUP = "loom.cli"
DISTRIBUTIONS = ("loom-core", "loom-store", "loom-rest", "loom-jobs", "loom-etl", "loom-pyloop")

err_console = Console(stderr=True, highlight=False)


@dataclass(slots=True)
class CliContext:
    """What every subcommand can read from ``click.get_current_context().obj``."""

    debug: bool = False


class LoomGroup(click.Group):
    """A click group that also lists the subcommands installed distributions plug in."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Return built-in and plug-in subcommand names, sorted."""
        names = set(super().list_commands(ctx))
        names.update(ep.name for ep in entry_points(group=PLUGIN_GROUP))
        return sorted(names)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """Return a built-in subcommand, else load the plug-in registered under that name."""
        command = super().get_command(ctx, cmd_name)
        if command is not None:
            return command
        for ep in entry_points(group=PLUGIN_GROUP, name=cmd_name):
            try:
                loaded = ep.load()
            except Exception as exc:  # noqa: BLE001 - a broken plug-in must not break `loom`
                return _broken_plugin(cmd_name, ep.value, exc)
            if not isinstance(loaded, click.Command):
                return _broken_plugin(cmd_name, ep.value, TypeError("not a click.Command"))
            return loaded
        return None


def _broken_plugin(name: str, target: str, exc: Exception) -> click.Command:
    @click.command(
        name=name, help=f"(unavailable: {exc})", context_settings={"ignore_unknown_options": True}
    )
    @click.argument("args", nargs=-1, type=click.UNPROCESSED)
    def unavailable(args: tuple[str, ...]) -> None:
        raise click.ClickException(f"subcommand {name!r} ({target}) cannot load: {exc}")

    return unavailable


def _print_versions(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    table = Table(title="loom", show_header=True)
    table.add_column("distribution")
    table.add_column("version")
    for dist in DISTRIBUTIONS:
        try:
            table.add_row(dist, version(dist))
        except PackageNotFoundError:
            continue
    Console().print(table)
    ctx.exit(0)


@click.group(cls=LoomGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_print_versions,
    help="List the installed loom distributions and their versions.",
)
@click.option("--debug", is_flag=True, help="Show tracebacks for errors.")
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """loom: models, use cases, REST, jobs and ETL from one declaration."""
    ctx.obj = CliContext(debug=debug)


def run(argv: list[str] | None = None) -> None:
    """Run the ``loom`` command: one clear line per error, a traceback only with ``--debug``."""
    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args
    try:
        code = main.main(args=args, prog_name="loom", standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.Abort:
        err_console.print("[red]aborted[/red]")
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except ConfigurationError as exc:
        _report(exc, debug)
        sys.exit(2)
    except LoomError as exc:
        _report(exc, debug)
        sys.exit(1)
    except Exception as exc:  # noqa: BLE001 - the CLI's last line of defence
        _report(exc, debug, prefix="internal error")
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)


def _report(exc: BaseException, debug: bool, *, prefix: str = "error") -> None:
    if debug:
        err_console.print_exception(show_locals=False)
        return
    lines = str(exc).splitlines() or [type(exc).__name__]
    for line in lines:
        err_console.print(f"[bold red]{prefix}:[/bold red] {escape(line)}", soft_wrap=True)
    if prefix == "internal error":
        err_console.print("run again with --debug for the traceback")
