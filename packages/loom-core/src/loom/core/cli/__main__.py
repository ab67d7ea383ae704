"""``python -m loom.core.cli`` runs the ``loom`` command."""

from loom.core.cli._app import run

run()
