"""``Application``: the DI container, the executor and the invoker, wired together.

Every runtime (REST adapters, the job worker, scripts, tests) builds one from a unit-of-work
factory and a job service, compiles the declarations at start-up, then runs use cases::

    app = Application(InMemoryUnitOfWorkFactory(db), job_service=RecordingJobService())
    app.compile(use_cases=[CreateUserUseCase], interfaces=[UserRestInterface])
    user = await app.invoker.invoke(CreateUserUseCase, payload={"full_name": "Ada", ...})
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from loom.core.di import Container, Scope
from loom.core.engine import Executor, compile_use_case
from loom.core.errors import CompilationError
from loom.core.interface import RouteSpec, compile_interfaces
from loom.core.job.service import JobService
from loom.core.repository.abc.uow import UnitOfWork, UnitOfWorkFactory
from loom.core.repository.registry import registered_contracts
from loom.core.use_case.invoker import ApplicationInvoker

__all__ = ["Application"]


class Application:
    """The wired core of a loom application.

    Args:
        uow_factory: Opens units of work (loom-store's, or the in-memory one).
        container: The DI container; a new one when omitted. ``ApplicationInvoker``,
            ``Executor``, ``JobService`` (when given), ``UnitOfWork`` (per run) and every
            registered repository contract are provided in it.
        job_service: Where use cases dispatch jobs.

    """

    __slots__ = (
        "container",
        "executor",
        "invoker",
        "job_service",
        "routes",
        "uow_factory",
    )

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        *,
        container: Container | None = None,
        job_service: JobService | None = None,
    ) -> None:
        self.uow_factory = uow_factory
        self.container = container or Container()
        self.job_service = job_service
        self.executor = Executor(uow_factory, self.container)
        self.invoker = ApplicationInvoker(self.executor)
        self.routes: tuple[RouteSpec, ...] = ()
        self.container.register_instance(ApplicationInvoker, self.invoker)
        self.container.register_instance(Executor, self.executor)
        if job_service is not None:
            self.container.register_instance(JobService, job_service)
        self.container.declare_scope_value(UnitOfWork)
        for contract, model in registered_contracts().items():
            self.container.register(contract, _repository_provider(model), scope=Scope.SCOPED)

    def compile(
        self,
        *,
        use_cases: Iterable[type[Any]] = (),
        jobs: Iterable[type[Any]] = (),
        callbacks: Iterable[type[Any]] = (),
        interfaces: Iterable[type[Any]] = (),
        default_auth: Any = None,
    ) -> tuple[RouteSpec, ...]:
        """Compile every declaration and check every dependency, reporting all problems.

        Returns the route specs of ``interfaces`` (also kept in :attr:`routes`).

        Raises:
            CompilationError: every declaration error and unresolvable dependency at once.

        """
        problems: list[str] = []
        roots: list[type[Any]] = []
        interfaces = tuple(interfaces)
        routes: tuple[RouteSpec, ...] = ()
        try:
            routes = compile_interfaces(interfaces, default_auth=default_auth)
        except CompilationError as exc:
            problems.append(str(exc))
        declared = [*use_cases, *(r.plan.use_case for r in routes)]
        for cls in dict.fromkeys([*declared, *jobs]):
            try:
                compile_use_case(cls)
            except CompilationError as exc:
                problems.append(str(exc))
            roots.append(cls)
        roots.extend(callbacks)
        try:
            self.container.validate(roots=dict.fromkeys(roots))
        except CompilationError as exc:
            problems.append(str(exc))
        if problems:
            raise CompilationError("\n".join(problems))
        self.routes = routes
        return routes


def _repository_provider(model: type[Any]) -> Any:
    def provide(uow: UnitOfWork) -> Any:
        return uow.repository(model)

    return provide
