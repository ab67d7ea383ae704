"""loom-jobs: the runtime for loom-core's ``Job`` declarations.

Backends (``jobs.backend``): ``inline`` (:mod:`loom.jobs.inline`) and ``dramatiq``
(:mod:`loom.jobs.dramatiq_backend`); the ``loom worker`` command (:mod:`loom.jobs.cli`);
test helpers (:mod:`loom.jobs.testing`).
"""

from loom.jobs.__about__ import __version__
from loom.jobs._message import JobMessage
from loom.jobs._relay import RelaySettings
from loom.jobs.errors import BadJobMessage, JobError, JobFailed, UnknownJob

__all__ = [
    "BadJobMessage",
    "JobError",
    "JobFailed",
    "JobMessage",
    "RelaySettings",
    "UnknownJob",
    "__version__",
]
