"""``UseCase[TModel, TResult]``: one application operation with declared inputs and rules."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar, Generic, TypeVar, get_args, get_origin

from loom.core.repository.abc import RepoFor
from loom.core.use_case._rules import ComputeStep, RuleSpec

__all__ = ["UseCase", "use_case_model"]

TModel = TypeVar("TModel")
TResult = TypeVar("TResult")


class UseCase(Generic[TModel, TResult]):
    """Base of every use case.

    Subclasses implement ``async def execute(self, ...) -> TResult``. Each parameter of
    ``execute`` declares where its value comes from: a path or query parameter (by name,
    coerced to its annotation), ``Input()`` (the command), ``LoadById(...)``,
    ``Exists(...)``, or a ``QuerySpec`` (the request's list parameters). ``computes`` run
    first, then loads and existence checks, then ``rules``; ``execute`` runs only when no
    rule is violated, inside one unit of work unless ``read_only`` is set.

    Constructor parameters are injected by type (``JobService``, ``ApplicationInvoker``,
    repository contracts, any registered service). ``main_repo`` is the repository of
    ``TModel`` in the current unit of work.
    """

    rules: ClassVar[Sequence[RuleSpec]] = ()
    computes: ClassVar[Sequence[ComputeStep]] = ()
    read_only: ClassVar[bool] = False
    main_repo: RepoFor[TModel]

    async def execute(self, *args: Any, **kwargs: Any) -> TResult:
        """Run the operation; override with the use case's own parameters."""
        raise NotImplementedError(f"{type(self).__qualname__} must define execute()")


def use_case_model(cls: type[Any]) -> type[Any] | None:
    """Return ``TModel`` from ``class X(UseCase[TModel, TResult])`` (or a subclass's base)."""
    for klass in cls.__mro__:
        for base in getattr(klass, "__orig_bases__", ()):
            origin = get_origin(base)
            if isinstance(origin, type) and issubclass(origin, UseCase):
                args = get_args(base)
                if args and isinstance(args[0], type):
                    return args[0]
    return None
