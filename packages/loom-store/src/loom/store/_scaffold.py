"""A new migrations folder: ``env.py``, the revision template, ``versions/``, a README."""

from __future__ import annotations

from pathlib import Path

__all__ = ["ENV_PY", "SCRIPT_MAKO", "is_migrations_folder", "scaffold"]

ENV_PY = '''"""Alembic environment of this application (written by `loom db revision`).

`loom db upgrade|downgrade|revision|current CONFIG` runs it with the application's models
(discovered from its config, job tables included) and its `database.url`, on SQLite or
PostgreSQL. Pass extra Alembic `context.configure` options to `run_migrations`, e.g.
`run_migrations(include_object=...)`.
"""

from loom.store.migrations import run_migrations

run_migrations()
'''

SCRIPT_MAKO = '''"""${message}

Revision ID: ${up_revision}
Revises: ${down_revision | comma,n}
Create Date: ${create_date}
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
${imports if imports else ""}

revision: str = ${repr(up_revision)}
down_revision: str | Sequence[str] | None = ${repr(down_revision)}
branch_labels: str | Sequence[str] | None = ${repr(branch_labels)}
depends_on: str | Sequence[str] | None = ${repr(depends_on)}


def upgrade() -> None:
    """Apply this revision."""
    ${upgrades if upgrades else "pass"}


def downgrade() -> None:
    """Revert this revision."""
    ${downgrades if downgrades else "pass"}
'''

README = """Database migrations of this application (Alembic, driven by loom).

    loom db revision --autogenerate -m "add products.sku" config/api.yaml
    loom db upgrade config/api.yaml            # to the newest revision (head)
    loom db downgrade config/api.yaml -1       # one revision back
    loom db current config/api.yaml

Review every generated file in versions/ before applying it.
"""


def is_migrations_folder(directory: Path) -> bool:
    """True when ``directory`` holds an ``env.py`` and a ``versions/`` folder."""
    return (directory / "env.py").is_file() and (directory / "versions").is_dir()


def scaffold(directory: Path) -> None:
    """Create the migrations folder ``directory`` (its missing files only)."""
    (directory / "versions").mkdir(parents=True, exist_ok=True)
    for name, text in (("env.py", ENV_PY), ("script.py.mako", SCRIPT_MAKO), ("README", README)):
        path = directory / name
        if not path.exists():
            path.write_text(text, encoding="utf-8")
