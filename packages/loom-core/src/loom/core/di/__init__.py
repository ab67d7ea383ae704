"""Dependency injection: constructor injection by type annotation.

Register providers by type, then build use cases and callbacks whose ``__init__``
parameters are injected from their annotations. Each class's injection plan is computed
once. Lifetimes: :attr:`Scope.SINGLETON` (one per container), :attr:`Scope.SCOPED` (one
per :meth:`Container.scope`, i.e. per unit of work) and :attr:`Scope.TRANSIENT` (new on
every resolution). Every failure raises :class:`DependencyError`, a
:class:`~loom.core.errors.CompilationError` naming the class, the parameter and its type;
:meth:`Container.validate` reports all of them at start-up.

Example:
    >>> from loom.core.di import Container, Scope
    >>> container = Container()
    >>> container.register(JobService, InlineJobService)
    >>> container.register(Session, session_factory, scope=Scope.SCOPED)
    >>> container.validate(roots=[RestockWorkflowUseCase])
    >>> with container.scope({UnitOfWork: uow}) as scope:
    ...     use_case = scope.build(RestockWorkflowUseCase)
"""

from loom.core.di._container import Container
from loom.core.di._plan import DependencyError
from loom.core.di._scope import Scope, ScopeContext

__all__ = ["Container", "DependencyError", "Scope", "ScopeContext"]
