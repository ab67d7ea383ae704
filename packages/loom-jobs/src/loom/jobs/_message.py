"""``JobMessage``: one dispatched job as it travels (outbox row, broker message, task)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

import msgspec

from loom.core.job.job import Job
from loom.core.job.records import OutboxRecord
from loom.jobs._names import callback_name
from loom.jobs.errors import JobError

__all__ = ["JobMessage", "build_message"]


class JobMessage(msgspec.Struct, frozen=True, kw_only=True):
    """What a backend needs to run one dispatched job; carries the job id everywhere.

    Attributes:
        job_id: The job's id (also the outbox row id and the broker message id).
        job: The job's registered name (``Job.job_name()``).
        queue: The queue it runs on.
        params: Plain ``execute`` parameters (JSON values).
        payload: The ``Input()`` command payload (JSON values), if any.
        on_success: The success callback's name (``module:QualName``), if any.
        on_failure: The failure callback's name (``module:QualName``), if any.
    """

    job_id: str
    job: str
    queue: str
    params: dict[str, Any] = msgspec.field(default_factory=dict)
    payload: dict[str, Any] | None = None
    on_success: str | None = None
    on_failure: str | None = None

    @property
    def context(self) -> dict[str, Any]:
        """The keyword arguments callbacks receive: the dispatch payload."""
        return dict(self.payload or {})

    def outbox_row(self) -> dict[str, Any]:
        """The columns of this message's ``OutboxRecord``."""
        return {
            "id": self.job_id,
            "job": self.job,
            "queue": self.queue,
            "params": self.params,
            "payload": self.payload,
            "on_success": self.on_success,
            "on_failure": self.on_failure,
        }

    def to_kwargs(self) -> dict[str, Any]:
        """The keyword arguments of the broker message (JSON values)."""
        return {
            "job_id": self.job_id,
            "params": self.params,
            "payload": self.payload,
            "on_success": self.on_success,
            "on_failure": self.on_failure,
        }

    @classmethod
    def from_outbox(cls, row: OutboxRecord) -> JobMessage:
        """Rebuild the message an outbox row recorded."""
        return cls(
            job_id=row.id,
            job=row.job,
            queue=row.queue,
            params=dict(row.params or {}),
            payload=dict(row.payload) if row.payload is not None else None,
            on_success=row.on_success,
            on_failure=row.on_failure,
        )

    @classmethod
    def from_kwargs(cls, job: str, queue: str, kwargs: Mapping[str, Any]) -> JobMessage:
        """Decode a broker message's keyword arguments.

        Raises:
            msgspec.ValidationError: the arguments are not a job message.
        """
        return msgspec.convert({"job": job, "queue": queue, **kwargs}, cls)


def _json_values(what: str, value: Mapping[str, Any], job: type[Job[Any]]) -> dict[str, Any]:
    try:
        converted = msgspec.to_builtins(dict(value))
    except (TypeError, msgspec.EncodeError) as exc:
        raise JobError(
            f"{job.job_name()}: {what} must hold JSON values (str, int, float, bool, None, "
            f"lists, dicts, datetimes, UUIDs, structs): {exc}"
        ) from exc
    result: dict[str, Any] = converted
    return result


def build_message(
    job: type[Job[Any]],
    *,
    params: Mapping[str, Any] | None,
    payload: Mapping[str, Any] | None,
    on_success: type[Any] | None,
    on_failure: type[Any] | None,
    queue: str | None,
) -> JobMessage:
    """Check a dispatch and turn it into a :class:`JobMessage` with a new job id.

    Raises:
        JobError: ``job`` is not a ``Job``, a callback lacks its method, or ``params`` or
            ``payload`` hold values that cannot travel as JSON.
    """
    if not (isinstance(job, type) and issubclass(job, Job)):
        raise JobError(f"dispatch() needs a Job subclass, got {job!r}")
    if on_success is not None and not callable(getattr(on_success, "on_success", None)):
        raise JobError(f"on_success={on_success!r} has no on_success() method")
    if on_failure is not None and not callable(getattr(on_failure, "on_failure", None)):
        raise JobError(f"on_failure={on_failure!r} has no on_failure() method")
    return JobMessage(
        job_id=uuid.uuid4().hex,
        job=job.job_name(),
        queue=queue or job.__queue__,
        params=_json_values("params", params or {}, job),
        payload=_json_values("payload", payload, job) if payload is not None else None,
        on_success=callback_name(on_success) if on_success is not None else None,
        on_failure=callback_name(on_failure) if on_failure is not None else None,
    )
