"""The ``loom`` command. Distributions add subcommands through the ``loom.cli`` entry points.

A plug-in is an entry point in the ``loom.cli`` group whose name is the subcommand and
whose value is a :class:`click.Command` (usually a :class:`click.Group`)::

    [project.entry-points."loom.cli"]
    db = "loom.store.cli:db"
"""

from loom.core.cli import _config_cmd as _config_cmd  # registers `loom config`
from loom.core.cli._app import PLUGIN_GROUP, CliContext, LoomGroup, main, run
from loom.core.cli._config_cmd import split_config_args

__all__ = ["PLUGIN_GROUP", "CliContext", "LoomGroup", "main", "run", "split_config_args"]
