"""loom.core.di: lifetimes, injection by annotation, overrides, validation, scopes, concurrency.

This module uses ``from __future__ import annotations`` on purpose: every annotation below
is a string that the container must resolve with ``typing.get_type_hints``.
"""

from __future__ import annotations

import asyncio
import inspect
import threading
import time
import typing
from typing import Protocol

import pytest

from loom.core.di import Container, DependencyError, Scope, ScopeContext
from loom.core.errors import CompilationError, LoomError

# -- the cast -------------------------------------------------------------------------


class Settings:
    def __init__(self) -> None:
        self.name = "settings"


class Clock:
    pass


class JobService(Protocol):
    def dispatch(self, name: str) -> str: ...


class InlineJobService:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def dispatch(self, name: str) -> str:
        return f"job:{name}"


class ApplicationInvoker:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings


class Session:
    """A scoped resource with a sync close hook."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.closed = False

    def close(self) -> None:
        self.closed = True


class UnitOfWork:
    def __init__(self) -> None:
        self.closed = False

    def close(self) -> None:
        self.closed = True


class Repository:
    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow


class CreateUserUseCase:
    def __init__(self, app: ApplicationInvoker, job_service: JobService) -> None:
        self.app = app
        self.job_service = job_service


class RestockEmailSuccessCallback:
    def __init__(self, app: ApplicationInvoker) -> None:
        self.app = app


class WithDefaults:
    def __init__(
        self,
        settings: Settings,
        clock: Clock | None,
        retries: int = 3,
        label: str = "default",
        *args: object,
        **kwargs: object,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.retries = retries
        self.label = label
        self.args = args
        self.kwargs = kwargs


def make_clock(settings: Settings) -> Clock:
    clock = Clock()
    clock.settings = settings  # type: ignore[attr-defined]
    return clock


def container_with_basics() -> Container:
    container = Container()
    container.register(Settings)
    container.register(ApplicationInvoker)
    container.register(JobService, InlineJobService)
    return container


# -- lifetimes ------------------------------------------------------------------------


def test_singleton_is_one_instance_per_container() -> None:
    container = container_with_basics()
    other = container_with_basics()

    assert container.resolve(Settings) is container.resolve(Settings)
    assert container.resolve(JobService).settings is container.resolve(Settings)  # type: ignore[attr-defined]
    assert other.resolve(Settings) is not container.resolve(Settings)


def test_transient_is_new_on_every_resolve() -> None:
    container = container_with_basics()
    container.register(Clock, scope=Scope.TRANSIENT)

    first, second = container.resolve(Clock), container.resolve(Clock)

    assert isinstance(first, Clock)
    assert first is not second


def test_scoped_is_shared_within_a_scope_and_new_across_scopes() -> None:
    container = container_with_basics()
    container.register(Session, scope=Scope.SCOPED)

    with container.scope() as one:
        a, b = one.resolve(Session), one.resolve(Session)
    with container.scope() as two:
        c = two.resolve(Session)

    assert a is b
    assert a is not c
    assert a.settings is c.settings is container.resolve(Settings)


def test_scope_accepts_lifetime_names_as_strings() -> None:
    container = Container()
    container.register(Clock, scope="transient")

    assert container.resolve(Clock) is not container.resolve(Clock)
    assert Scope("scoped") is Scope.SCOPED


def test_scoped_key_outside_a_scope_is_a_clear_error() -> None:
    container = container_with_basics()
    container.register(Session, scope=Scope.SCOPED)

    with pytest.raises(DependencyError, match=r"Session is SCOPED .* inside a scope"):
        container.resolve(Session)


def test_transient_depending_on_scoped_works_only_inside_a_scope() -> None:
    container = container_with_basics()
    container.register(Session, scope=Scope.SCOPED)
    container.register(Repository, scope=Scope.TRANSIENT)
    container.register(UnitOfWork, scope=Scope.SCOPED)

    with container.scope() as scope:
        repo_a, repo_b = scope.resolve(Repository), scope.resolve(Repository)
    assert repo_a is not repo_b
    assert repo_a.uow is repo_b.uow
    with pytest.raises(DependencyError, match=r"UnitOfWork is SCOPED.*Repository"):
        container.resolve(Repository)


# -- providers ------------------------------------------------------------------------


def test_factory_parameters_are_injected_by_annotation() -> None:
    container = container_with_basics()
    container.register(Clock, make_clock, scope=Scope.TRANSIENT)

    clock = container.resolve(Clock)

    assert clock.settings is container.resolve(Settings)  # type: ignore[attr-defined]
    assert container.resolve(Clock) is not clock


def test_factory_with_evaluated_annotations_is_injected() -> None:
    def factory(settings):  # type: ignore[no-untyped-def]  # annotations set below
        return ("built", settings)

    factory.__annotations__ = {"settings": Settings}
    container = container_with_basics()
    container.register(tuple, factory)

    assert container.resolve(tuple) == ("built", container.resolve(Settings))


def test_protocol_key_resolves_to_its_provider() -> None:
    container = container_with_basics()

    jobs = container.resolve(JobService)

    assert isinstance(jobs, InlineJobService)
    assert jobs.dispatch("x") == "job:x"
    assert container.is_registered(JobService)


def test_protocol_key_without_a_provider_is_rejected() -> None:
    container = Container()

    with pytest.raises(DependencyError, match=r"JobService.*needs a provider"):
        container.register(JobService)
    assert not container.is_registered(JobService)


def test_register_instance_returns_that_instance() -> None:
    container = Container()
    settings = Settings()
    container.register_instance(Settings, settings)

    assert container.resolve(Settings) is settings
    assert container.build(InlineJobService).settings is settings


def test_a_later_registration_wins_and_refreshes_dependents() -> None:
    container = container_with_basics()
    old_jobs = container.resolve(JobService)
    container.build(RestockEmailSuccessCallback)
    old_app = container.build(RestockEmailSuccessCallback).app
    new_settings = Settings()

    container.register_instance(Settings, new_settings)

    assert container.resolve(Settings) is new_settings
    assert container.build(RestockEmailSuccessCallback).app is not old_app
    assert container.build(RestockEmailSuccessCallback).app.settings is new_settings
    assert container.resolve(JobService) is not old_jobs
    assert container.resolve(JobService).settings is new_settings  # type: ignore[attr-defined]


def test_is_registered() -> None:
    container = Container()
    container.register(Settings)

    assert container.is_registered(Settings)
    assert not container.is_registered(Clock)


def test_resolving_an_unregistered_key_names_it() -> None:
    with pytest.raises(DependencyError, match=r"^no provider registered for Clock$"):
        Container().resolve(Clock)


# -- build ------------------------------------------------------------------------------


def test_build_injects_an_unregistered_class_with_string_annotations() -> None:
    container = container_with_basics()
    assert CreateUserUseCase.__init__.__annotations__["app"] == "ApplicationInvoker"

    use_case = container.build(CreateUserUseCase)

    assert use_case.app is container.resolve(ApplicationInvoker)
    assert use_case.job_service is container.resolve(JobService)
    assert not container.is_registered(CreateUserUseCase)
    assert container.build(CreateUserUseCase) is not use_case


def test_build_job_callback_like_the_seed() -> None:
    container = container_with_basics()

    callback = container.build(RestockEmailSuccessCallback)

    assert callback.app is container.resolve(ApplicationInvoker)


def test_build_explicit_kwargs_win() -> None:
    container = container_with_basics()
    app = ApplicationInvoker(Settings())

    use_case = container.build(CreateUserUseCase, app=app)

    assert use_case.app is app
    assert use_case.job_service is container.resolve(JobService)


def test_build_explicit_kwargs_replace_even_unresolvable_parameters() -> None:
    container = Container()
    jobs = InlineJobService(Settings())

    app = ApplicationInvoker(Settings())

    use_case = container.build(CreateUserUseCase, app=app, job_service=jobs)

    assert use_case.app is app
    assert use_case.job_service is jobs


def test_build_keeps_defaults_and_ignores_star_parameters() -> None:
    container = container_with_basics()

    built = container.build(WithDefaults)

    assert built.settings is container.resolve(Settings)
    assert built.clock is None  # ``Clock | None`` with no provider -> None
    assert (built.retries, built.label, built.args, built.kwargs) == (3, "default", (), {})


def test_build_uses_a_provider_when_a_defaulted_parameter_has_one() -> None:
    container = container_with_basics()
    container.register(Clock)
    container.register_instance(int, 7)

    built = container.build(WithDefaults)

    assert built.clock is container.resolve(Clock)
    assert built.retries == 7
    assert built.label == "default"


def test_build_missing_dependency_names_class_parameter_and_type() -> None:
    container = Container()
    container.register(ApplicationInvoker)
    container.register(Settings)

    with pytest.raises(DependencyError) as info:
        container.build(CreateUserUseCase)

    assert str(info.value) == (
        "CreateUserUseCase.__init__(job_service: JobService): no provider registered for JobService"
    )


def test_nested_missing_dependency_names_the_chain() -> None:
    container = Container()
    container.register(ApplicationInvoker)
    container.register(JobService, InlineJobService)

    with pytest.raises(DependencyError) as info:
        container.build(CreateUserUseCase)

    message = str(info.value)
    assert message.startswith(
        "ApplicationInvoker.__init__(settings: Settings): no provider registered for Settings"
    )
    assert "CreateUserUseCase -> ApplicationInvoker" in message


def test_build_of_a_protocol_fails_clearly() -> None:
    with pytest.raises(DependencyError, match=r"JobService is a Protocol"):
        Container().build(JobService)  # type: ignore[type-abstract]


def test_build_in_a_scope_prefers_the_scope_values() -> None:
    container = container_with_basics()
    container.build(InlineJobService)  # warm the fast path with the singleton
    own = Settings()

    with container.scope({Settings: own}) as scope:
        in_scope = scope.build(InlineJobService)
    outside = container.build(InlineJobService)

    assert in_scope.settings is own
    assert outside.settings is container.resolve(Settings)


def test_plans_are_computed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    container = container_with_basics()
    container.register(Clock, make_clock, scope=Scope.TRANSIENT)
    container.build(CreateUserUseCase)
    container.resolve(Clock)

    def forbidden(*args: object, **kwargs: object) -> typing.NoReturn:
        raise AssertionError("signature inspected again")

    monkeypatch.setattr(inspect, "signature", forbidden)
    monkeypatch.setattr(typing, "get_type_hints", forbidden)

    assert isinstance(container.build(CreateUserUseCase), CreateUserUseCase)
    assert isinstance(container.resolve(Clock), Clock)
    with container.scope() as scope:
        assert isinstance(scope.build(CreateUserUseCase), CreateUserUseCase)


# -- overrides --------------------------------------------------------------------------


class FakeJobService:
    def dispatch(self, name: str) -> str:
        return f"fake:{name}"


def test_override_with_an_instance_swaps_and_restores() -> None:
    container = container_with_basics()
    real = container.resolve(JobService)
    fake = FakeJobService()

    with container.override(JobService, fake):
        assert container.resolve(JobService) is fake
        assert container.build(CreateUserUseCase).job_service is fake

    assert container.resolve(JobService) is real
    assert container.build(CreateUserUseCase).job_service is real


def test_override_with_a_class_keeps_the_lifetime() -> None:
    container = container_with_basics()
    container.register(Session, scope=Scope.SCOPED)

    class FakeSession:
        def __init__(self, settings: Settings) -> None:
            self.settings = settings

    with container.override(Session, FakeSession), container.scope() as scope:
        fake = scope.resolve(Session)
        assert isinstance(fake, FakeSession)
        assert scope.resolve(Session) is fake
    with container.scope() as scope:
        assert type(scope.resolve(Session)) is Session


def test_override_clears_cached_singletons_of_the_key_and_its_dependents() -> None:
    container = container_with_basics()
    settings = container.resolve(Settings)
    app = container.resolve(ApplicationInvoker)
    other = Settings()

    with container.override(Settings, other):
        assert container.resolve(Settings) is other
        assert container.resolve(ApplicationInvoker).settings is other

    assert container.resolve(Settings) is settings
    assert container.resolve(ApplicationInvoker) is app


def test_override_of_an_unregistered_key_is_removed_on_exit() -> None:
    container = Container()

    with container.override(Clock, make_clock):
        container.register(Settings)
        assert isinstance(container.resolve(Clock), Clock)

    assert not container.is_registered(Clock)


def test_override_restores_even_when_the_block_raises() -> None:
    container = container_with_basics()
    real = container.resolve(JobService)

    with pytest.raises(RuntimeError), container.override(JobService, FakeJobService()):
        raise RuntimeError("boom")

    assert container.resolve(JobService) is real


# -- validate ---------------------------------------------------------------------------


class NeedsUndeclared:
    def __init__(self, clock: Clock, name: str) -> None:
        self.clock = clock


def test_validate_reports_every_problem_at_once() -> None:
    container = Container()
    container.register(ApplicationInvoker)  # needs Settings: missing
    container.register(NeedsUndeclared)  # needs Clock and str: missing

    with pytest.raises(CompilationError) as info:
        container.validate(roots=[CreateUserUseCase, RestockEmailSuccessCallback])

    problems = set(info.value.problems)  # type: ignore[attr-defined]
    assert problems == {
        "ApplicationInvoker.__init__(settings: Settings): no provider registered for Settings",
        "NeedsUndeclared.__init__(clock: Clock): no provider registered for Clock",
        "NeedsUndeclared.__init__(name: str): no provider registered for str",
        "CreateUserUseCase.__init__(job_service: JobService): "
        "no provider registered for JobService",
    }
    for line in problems:
        assert line in str(info.value)


def test_validate_passes_for_a_complete_wiring() -> None:
    container = container_with_basics()
    container.register(Session, scope=Scope.SCOPED)

    container.validate(roots=[CreateUserUseCase, WithDefaults])  # raises on any problem

    assert isinstance(container.build(CreateUserUseCase), CreateUserUseCase)


def test_validate_names_unresolvable_annotations() -> None:
    class Local:
        pass

    class UsesLocal:
        def __init__(self, local: Local) -> None:
            self.local = local

    with pytest.raises(DependencyError, match=r"UsesLocal.*\(local: Local\): cannot resolve"):
        Container().validate(roots=[UsesLocal])


class CycleA:
    def __init__(self, b: CycleB) -> None:
        self.b = b


class CycleB:
    def __init__(self, c: CycleC) -> None:
        self.c = c


class CycleC:
    def __init__(self, a: CycleA) -> None:
        self.a = a


def cycle_container() -> Container:
    container = Container()
    container.register(CycleA)
    container.register(CycleB, scope=Scope.TRANSIENT)
    container.register(CycleC)
    return container


def test_validate_detects_a_cycle_and_names_the_chain() -> None:
    with pytest.raises(DependencyError) as info:
        cycle_container().validate()

    cycles = [p for p in info.value.problems if p.startswith("dependency cycle")]
    assert len(cycles) == 1
    assert cycles[0] == "dependency cycle: CycleA -> CycleB -> CycleC -> CycleA"


def test_resolving_a_cycle_raises_instead_of_recursing() -> None:
    with pytest.raises(DependencyError, match=r"cycle: CycleB -> CycleC -> CycleA -> CycleB"):
        cycle_container().resolve(CycleB)


class SingletonService:
    def __init__(self, session: Session) -> None:
        self.session = session


class SingletonViaTransient:
    def __init__(self, repository: Repository) -> None:
        self.repository = repository


def test_validate_detects_singleton_depending_on_scoped() -> None:
    container = container_with_basics()
    container.register(Session, scope=Scope.SCOPED)
    container.register(SingletonService)
    container.declare_scope_value(UnitOfWork)
    container.register(Repository, scope=Scope.TRANSIENT)
    container.register(SingletonViaTransient)

    with pytest.raises(DependencyError) as info:
        container.validate()

    assert set(info.value.problems) == {
        "SingletonService.__init__(session: Session): scope mismatch: "
        "SINGLETON SingletonService depends on SCOPED Session (SingletonService -> Session)",
        "Repository.__init__(uow: UnitOfWork): scope mismatch: SINGLETON SingletonViaTransient "
        "depends on SCOPED UnitOfWork (SingletonViaTransient -> Repository -> UnitOfWork)",
    }


def test_singleton_depending_on_scoped_fails_at_run_time_too() -> None:
    container = container_with_basics()
    container.register(Session, scope=Scope.SCOPED)
    container.register(SingletonService)

    with (
        container.scope() as scope,
        pytest.raises(DependencyError, match=r"scope mismatch: SINGLETON SingletonService"),
    ):
        scope.resolve(SingletonService)


def test_dependency_error_is_a_compilation_error() -> None:
    error = DependencyError(problems=["a", "b"])

    assert isinstance(error, CompilationError)
    assert isinstance(error, LoomError)
    assert error.code == "dependency_error"
    assert error.problems == ("a", "b")
    assert "2 dependency problems" in str(error)


# -- scopes ---------------------------------------------------------------------------


def make_repository(uow: UnitOfWork) -> Repository:
    return Repository(uow)


def test_scope_values_seed_scoped_factories_and_are_not_closed() -> None:
    container = Container()
    container.declare_scope_value(UnitOfWork)
    container.register(Repository, make_repository, scope=Scope.SCOPED)
    container.validate(roots=[Repository])
    uow = UnitOfWork()

    with container.scope({UnitOfWork: uow}) as scope:
        repo = scope.resolve(Repository)
        assert scope.resolve(UnitOfWork) is uow

    assert repo.uow is uow
    assert not uow.closed


def test_declared_scope_value_missing_from_the_scope_is_a_clear_error() -> None:
    container = Container()
    container.declare_scope_value(UnitOfWork)

    with container.scope() as scope, pytest.raises(DependencyError, match=r"values=\{UnitOfWork"):
        scope.resolve(UnitOfWork)


class Tracker:
    closed: typing.ClassVar[list[str]] = []


class FirstResource:
    def close(self) -> None:
        Tracker.closed.append("first")


class SecondResource:
    def __init__(self, first: FirstResource) -> None:
        self.first = first

    def close(self) -> None:
        Tracker.closed.append("second")


class AsyncResource:
    def __init__(self) -> None:
        self.closed = False

    async def aclose(self) -> None:
        await asyncio.sleep(0)
        self.closed = True


class AsyncCloseResource:
    def __init__(self) -> None:
        self.closed = False

    async def close(self) -> None:
        self.closed = True


@pytest.fixture
def tracker() -> typing.Iterator[list[str]]:
    Tracker.closed = []
    yield Tracker.closed
    Tracker.closed = []


def test_scope_exit_closes_scoped_instances_most_recent_first(tracker: list[str]) -> None:
    container = Container()
    container.register(FirstResource, scope=Scope.SCOPED)
    container.register(SecondResource, scope=Scope.SCOPED)
    container.register(Session, scope=Scope.TRANSIENT)
    container.register(Settings)

    with container.scope() as scope:
        scope.resolve(SecondResource)
        transient = scope.resolve(Session)
        assert tracker == []

    assert tracker == ["second", "first"]
    assert not transient.closed  # transients are the caller's to close
    assert scope.closed
    with pytest.raises(DependencyError, match="closed"):
        scope.resolve(FirstResource)


def test_scope_close_runs_every_hook_even_when_one_fails(tracker: list[str]) -> None:
    class Broken:
        def close(self) -> None:
            raise RuntimeError("close failed")

    container = Container()
    container.register(FirstResource, scope=Scope.SCOPED)
    container.register(Broken, scope=Scope.SCOPED)

    scope = container.scope()
    scope.resolve(FirstResource)
    scope.resolve(Broken)

    with pytest.raises(RuntimeError, match="close failed"):
        scope.close()
    assert tracker == ["first"]


async def test_async_scope_exit_awaits_aclose_and_async_close() -> None:
    container = Container()
    container.register(AsyncResource, scope=Scope.SCOPED)
    container.register(AsyncCloseResource, scope=Scope.SCOPED)
    container.register(Session, scope=Scope.SCOPED)
    container.register(Settings)

    async with container.scope() as scope:
        assert isinstance(scope, ScopeContext)
        resource = await scope.aresolve(AsyncResource)
        other = scope.resolve(AsyncCloseResource)
        session = scope.resolve(Session)

    assert resource.closed
    assert other.closed
    assert session.closed


async def test_sync_close_refuses_to_leak_async_only_resources() -> None:
    container = Container()
    container.register(AsyncResource, scope=Scope.SCOPED)
    scope = container.scope()
    resource = scope.resolve(AsyncResource)

    with pytest.raises(DependencyError, match=r"AsyncResource .*async with"):
        scope.close()
    assert not resource.closed

    await scope.aclose()  # what the sync close could not close is still pending
    assert resource.closed


# -- async providers and concurrency -------------------------------------------------------


class Engine:
    created = 0

    def __init__(self) -> None:
        Engine.created += 1


async def make_engine(settings: Settings) -> Engine:
    await asyncio.sleep(0.01)  # every task gets to ask while the first one is creating
    return Engine()


async def test_concurrent_async_resolution_creates_a_singleton_once() -> None:
    Engine.created = 0
    container = container_with_basics()
    container.register(Engine, make_engine)

    engines = await asyncio.gather(*(container.aresolve(Engine) for _ in range(50)))

    assert Engine.created == 1
    assert all(engine is engines[0] for engine in engines)
    assert container.resolve(Engine) is engines[0]  # cached: the sync path may read it


class UsesEngine:
    def __init__(self, engine: Engine, jobs: JobService) -> None:
        self.engine = engine
        self.jobs = jobs


async def test_concurrent_abuild_in_one_scope_creates_a_scoped_value_once() -> None:
    Engine.created = 0
    container = container_with_basics()
    container.register(Engine, make_engine, scope=Scope.SCOPED)

    async with container.scope() as scope:
        built = await asyncio.gather(*(scope.abuild(UsesEngine) for _ in range(20)))
    async with container.scope() as other:
        again = await other.abuild(UsesEngine)

    assert Engine.created == 2
    assert all(b.engine is built[0].engine for b in built)
    assert again.engine is not built[0].engine


async def test_failed_async_creation_reaches_every_waiter_and_is_retried() -> None:
    calls = 0

    async def flaky() -> Engine:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.01)
        if calls == 1:
            raise RuntimeError("first attempt fails")
        return Engine()

    container = Container()
    container.register(Engine, flaky)

    results = await asyncio.gather(
        *(container.aresolve(Engine) for _ in range(5)), return_exceptions=True
    )
    assert all(isinstance(r, RuntimeError) for r in results)
    assert calls == 1

    engine = await container.aresolve(Engine)
    assert await container.aresolve(Engine) is engine
    assert calls == 2


def test_async_factory_in_sync_resolution_is_a_clear_error() -> None:
    container = container_with_basics()
    container.register(Engine, make_engine)

    with pytest.raises(DependencyError, match=r"async factory make_engine.*aresolve"):
        container.resolve(Engine)
    with pytest.raises(DependencyError, match="async factory"):
        container.build(UsesEngine)


def test_singleton_resolved_from_many_threads_is_created_once() -> None:
    created: list[object] = []

    def slow_factory() -> Clock:
        time.sleep(0.01)
        clock = Clock()
        created.append(clock)
        return clock

    container = Container()
    container.register(Clock, slow_factory)
    results: list[Clock] = []
    threads = [
        threading.Thread(target=lambda: results.append(container.resolve(Clock))) for _ in range(10)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(created) == 1
    assert len(results) == 10
    assert all(r is created[0] for r in results)


def test_reentrant_factory_fails_instead_of_creating_twice() -> None:
    container = Container()
    created: list[Clock] = []

    def reentrant() -> Clock:
        created.append(Clock())
        container.resolve(Clock)  # the factory asks for what it is creating
        return created[-1]

    container.register(Clock, reentrant)

    with pytest.raises(DependencyError, match=r"Clock is already being created"):
        container.resolve(Clock)
    assert len(created) == 1


async def test_reentrant_async_factory_fails_instead_of_deadlocking() -> None:
    container = Container()

    async def reentrant() -> Clock:
        await container.aresolve(Clock)
        return Clock()

    container.register(Clock, reentrant)

    with pytest.raises(DependencyError, match=r"Clock is already being created"):
        await asyncio.wait_for(container.aresolve(Clock), timeout=2)
