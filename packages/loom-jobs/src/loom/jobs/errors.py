"""loom-jobs' errors: the ``JobError`` subtree of ``LoomError``."""

from __future__ import annotations

from loom.core.errors import LoomError

__all__ = ["BadJobMessage", "JobError", "JobFailed", "UnknownJob"]


class JobError(LoomError):
    """Root of the errors loom-jobs raises."""

    code = "job_error"


class UnknownJob(JobError):
    """A message names a job (or callback) the worker does not know."""

    code = "unknown_job"


class BadJobMessage(JobError):
    """A broker message is not a loom job message; it is dead-lettered, never retried."""

    code = "bad_job_message"


class JobFailed(JobError):
    """A job failed for good (its retries are spent or the error is not retryable)."""

    code = "job_failed"
