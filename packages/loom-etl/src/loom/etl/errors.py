"""The loom-etl error family: every error loom-etl raises on purpose is an :class:`EtlError`.

Each class carries a stable snake_case ``code``. An error names where it happened — the
pipeline, the step, the attribute (a source, the target, ``execute``, ``sql``) and, where
one is involved, the column — and how to fix it. Declaration mistakes are collected and
raised together as one :class:`PipelineCompilationError` before anything is read or
written.

Example:
    >>> from loom.etl.errors import EtlError, MissingTableError
    >>> error = MissingTableError(
    ...     "table 'raw.orders' does not exist",
    ...     pipeline="Daily",
    ...     step="CleanOrders",
    ...     attribute="orders",
    ...     fix="create it or produce it in an earlier step",
    ... )
    >>> str(error)
    "[Daily] CleanOrders.orders: table 'raw.orders' does not exist; fix: create it or produce it in an earlier step"
    >>> isinstance(error, EtlError), error.code
    (True, 'etl_missing_table')
"""  # noqa: E501

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from loom.core.errors import CompilationError, FieldError, LoomError

if TYPE_CHECKING:
    from loom.etl.runner import RunResult

__all__ = [
    "BackendUnavailableError",
    "DeclarationError",
    "DuplicateKeyError",
    "EtlError",
    "HistoryError",
    "MissingTableError",
    "ParallelConflictError",
    "ParamsValidationError",
    "PipelineCompilationError",
    "PipelineRunError",
    "ResumeError",
    "RowsOutsidePredicateError",
    "SchemaMismatchError",
    "SourceReadError",
    "StepExecutionError",
    "StepSignatureError",
    "UnknownAliasError",
    "UnknownColumnError",
    "UnknownParamError",
    "WriteModeError",
]


class EtlError(LoomError):
    """Root of every error loom-etl raises on purpose.

    Args:
        problem: What is wrong.
        pipeline: The pipeline class name, when known.
        step: The step class name, when known.
        attribute: The step attribute involved (a source, the target, ``execute``, ``sql``).
        column: The column involved, when there is one.
        fix: How to fix it.

    Attributes:
        problem: What is wrong, without the location prefix.

    """

    code = "etl_error"

    def __init__(
        self,
        problem: str = "",
        *,
        pipeline: str | None = None,
        step: str | None = None,
        attribute: str | None = None,
        column: str | None = None,
        fix: str | None = None,
    ) -> None:
        self.problem = problem or self.__class__.__doc__ or self.code
        self.pipeline = pipeline
        self.step = step
        self.attribute = attribute
        self.column = column
        self.fix = fix
        super().__init__(self._render())

    @property
    def where(self) -> str:
        """``[Pipeline] Step.attribute``, as much of it as is known."""
        parts: list[str] = []
        if self.pipeline:
            parts.append(f"[{self.pipeline}]")
        place = ".".join(p for p in (self.step, self.attribute) if p)
        if place:
            parts.append(place)
        return " ".join(parts)

    def _render(self) -> str:
        where = self.where
        text = f"{where}: {self.problem}" if where else self.problem
        return f"{text}; fix: {self.fix}" if self.fix else text

    def located(self, *, pipeline: str | None = None, step: str | None = None) -> EtlError:
        """Fill in the pipeline and step when they are not set yet; return ``self``."""
        if pipeline and not self.pipeline:
            self.pipeline = pipeline
        if step and not self.step:
            self.step = step
        self.message = self._render()
        self.args = (self.message,)
        return self


class PipelineCompilationError(EtlError, CompilationError):
    """A pipeline declaration has one or more errors; ``errors`` lists every one of them."""

    code = "etl_compilation_failed"

    def __init__(self, pipeline: str, errors: Iterable[EtlError]) -> None:
        self.errors: tuple[EtlError, ...] = tuple(errors)
        count = len(self.errors)
        lines = [f"pipeline {pipeline} has {count} error{'s' if count != 1 else ''}:"]
        lines += [f"  {i}. [{e.code}] {e}" for i, e in enumerate(self.errors, 1)]
        super().__init__("\n".join(lines))
        self.pipeline = pipeline

    def _render(self) -> str:
        return self.problem


class DeclarationError(EtlError):
    """A pipeline, process or step is declared wrongly."""

    code = "etl_declaration_error"


class StepSignatureError(DeclarationError):
    """A step's ``execute`` does not match its declared sources."""

    code = "etl_step_signature"


class UnknownParamError(DeclarationError):
    """A ``params.x`` reference names no field of the params type."""

    code = "etl_unknown_param"


class WriteModeError(DeclarationError):
    """A target's write mode is missing or its arguments do not fit together."""

    code = "etl_write_mode"


class ParallelConflictError(DeclarationError):
    """Steps that run in parallel write the same table or read what a sibling writes."""

    code = "etl_parallel_conflict"


class UnknownAliasError(DeclarationError):
    """``FromFile.alias`` / ``IntoFile.alias`` names no entry of ``storage.files``."""

    code = "etl_unknown_alias"


class MissingTableError(EtlError):
    """A table a step reads neither exists in storage nor is written by an earlier step."""

    code = "etl_missing_table"


class UnknownColumnError(EtlError):
    """A declared column, predicate or write-mode argument names a column that is not there."""

    code = "etl_unknown_column"


class SchemaMismatchError(EtlError):
    """The data's columns or types do not match what is declared or what the table holds."""

    code = "etl_schema_mismatch"


class ParamsValidationError(EtlError):
    """The params given to a run do not validate against the pipeline's params type.

    Attributes:
        errors: Every problem, as ``FieldError(field, message)``.

    """

    code = "etl_invalid_params"

    def __init__(
        self,
        problem: str = "",
        *,
        errors: Iterable[FieldError] = (),
        pipeline: str | None = None,
        fix: str | None = None,
    ) -> None:
        self.errors = tuple(errors)
        if not problem:
            problem = "; ".join(f"{e.field}: {e.message}" for e in self.errors)
        super().__init__(problem, pipeline=pipeline, attribute="params", fix=fix)


class SourceReadError(EtlError):
    """A source cannot be read (missing at run time, unreadable, malformed rows)."""

    code = "etl_source_error"


class RowsOutsidePredicateError(EtlError):
    """``replace_where`` / ``replace_partition`` got rows outside the slice it replaces."""

    code = "etl_rows_outside_predicate"


class DuplicateKeyError(EtlError):
    """``upsert`` got different rows with the same key."""

    code = "etl_duplicate_keys"


class StepExecutionError(EtlError):
    """A step failed while computing or writing its output."""

    code = "etl_step_failed"


class BackendUnavailableError(EtlError):
    """The configured engine is not available (not built yet, or its extra is missing)."""

    code = "etl_backend_unavailable"


class HistoryError(EtlError):
    """The run history cannot be read or written, or does not hold what was asked for."""

    code = "etl_history_error"


class ResumeError(EtlError):
    """A run cannot be resumed (unknown run, another pipeline, still running, no history)."""

    code = "etl_resume_error"


class PipelineRunError(EtlError):
    """A run failed; ``result`` holds every step's record and ``errors`` each step's error."""

    code = "etl_run_failed"

    def __init__(self, result: RunResult, errors: Iterable[EtlError]) -> None:
        self.result = result
        self.errors: tuple[EtlError, ...] = tuple(errors)
        failed = ", ".join(e.step or "?" for e in self.errors)
        lines = [f"run {result.run_id} of pipeline {result.pipeline} failed at step {failed}:"]
        lines += [f"  [{e.code}] {e}" for e in self.errors]
        super().__init__("\n".join(lines), pipeline=result.pipeline)

    def _render(self) -> str:
        return self.problem
