"""Commands: frozen msgspec structs carrying request data, with ``Patch`` for partial updates.

Example:
    >>> from loom.core.command import Command, Patch
    >>> class UpdateUser(Command, frozen=True):
    ...     full_name: Patch[str] = None
    ...     email: Patch[str] = None
    >>> cmd = UpdateUser.decode(b'{"email": null}')
    >>> cmd.fields_set
    frozenset({'email'})
"""

from loom.core.command._command import Command, CommandMeta, Patch, is_patch_field
from loom.core.command._decode import decode_command

__all__ = ["Command", "CommandMeta", "Patch", "decode_command", "is_patch_field"]
