"""The generated per-plan runners: same answers on every path, readable tracebacks."""

from __future__ import annotations

import traceback
from typing import Any

import pytest

from loom.core.application import Application
from loom.core.command import Command
from loom.core.engine import compile_use_case
from loom.core.errors import NotFound, RuleViolations
from loom.core.testing import InMemoryDatabase, InMemoryUnitOfWorkFactory
from loom.core.use_case import Exists, F, Input, LoadById, OnMissing, Rule
from loom.core.use_case.use_case import UseCase

from .seed.models import User


class Probe(Command, frozen=True):
    email: str
    run: int = 0


def _explode(value: int) -> None:
    raise RuntimeError(f"via failed on {value}")


class Lookup(UseCase[User, dict[str, Any]]):
    """Names that a generated function could confuse with its own locals."""

    read_only = True
    rules = (
        Rule.check(F(Probe).run, via=lambda run: run < 0, message="run must not be negative"),
        Rule.forbid(
            lambda cmd, values, uow: values["errors"] == 99, message="errors may not be 99"
        ).from_params("uow"),
    )

    async def execute(
        self,
        uow: int,
        errors: int = 0,
        cmd: Probe = Input(),
        values: User = LoadById(User, by="uow"),
        missing: User | None = LoadById(User, by="errors", on_missing=OnMissing.RETURN_NONE),
        known: bool = Exists(User, from_command="email", against="email"),
        absent: bool | None = Exists(
            User, from_param="errors", against="id", on_missing=OnMissing.RETURN_NONE
        ),
    ) -> dict[str, Any]:
        return {
            "uow": uow,
            "errors": errors,
            "run": cmd.run,
            "values": values.full_name,
            "missing": missing,
            "known": known,
            "absent": absent,
        }


class Exploding(UseCase[User, None]):
    rules = (Rule.check(F(Probe).run, via=_explode),)

    async def execute(self, cmd: Probe = Input()) -> None:
        return None


def _concurrent(factory: InMemoryUnitOfWorkFactory) -> Any:
    def open_uow(*, read_only: bool = False) -> Any:
        uow = factory(read_only=read_only)
        uow.concurrent_reads = True  # type: ignore[attr-defined]
        return uow

    return open_uow


@pytest.fixture(params=["serial", "concurrent"])
async def app(request: pytest.FixtureRequest) -> Application:
    factory = InMemoryUnitOfWorkFactory(InMemoryDatabase(User))
    async with factory() as uow:
        await uow.repository(User).create({"full_name": "Ada", "email": "ada@x.io"})
    return Application(factory if request.param == "serial" else _concurrent(factory))


async def test_loads_and_checks_give_the_same_answers_on_both_paths(app: Application) -> None:
    result = await app.invoker.invoke(
        Lookup, params={"uow": "1", "errors": 7}, payload={"email": "ada@x.io", "run": 2}
    )
    assert result == {
        "uow": 1,
        "errors": 7,
        "run": 2,
        "values": "Ada",
        "missing": None,
        "known": True,
        "absent": None,
    }


async def test_a_missing_required_load_raises_on_both_paths(app: Application) -> None:
    with pytest.raises(NotFound) as caught:
        await app.invoker.invoke(Lookup, params={"uow": 5}, payload={"email": "x@x.io"})
    assert (caught.value.entity, caught.value.id) == ("User", 5)


async def test_rules_see_values_by_parameter_name(app: Application) -> None:
    with pytest.raises(RuleViolations) as caught:
        await app.invoker.invoke(
            Lookup, params={"uow": 1, "errors": 99}, payload={"email": "a@x.io", "run": -1}
        )
    messages = sorted(v.message for v in caught.value.violations)
    assert messages == ["errors may not be 99", "run must not be negative"]


async def test_a_traceback_through_a_runner_shows_its_source(app: Application) -> None:
    with pytest.raises(RuntimeError) as caught:
        await app.invoker.invoke(Exploding, payload={"email": "a@x.io", "run": 3})
    text = "".join(traceback.format_exception(caught.value))
    assert "<loom plan " in text
    assert "Exploding" in text
    assert "result = VIA_" in text  # the generated line, not a blank


def test_each_plan_carries_its_runner_built_at_compile_time() -> None:
    plan = compile_use_case(Lookup)
    assert plan.runner is not None
    assert plan.runner.__name__ == "run_Lookup"
    assert compile_use_case(Lookup).runner is plan.runner
