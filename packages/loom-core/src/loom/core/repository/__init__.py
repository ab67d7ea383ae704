"""Repository contracts (:mod:`loom.core.repository.abc`) and custom-repository registry.

Backends (``loom.store``, :mod:`loom.core.testing.memory`) implement the contracts;
application code depends on them only.
"""

__all__: list[str] = []
