"""``loom db``: Alembic migrations of the application's tables (a ``loom.cli`` plug-in).

Example::

    loom db revision --autogenerate -m "add products.sku" config/api.yaml
    loom db upgrade config/api.yaml              # to head
    loom db downgrade config/api.yaml -1
    loom db current config/api.yaml
    loom db history config/api.yaml

Every command takes the config files (and ``key=value`` overrides, as ``loom config``
does); the migrations folder is ``<config folder>/../migrations`` unless ``--directory``
says otherwise.
"""

from __future__ import annotations

import logging
import re
import sys
from pathlib import Path

import click

from loom.core.cli import split_config_args
from loom.store.migrations import Migrations

__all__ = ["db"]

_RELATIVE = re.compile(r"^-\d+$")
_ARGS = {"ignore_unknown_options": True}
_DIRECTORY = click.option(
    "--directory",
    "-d",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="The migrations folder (default: <config folder>/../migrations).",
)


def _is_config(word: str) -> bool:
    return word.endswith((".yaml", ".yml")) or Path(word).is_file()


def _split(args: tuple[str, ...]) -> tuple[list[str], list[str], str | None]:
    """Config files, overrides and the one revision among ``args`` (``None`` if absent)."""
    revisions: list[str] = []
    rest: list[str] = []
    for word in args:
        if word.startswith("-") and not _RELATIVE.match(word):
            raise click.UsageError(f"no such option: {word}")
        plain = "=" not in word and not word.startswith("~")
        (revisions if plain and not _is_config(word) else rest).append(word)
    if len(revisions) > 1:
        raise click.UsageError(f"give one revision, not {', '.join(revisions)}")
    files, overrides = split_config_args(tuple(rest))
    return files, overrides, revisions[0] if revisions else None


def _load(args: tuple[str, ...], directory: Path | None) -> tuple[Migrations, str | None]:
    files, overrides, revision = _split(args)
    _show_alembic_progress()
    return Migrations.from_config(*files, overrides=overrides, directory=directory), revision


def _progress(record: logging.LogRecord) -> bool:
    return record.levelno >= logging.WARNING or record.getMessage().startswith("Running")


def _show_alembic_progress() -> None:
    """Print Alembic's "Running upgrade ..." lines (it logs them at INFO)."""
    alembic = logging.getLogger("alembic")
    if not any(isinstance(h, logging.StreamHandler) for h in alembic.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        handler.addFilter(_progress)
        alembic.addHandler(handler)
        alembic.setLevel(logging.INFO)
        alembic.propagate = False


@click.group()
def db() -> None:
    """Database migrations of the application's models (Alembic)."""


@db.command(context_settings=_ARGS)
@click.argument("args", nargs=-1, required=True, metavar="CONFIG... [KEY=VALUE...]")
@click.option("--message", "-m", required=True, help="What the revision changes.")
@click.option(
    "--autogenerate",
    is_flag=True,
    help="Compare the database with the models and write the difference.",
)
@_DIRECTORY
def revision(
    args: tuple[str, ...], message: str, autogenerate: bool, directory: Path | None
) -> None:
    """Write a new revision (the first one creates the migrations folder)."""
    migrations, extra = _load(args, directory)
    if extra is not None:
        raise click.UsageError(f"revision takes no revision argument, got {extra!r}")
    path = migrations.revision(message, autogenerate=autogenerate)
    if path is None:
        click.echo("no changes between the models and the database: no revision written")
    else:
        click.echo(f"wrote {path}")


@db.command(context_settings=_ARGS)
@click.argument("args", nargs=-1, required=True, metavar="CONFIG... [KEY=VALUE...] [REVISION]")
@click.option("--sql", is_flag=True, help="Print the SQL instead of running it.")
@_DIRECTORY
def upgrade(args: tuple[str, ...], sql: bool, directory: Path | None) -> None:
    """Upgrade the database to REVISION (default: head)."""
    migrations, target = _load(args, directory)
    migrations.upgrade(target or "head", sql=sql)


@db.command(context_settings=_ARGS)
@click.argument("args", nargs=-1, required=True, metavar="CONFIG... [KEY=VALUE...] REVISION")
@click.option("--sql", is_flag=True, help="Print the SQL instead of running it.")
@_DIRECTORY
def downgrade(args: tuple[str, ...], sql: bool, directory: Path | None) -> None:
    """Downgrade the database to REVISION (-1 for one step back, base for none)."""
    migrations, target = _load(args, directory)
    if target is None:
        raise click.UsageError("give the revision to go back to, e.g. -1 or base")
    migrations.downgrade(target, sql=sql)


@db.command(context_settings=_ARGS)
@click.argument("args", nargs=-1, required=True, metavar="CONFIG... [KEY=VALUE...]")
@_DIRECTORY
def current(args: tuple[str, ...], directory: Path | None) -> None:
    """Print the revision the database is at, marked (head) when it is the newest."""
    migrations, _ = _load(args, directory)
    applied = migrations.current()
    heads = set(migrations.heads()) if migrations.exists else set()
    if not applied:
        click.echo("base (no revision applied)")
    for revision_id in applied:
        click.echo(f"{revision_id} (head)" if revision_id in heads else revision_id)


@db.command(context_settings=_ARGS)
@click.argument("args", nargs=-1, required=True, metavar="CONFIG... [KEY=VALUE...]")
@_DIRECTORY
def history(args: tuple[str, ...], directory: Path | None) -> None:
    """List the revisions, newest first."""
    migrations, _ = _load(args, directory)
    click.echo(migrations.history(), nl=False)
