"""Micro-benchmark: ``Container.build()`` of a class with 3 dependencies vs the constructor.

Run with ``python tools/bench/di.py``; prints nanoseconds per call and the ratio.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from loom.core.di import Container, Scope

ROUNDS = 5
CALLS = 200_000


class Settings:
    pass


class Clock:
    pass


class Session:
    pass


class Jobs:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings


class UseCase:
    def __init__(self, settings: Settings, clock: Clock, jobs: Jobs) -> None:
        self.settings = settings
        self.clock = clock
        self.jobs = jobs


class ScopedUseCase:
    def __init__(self, settings: Settings, clock: Clock, session: Session) -> None:
        self.settings = settings
        self.clock = clock
        self.session = session


def best_ns(fn: Callable[[], object]) -> float:
    """Return the best of ROUNDS timings, in nanoseconds per call."""
    best = float("inf")
    for _ in range(ROUNDS):
        start = time.perf_counter()
        for _ in range(CALLS):
            fn()
        best = min(best, (time.perf_counter() - start) / CALLS * 1e9)
    return best


def main() -> None:
    container = Container()
    container.register(Settings)
    container.register(Clock)
    container.register(Jobs)
    container.register(Session, scope=Scope.SCOPED)
    settings, clock, jobs = (
        container.resolve(Settings),
        container.resolve(Clock),
        container.resolve(Jobs),
    )

    by_hand = best_ns(lambda: UseCase(settings, clock, jobs))
    built = best_ns(lambda: container.build(UseCase))
    explicit = best_ns(lambda: container.build(UseCase, jobs=jobs))
    resolved = best_ns(lambda: container.resolve(Jobs))
    with container.scope() as scope:
        scope.resolve(Session)
        in_scope = best_ns(lambda: scope.build(ScopedUseCase))

    print(f"constructor by hand            {by_hand:8.0f} ns")
    print(f"container.build (3 singletons) {built:8.0f} ns  ratio {built / by_hand:5.1f}x")
    print(f"container.build (1 explicit)   {explicit:8.0f} ns  ratio {explicit / by_hand:5.1f}x")
    print(f"scope.build (2 single, 1 scoped) {in_scope:6.0f} ns  ratio {in_scope / by_hand:5.1f}x")
    print(f"container.resolve (singleton)  {resolved:8.0f} ns")


if __name__ == "__main__":
    main()
