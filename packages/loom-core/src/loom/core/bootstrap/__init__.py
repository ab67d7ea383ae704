"""Assembling an application from its YAML config: discovery, store, jobs, compilation.

Every runtime (REST adapters, ``loom worker``, scripts) starts from here::

    runtime = load_runtime("config/api.yaml")
    await runtime.start()
    user = await runtime.application.invoker.invoke(CreateUserUseCase, payload=...)
    await runtime.stop()
"""

from loom.core.bootstrap._discovery import Manifest, add_code_path, discover
from loom.core.bootstrap._runtime import Runtime, load_runtime

__all__ = ["Manifest", "Runtime", "add_code_path", "discover", "load_runtime"]
