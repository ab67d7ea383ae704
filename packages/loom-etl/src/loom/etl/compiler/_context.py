"""What the compiler carries while it walks a pipeline: where it is and what went wrong."""

from __future__ import annotations

from dataclasses import dataclass, field

from loom.etl.backend._protocol import Backend
from loom.etl.backend._storage import Storage
from loom.etl.dsl._declarations import ETLParams
from loom.etl.errors import EtlError, PipelineCompilationError

__all__ = ["CompileContext"]


@dataclass(slots=True)
class CompileContext:
    """The state of one compilation.

    Attributes:
        pipeline: Pipeline name, for every error.
        params_type: The params type the pipeline runs with.
        storage: Resolves table names and file aliases.
        backend: Answers schema questions; ``None`` skips every storage check.
        errors: Every problem found so far.

    """

    pipeline: str
    params_type: type[ETLParams]
    storage: Storage
    backend: Backend | None
    errors: list[EtlError] = field(default_factory=list)
    next_index: int = 1

    def add(
        self,
        error_type: type[EtlError],
        problem: str,
        *,
        step: str | None = None,
        attribute: str | None = None,
        column: str | None = None,
        fix: str | None = None,
    ) -> None:
        """Record one problem."""
        self.errors.append(
            error_type(
                problem,
                pipeline=self.pipeline,
                step=step,
                attribute=attribute,
                column=column,
                fix=fix,
            )
        )

    def raise_if_any(self) -> None:
        """Raise every recorded problem at once as a :class:`PipelineCompilationError`."""
        if self.errors:
            raise PipelineCompilationError(self.pipeline, self.errors)
