"""The container: registrations, resolution (sync and async), overrides, validation."""

from __future__ import annotations

import asyncio
import functools
import inspect
import threading
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar, Token
from enum import Enum, auto
from typing import Any, TypeVar, cast

from loom.core.di._plan import (
    MISSING,
    DependencyError,
    Node,
    Param,
    Plan,
    Scope,
    find_problems,
    is_protocol,
    make_plan,
    missing_text,
)
from loom.core.di._plan import type_name as _name
from loom.core.di._scope import ScopeContext

__all__ = ["Container"]

T = TypeVar("T")

Chain = tuple[Any, ...]
"""The keys being created, outermost first: for cycle detection and messages."""


class _Kind(Enum):
    PROVIDER = auto()  # a class or factory to call
    INSTANCE = auto()  # a ready value
    SCOPE_VALUE = auto()  # supplied by each scope's ``values``


class _Registration:
    """One key's provider, lifetime and (for singletons) cached value."""

    __slots__ = ("key", "kind", "plan", "provider", "scope", "value")

    def __init__(
        self,
        key: Hashable,
        kind: _Kind,
        scope: Scope,
        provider: Callable[..., Any] | None = None,
        value: object = MISSING,
    ) -> None:
        self.key = key
        self.kind = kind
        self.scope = scope
        self.provider = provider
        self.value = value
        self.plan: Plan | None = None


class _Template:
    """A class's parameters split for :meth:`Container.build`'s fast path."""

    __slots__ = ("decided", "dynamic", "generation", "plan", "static")

    def __init__(
        self,
        plan: Plan,
        generation: int,
        static: dict[str, object],
        decided: frozenset[Hashable],
        dynamic: tuple[Param, ...],
    ) -> None:
        self.plan = plan
        self.generation = generation  # -1: recompute on next use
        self.static = static  # name -> cached singleton (or None for an unprovided optional)
        self.decided = decided  # keys of the static parameters and of the defaults kept
        self.dynamic = dynamic  # resolved on every build

    @property
    def label(self) -> str:
        return self.plan.label


_NO_VALUES: Mapping[Hashable, object] = {}
"""The (empty) scope cache used outside any scope."""

_CREATING: ContextVar[frozenset[tuple[int, _Registration]]] = ContextVar(
    "loom_di_creating", default=frozenset()
)
"""(owner id, registration) pairs being created by the current task or thread."""


class Container:
    """Constructor injection by type annotation, with singleton, scoped and transient lifetimes.

    Keys are types (classes, Protocols, generic aliases). A provider is a class, whose
    ``__init__`` parameters are injected by annotation, or a factory function, whose
    parameters are injected the same way; ``async def`` factories are resolved with
    :meth:`aresolve`/:meth:`abuild`. Each provider's plan is computed once and cached.

    Failures raise :class:`DependencyError` (a :class:`~loom.core.errors.CompilationError`)
    naming the class, the parameter and its type.

    Example:
        >>> container = Container()
        >>> container.register(JobService, InlineJobService)
        >>> use_case = container.build(DispatchRestockEmailUseCase)
    """

    def __init__(self) -> None:
        self._registrations: dict[Hashable, _Registration] = {}
        self._plans: dict[object, Plan] = {}
        self._lock = threading.RLock()
        self._pending: dict[object, asyncio.Future[object]] = {}
        self._templates: dict[type[Any], _Template] = {}
        self._generation = 0  # bumped whenever a registration or cached singleton changes

    # -- registration -------------------------------------------------------------------

    def register(
        self,
        key: Callable[..., T],
        provider: Callable[..., Any] | None = None,
        *,
        scope: Scope | str = Scope.SINGLETON,
    ) -> None:
        """Register how to create ``key``; a later registration of the same key wins.

        Args:
            key: The type asked for (a class, Protocol or generic alias).
            provider: A class or factory returning the instance; ``None`` means ``key``.
            scope: The lifetime of the instances.

        Raises:
            DependencyError: ``key`` cannot be its own provider, or ``provider`` is not callable.

        """
        lifetime = Scope(scope)
        if provider is None and (not isinstance(key, type) or is_protocol(key)):
            raise DependencyError(
                f"register({_name(key)}): a Protocol or non-class key needs a provider"
            )
        target = key if provider is None else provider
        if not callable(target):
            raise DependencyError(f"register({_name(key)}): provider {target!r} is not callable")
        self._put(_Registration(key, _Kind.PROVIDER, lifetime, target))

    def register_instance(self, key: Callable[..., T], instance: T) -> None:
        """Register a ready ``instance`` as the singleton value of ``key``."""
        self._put(_Registration(key, _Kind.INSTANCE, Scope.SINGLETON, value=instance))

    def declare_scope_value(self, key: Callable[..., object]) -> None:
        """Declare that each scope supplies ``key`` in its ``values`` (e.g. a unit of work).

        Dependencies on ``key`` then pass :meth:`validate`, count as SCOPED for the
        scope-mismatch check, and fail clearly in a scope opened without it.
        """
        self._put(_Registration(key, _Kind.SCOPE_VALUE, Scope.SCOPED))

    def is_registered(self, key: Callable[..., object]) -> bool:
        """Return whether ``key`` has a registration (provider, instance or scope value)."""
        return key in self._registrations

    def _put(self, registration: _Registration) -> None:
        with self._lock:
            self._generation += 1
            self._registrations[registration.key] = registration
            for dependent in self._cached_dependents(registration.key):
                dependent.value = MISSING

    # -- public resolution --------------------------------------------------------------

    def resolve(self, key: Callable[..., T]) -> T:
        """Return the instance for a SINGLETON or TRANSIENT ``key`` (outside any scope).

        Raises:
            DependencyError: No provider, a cycle, a SCOPED key, or an async provider.

        """
        value: T = self._resolve_in(key, None)
        return value

    async def aresolve(self, key: Callable[..., T]) -> T:
        """Like :meth:`resolve`, awaiting ``async def`` factories; each is created once."""
        value: T = await self._aresolve_in(key, None)
        return value

    def build(self, cls: type[T], /, **explicit: object) -> T:
        """Instantiate ``cls`` (registered or not), injecting its ``__init__`` parameters.

        Explicit keyword arguments win; a parameter with a default keeps it when its type
        has no provider; ``*args``/``**kwargs`` are ignored.

        Raises:
            DependencyError: A required parameter cannot be resolved.

        """
        built: T = self._build_in(cls, None, explicit)
        return built

    async def abuild(self, cls: type[T], /, **explicit: object) -> T:
        """Like :meth:`build`, awaiting ``async def`` factories among the dependencies."""
        built: T = await self._abuild_in(cls, None, explicit)
        return built

    def scope(self, values: Mapping[Any, object] | None = None) -> ScopeContext:
        """Open a scope (one unit of work) with its own cache of SCOPED instances.

        Args:
            values: Per-scope objects resolvable in the scope, e.g. ``{UnitOfWork: uow}``.

        """
        return ScopeContext(self, values)

    # -- sync engine ---------------------------------------------------------------------

    def _resolve_in(self, key: Hashable, scope: ScopeContext | None) -> Any:
        value = self._get(key, scope, ())
        if value is MISSING:
            raise DependencyError(f"no provider registered for {_name(key)}")
        return value

    def _build_in(
        self, cls: type[Any], scope: ScopeContext | None, explicit: dict[str, object]
    ) -> Any:
        template = self._templates.get(cls)
        if template is None or template.generation != self._generation:
            template = self._template(cls)
        if scope is not None and not template.decided.isdisjoint(scope._cache):
            # The scope supplies a key the template decided without it: take the long way.
            return cls(**self._fill(dict(explicit), template.plan.params, scope, (cls,), template))
        if not template.dynamic:
            return cls(**{**template.static, **explicit}) if explicit else cls(**template.static)
        kwargs = {**template.static, **explicit} if explicit else dict(template.static)
        return cls(**self._fill(kwargs, template.dynamic, scope, (cls,), template))

    def _template(self, cls: type[Any]) -> _Template:
        """Split ``cls``'s parameters: values fixed until a registration changes, the rest."""
        plan = self._plans.get(cls)
        if plan is None:
            plan = self._plan_of(cls)
        if plan.problems:
            raise DependencyError(problems=plan.problems)
        static: dict[str, object] = {}
        decided: set[Hashable] = set()
        dynamic: list[Param] = []
        complete = True
        for param in plan.params:
            registration = self._registrations.get(param.key)
            if registration is None:
                if param.default is not MISSING or param.optional:
                    decided.add(param.key)
                    if param.default is MISSING:
                        static[param.name] = None
                    continue
            elif registration.scope is Scope.SINGLETON:
                if registration.value is not MISSING:
                    decided.add(param.key)
                    static[param.name] = registration.value
                    continue
                complete = False  # created by the next build: recompute the template then
            dynamic.append(param)
        generation = self._generation if complete else -1
        template = _Template(plan, generation, static, frozenset(decided), tuple(dynamic))
        self._templates[cls] = template
        return template

    def _get(self, key: Hashable, scope: ScopeContext | None, chain: Chain) -> object:
        """Return the value for ``key``, or MISSING when nothing provides it."""
        if scope is not None:
            value = scope._cache.get(key, MISSING)
            if value is not MISSING:
                return value
        registration = self._registrations.get(key)
        if registration is None:
            return MISSING
        value = registration.value
        return self._provide(registration, scope, chain) if value is MISSING else value

    def _provide(
        self, registration: _Registration, scope: ScopeContext | None, chain: Chain
    ) -> object:
        """Create (and cache, per lifetime) the value of a key that has no cached value."""
        lifetime = registration.scope
        if lifetime is Scope.SINGLETON:
            return self._create_singleton(registration, chain)
        if lifetime is Scope.TRANSIENT:
            return self._instantiate(registration, scope, chain)
        if scope is None:
            raise self._outside_scope(registration, chain)
        return self._create_scoped(registration, scope, chain)

    def _fill(
        self,
        kwargs: dict[str, object],
        params: tuple[Param, ...],
        scope: ScopeContext | None,
        chain: Chain,
        plan: Plan | _Template,
    ) -> dict[str, object]:
        """Resolve ``params`` into ``kwargs`` (names already there are left alone)."""
        # The hot path: _get inlined, since it runs for every parameter of every build.
        cache = _NO_VALUES if scope is None else scope._cache
        registrations = self._registrations
        for param in params:
            name = param.name
            if name in kwargs:
                continue
            value = cache.get(param.key, MISSING)
            if value is MISSING:
                registration = registrations.get(param.key)
                if registration is not None:
                    value = registration.value
                    if value is MISSING:
                        value = self._provide(registration, scope, chain)
                elif param.default is not MISSING:
                    continue
                elif param.optional:
                    value = None
                else:
                    raise DependencyError(missing_text(plan.label, param) + _via(chain))
            kwargs[name] = value
        return kwargs

    def _instantiate(
        self, registration: _Registration, scope: ScopeContext | None, chain: Chain
    ) -> object:
        key = registration.key
        if key in chain:
            raise _cycle(key, chain)
        plan = registration.plan or self._plan_for(registration)
        if plan.problems or plan.is_async:
            raise _unusable(plan, key)
        return plan.target(**self._fill({}, plan.params, scope, (*chain, key), plan))

    def _create_singleton(self, registration: _Registration, chain: Chain) -> object:
        with self._lock:
            value = registration.value
            if value is not MISSING:
                return value
            if registration.key in chain:
                raise _cycle(registration.key, chain)
            if registration in self._pending:
                raise _busy(registration.key)
            token = _guard((0, registration))
            try:
                value = self._instantiate(registration, None, chain)
            finally:
                _CREATING.reset(token)
            registration.value = value
            return value

    def _create_scoped(
        self, registration: _Registration, scope: ScopeContext, chain: Chain
    ) -> object:
        if registration.kind is _Kind.SCOPE_VALUE:
            raise _not_seeded(registration.key)
        if registration.key in chain:
            raise _cycle(registration.key, chain)
        if registration in scope._pending:
            raise _busy(registration.key)
        token = _guard((id(scope), registration))
        try:
            value = self._instantiate(registration, scope, chain)
        finally:
            _CREATING.reset(token)
        scope._cache[registration.key] = value
        scope._created.append(value)
        return value

    # -- async engine --------------------------------------------------------------------

    async def _aresolve_in(self, key: Hashable, scope: ScopeContext | None) -> Any:
        value = await self._aget(key, scope, ())
        if value is MISSING:
            raise DependencyError(f"no provider registered for {_name(key)}")
        return value

    async def _abuild_in(
        self, cls: type[Any], scope: ScopeContext | None, explicit: dict[str, object]
    ) -> Any:
        plan = self._plans.get(cls)
        if plan is None:
            plan = self._plan_of(cls)
        if plan.problems:
            raise DependencyError(problems=plan.problems)
        return cls(**await self._akwargs(plan, scope, (cls,), explicit))

    async def _aget(self, key: Hashable, scope: ScopeContext | None, chain: Chain) -> object:
        if scope is not None:
            value = scope._cache.get(key, MISSING)
            if value is not MISSING:
                return value
        registration = self._registrations.get(key)
        if registration is None:
            return MISSING
        lifetime = registration.scope
        if lifetime is Scope.SINGLETON:
            value = registration.value
            return (
                await self._acreate_once(registration, None, chain) if value is MISSING else value
            )
        if lifetime is Scope.TRANSIENT:
            return await self._ainstantiate(registration, scope, chain)
        if scope is None:
            raise self._outside_scope(registration, chain)
        if registration.kind is _Kind.SCOPE_VALUE:
            raise _not_seeded(registration.key)
        return await self._acreate_once(registration, scope, chain)

    async def _akwargs(
        self,
        plan: Plan,
        scope: ScopeContext | None,
        chain: Chain,
        explicit: dict[str, object] | None,
    ) -> dict[str, object]:
        kwargs = dict(explicit) if explicit else {}
        for param in plan.params:
            if param.name in kwargs:
                continue
            value = await self._aget(param.key, scope, chain)
            if value is MISSING:
                if param.default is not MISSING:
                    continue
                if not param.optional:
                    raise DependencyError(missing_text(plan.label, param) + _via(chain))
                value = None
            kwargs[param.name] = value
        return kwargs

    async def _ainstantiate(
        self, registration: _Registration, scope: ScopeContext | None, chain: Chain
    ) -> object:
        key = registration.key
        if key in chain:
            raise _cycle(key, chain)
        plan = registration.plan or self._plan_for(registration)
        if plan.problems:
            raise _unusable(plan, key)
        value = plan.target(**await self._akwargs(plan, scope, (*chain, key), None))
        return await value if plan.is_async else value

    async def _acreate_once(
        self, registration: _Registration, scope: ScopeContext | None, chain: Chain
    ) -> object:
        """Create a singleton (``scope`` None) or scoped value once, however many tasks ask."""
        if registration.key in chain:
            raise _cycle(registration.key, chain)
        pending = self._pending if scope is None else scope._pending
        marker = (0 if scope is None else id(scope), registration)
        while True:
            value = _cached(registration, scope)
            if value is not MISSING:
                return value
            future = pending.get(registration)
            if future is None:
                break
            if marker in _CREATING.get():
                raise _reentrant(registration.key)
            await asyncio.wait([future])
            if not future.cancelled() and (error := future.exception()) is not None:
                raise error
        future = asyncio.get_running_loop().create_future()
        pending[registration] = future
        token = _guard(marker)
        try:
            value = await self._ainstantiate(registration, scope, chain)
        except Exception as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: waiters re-raise it, no "never retrieved" log
            raise
        except BaseException:
            future.cancel()  # waiters retry the creation themselves
            raise
        finally:
            _CREATING.reset(token)
            del pending[registration]
        if scope is None:
            registration.value = value
        else:
            scope._cache[registration.key] = value
            scope._created.append(value)
        future.set_result(value)
        return value

    # -- overrides -------------------------------------------------------------------------

    @contextmanager
    def override(self, key: Callable[..., T], provider_or_instance: object) -> Iterator[None]:
        """Swap the registration of ``key`` for the ``with`` block (for tests).

        A class, function or :func:`functools.partial` becomes the provider (keeping the
        key's lifetime); anything else is used as the instance. Cached singletons of the
        key and of everything that depends on it are set aside while overridden and
        restored on exit.

        Example:
            >>> with container.override(JobService, FakeJobService()):
            ...     use_case = container.build(DispatchRestockEmailUseCase)
        """
        with self._lock:
            previous = self._registrations.get(key)
            replacement = _replacement(key, provider_or_instance, previous)
            saved = {reg: reg.value for reg in self._cached_dependents(key)}
            for reg in saved:
                reg.value = MISSING
            self._registrations[key] = replacement
            self._generation += 1
        try:
            yield
        finally:
            with self._lock:
                if previous is None:
                    self._registrations.pop(key, None)
                else:
                    self._registrations[key] = previous
                for reg in self._cached_dependents(key):
                    reg.value = MISSING
                for reg, value in saved.items():
                    reg.value = value
                self._generation += 1

    def _cached_dependents(self, key: Hashable) -> list[_Registration]:
        """Cached singletons whose dependencies reach ``key``, directly or not."""
        return [
            reg
            for reg in self._registrations.values()
            if reg.kind is _Kind.PROVIDER
            and reg.value is not MISSING
            and reg.key != key
            and self._reaches(reg, key, set())
        ]

    def _reaches(self, registration: _Registration, target: Hashable, seen: set[Hashable]) -> bool:
        for param in self._plan_for(registration).params:
            if param.key is None or param.key in seen:
                continue
            if param.key == target:
                return True
            seen.add(param.key)
            dep = self._registrations.get(param.key)
            if dep is not None and dep.kind is _Kind.PROVIDER and self._reaches(dep, target, seen):
                return True
        return False

    # -- validation -----------------------------------------------------------------------

    def validate(self, roots: Iterable[type] = ()) -> None:
        """Check every registration and root class; report every problem at once.

        Finds parameters nothing provides, dependency cycles, and SINGLETONs that depend
        (directly or through TRANSIENTs) on SCOPED keys.

        Args:
            roots: Classes that will be built with :meth:`build` (use cases, callbacks).

        Raises:
            DependencyError: One error listing every problem, one per line.

        """
        nodes = {
            key: Node(
                registration.scope,
                self._plan_for(registration) if registration.kind is _Kind.PROVIDER else None,
            )
            for key, registration in list(self._registrations.items())
        }
        root_plans: dict[Hashable, Plan] = {
            root: self._plan_of(root) for root in roots if root not in nodes
        }
        problems = find_problems(nodes, root_plans)
        if problems:
            lines = "\n".join(f"  - {p}" for p in problems)
            raise DependencyError(
                f"dependency injection: {len(problems)} problem(s) found:\n{lines}",
                problems=problems,
            )

    # -- plans and messages ---------------------------------------------------------------

    def _plan_of(self, provider: Callable[..., Any]) -> Plan:
        plan = self._plans.get(provider)
        if plan is None:
            plan = self._plans[provider] = make_plan(provider)
        return plan

    def _plan_for(self, registration: _Registration) -> Plan:
        plan = registration.plan
        if plan is None:
            if registration.provider is None:
                return Plan(type, _name(registration.key), (), False)
            plan = registration.plan = self._plan_of(registration.provider)
        return plan

    def _outside_scope(self, registration: _Registration, chain: Chain) -> DependencyError:
        name = _name(registration.key)
        for index in range(len(chain) - 1, -1, -1):
            owner = self._registrations.get(chain[index])
            if owner is not None and owner.scope is Scope.SINGLETON:
                via = " -> ".join(_name(k) for k in (*chain[index:], registration.key))
                return DependencyError(
                    f"scope mismatch: SINGLETON {_name(owner.key)} depends on SCOPED {name} ({via})"
                )
        return DependencyError(
            f"{name} is SCOPED and can only be resolved inside a scope: "
            f"`with container.scope() as scope: scope.resolve({name})`"
            + (f" (required by {' -> '.join(_name(k) for k in chain)})" if chain else "")
        )


def _cached(registration: _Registration, scope: ScopeContext | None) -> object:
    if scope is None:
        return registration.value
    return scope._cache.get(registration.key, MISSING)


def _guard(marker: tuple[int, _Registration]) -> Token[frozenset[tuple[int, _Registration]]]:
    active = _CREATING.get()
    if marker in active:
        raise _reentrant(marker[1].key)
    return _CREATING.set(active | {marker})


def _replacement(key: Hashable, value: object, previous: _Registration | None) -> _Registration:
    if isinstance(value, type | functools.partial) or inspect.isroutine(value):
        lifetime = Scope.SINGLETON
        if previous is not None and previous.kind is _Kind.PROVIDER:
            lifetime = previous.scope
        return _Registration(key, _Kind.PROVIDER, lifetime, cast(Callable[..., Any], value))
    return _Registration(key, _Kind.INSTANCE, Scope.SINGLETON, value=value)


def _via(chain: Chain) -> str:
    if len(chain) < 2:
        return ""
    return f" (while resolving {' -> '.join(_name(k) for k in chain)})"


def _cycle(key: Hashable, chain: Chain) -> DependencyError:
    cycle = (*chain[chain.index(key) :], key)
    return DependencyError(f"dependency cycle: {' -> '.join(_name(k) for k in cycle)}")


def _unusable(plan: Plan, key: Hashable) -> DependencyError:
    if plan.problems:
        return DependencyError(problems=plan.problems)
    return DependencyError(
        f"{_name(key)} is created by async factory {plan.label}: "
        "use `await aresolve(...)` or `await abuild(...)`"
    )


def _not_seeded(key: Hashable) -> DependencyError:
    name = _name(key)
    return DependencyError(
        f"{name} is supplied per scope, but this scope was opened without it: "
        f"pass `container.scope(values={{{name}: ...}})`"
    )


def _busy(key: Hashable) -> DependencyError:
    return DependencyError(
        f"{_name(key)} is being created asynchronously right now: use `await aresolve(...)`"
    )


def _reentrant(key: Hashable) -> DependencyError:
    return DependencyError(
        f"{_name(key)} is already being created: its provider resolves it again (re-entrancy)"
    )
