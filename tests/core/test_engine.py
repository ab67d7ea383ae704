"""The use-case engine through the public API, on the seed examples and the in-memory store."""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec
import pytest

from loom.core.application import Application
from loom.core.command import Command, Patch
from loom.core.engine import compile_use_case, current_unit_of_work
from loom.core.errors import CompilationError, NotFound, RuleViolations, ValidationError
from loom.core.repository.abc.query import PageResult, PaginationMode, QuerySpec
from loom.core.testing import InMemoryDatabase, InMemoryUnitOfWorkFactory
from loom.core.testing.jobs import RecordingJobService
from loom.core.use_case import Exists, F, Input, LoadById, Rule
from loom.core.use_case.invoker import ApplicationInvoker
from loom.core.use_case.use_case import UseCase

from .seed.jobs import RestockEmailSuccessCallback, SendRestockEmailJob
from .seed.models import Address, Product, Record, User
from .seed.use_cases import (
    BuildProductSummaryUseCase,
    CreateAddressUseCase,
    CreateProductUseCase,
    CreateUserUseCase,
    DispatchRestockEmailUseCase,
    ListAddressesUseCase,
    ListLowStockProductsUseCase,
    PricingPreviewUseCase,
    RestockWorkflowUseCase,
    UpdateUserUseCase,
)


class PairCmd(Command, frozen=True):
    a: int
    b: Patch[int] = None


class XYCmd(Command, frozen=True):
    x: Patch[int] = None
    y: Patch[int] = None


class Boom(Command, frozen=True):
    sku: str


@pytest.fixture
def jobs() -> RecordingJobService:
    return RecordingJobService()


@pytest.fixture
def app(jobs: RecordingJobService) -> Application:
    db = InMemoryDatabase(User, Address, Product, Record)
    return Application(InMemoryUnitOfWorkFactory(db), job_service=jobs)


async def create_user(app: Application, name: str = "Ada", email: str = "ada@example.com") -> User:
    user: User = await app.invoker.invoke(
        CreateUserUseCase, payload={"full_name": name, "email": email}
    )
    return user


async def create_product(app: Application, sku: str = "SKU-1", stock: int = 0) -> Product:
    product: Product = await app.invoker.invoke(
        CreateProductUseCase,
        payload={
            "sku": sku,
            "name": "Lamp",
            "category": "home",
            "price_cents": 990,
            "stock": stock,
        },
    )
    return product


# --- seed use cases ---------------------------------------------------------------------


async def test_create_user_runs_rules_then_execute(app: Application) -> None:
    user = await create_user(app)
    assert user.id == 1
    assert user.email == "ada@example.com"
    assert user.created_at.tzinfo is not None


async def test_all_rule_violations_are_reported_together(app: Application) -> None:
    with pytest.raises(RuleViolations) as info:
        await app.invoker.invoke(CreateUserUseCase, payload={"full_name": "  ", "email": "nope"})
    assert [(e.field, e.message) for e in info.value.errors] == [
        ("full_name", "full_name must not be blank"),
        ("email", "email must be valid"),
    ]


async def test_exists_from_command_feeds_a_forbid_rule(app: Application) -> None:
    await create_user(app)
    with pytest.raises(RuleViolations) as info:
        await create_user(app, name="Other")
    assert [(e.field, e.message) for e in info.value.errors] == [
        ("email_exists", "email already exists")
    ]


async def test_execute_is_not_called_when_a_rule_fails(app: Application) -> None:
    with pytest.raises(RuleViolations):
        await app.invoker.invoke(CreateUserUseCase, payload={"full_name": " ", "email": "a@b.co"})
    page = await app.invoker.entity(User).list()
    assert page.total_count == 0


async def test_load_by_id_raises_not_found_for_a_missing_entity(app: Application) -> None:
    with pytest.raises(NotFound, match="User 99 not found"):
        await app.invoker.invoke(UpdateUserUseCase, params={"user_id": 99}, payload={})


async def test_when_present_skips_a_rule_for_absent_patch_fields(app: Application) -> None:
    user = await create_user(app)
    updated = await app.invoker.invoke(
        UpdateUserUseCase, params={"user_id": user.id}, payload={"email": "new@example.com"}
    )
    assert (updated.full_name, updated.email) == ("Ada", "new@example.com")
    with pytest.raises(RuleViolations, match="must not be blank"):
        await app.invoker.invoke(
            UpdateUserUseCase, params={"user_id": user.id}, payload={"full_name": " "}
        )


async def test_path_params_are_coerced_by_annotation(app: Application) -> None:
    user = await create_user(app)
    updated = await app.invoker.invoke(
        UpdateUserUseCase, params={"user_id": str(user.id)}, payload={"full_name": "Ada L."}
    )
    assert updated.full_name == "Ada L."


async def test_bad_params_and_payload_are_reported_together(app: Application) -> None:
    with pytest.raises(ValidationError) as info:
        await app.invoker.invoke(UpdateUserUseCase, params={"user_id": "x"}, payload={"email": 3})
    fields = {e.field for e in info.value.errors}
    assert fields == {"user_id", "email"}


async def test_a_missing_parameter_is_a_validation_error(app: Application) -> None:
    with pytest.raises(ValidationError) as info:
        await app.invoker.invoke(UpdateUserUseCase, payload={})
    assert info.value.errors[0].field == "user_id"


async def test_command_lengths_follow_the_model_columns(app: Application) -> None:
    with pytest.raises(ValidationError) as info:
        await create_user(app, name="x" * 121)
    assert info.value.errors[0].field == "full_name"
    assert "at most 120" in info.value.errors[0].message


async def test_exists_from_param_with_raise_guards_a_nested_resource(app: Application) -> None:
    body = {"label": "home", "street": "1 Main", "city": "X", "country": "Y", "zip_code": "00100"}
    with pytest.raises(NotFound):
        await app.invoker.invoke(CreateAddressUseCase, params={"user_id": 5}, payload=body)
    user = await create_user(app)
    address = await app.invoker.invoke(
        CreateAddressUseCase, params={"user_id": user.id}, payload=body
    )
    assert (address.user_id, address.zip_code) == (user.id, "00100")
    page = await app.invoker.invoke(
        ListAddressesUseCase, params={"user_id": user.id, "query": QuerySpec(limit=10)}
    )
    assert [a.id for a in page.items] == [address.id]


async def test_structured_queries_run_against_the_repository(app: Application) -> None:
    await create_product(app, "A", stock=9)
    await create_product(app, "B", stock=3)
    await create_product(app, "C", stock=1)
    page = await app.invoker.invoke(ListLowStockProductsUseCase)
    assert isinstance(page, PageResult)
    assert [p.sku for p in page.items] == ["C", "B"]


async def test_computes_run_in_order_before_rules(app: Application) -> None:
    result = await app.invoker.invoke(
        PricingPreviewUseCase,
        params={"record_id": 4},
        payload={"email": "  Ada@X.io ", "unit_price": 10.0, "quantity": 3, "country": "ES"},
    )
    assert result.normalized_email == "ada@x.io"
    assert result.subtotal == 30.0
    assert result.tax_amount == pytest.approx(6.3)
    with pytest.raises(RuleViolations) as info:
        await app.invoker.invoke(
            PricingPreviewUseCase,
            params={"record_id": 4},
            payload={"email": "a", "unit_price": 0, "quantity": 1, "country": "XX"},
        )
    assert [e.message for e in info.value.errors] == [
        "unit_price must be > 0",
        "Unsupported country",
    ]


# --- transactions and jobs ----------------------------------------------------------------


async def test_a_dispatch_is_sent_only_after_commit(
    app: Application, jobs: RecordingJobService
) -> None:
    product = await create_product(app)
    response = await app.invoker.invoke(
        DispatchRestockEmailUseCase,
        params={"product_id": str(product.id)},
        payload={"recipient_email": "ops@example.com"},
    )
    (sent,) = jobs.jobs(SendRestockEmailJob)
    assert (sent.job_id, sent.queue) == (response.job_id, "notifications")
    assert sent.payload["recipient_email"] == "ops@example.com"
    assert sent.on_success is RestockEmailSuccessCallback


async def test_a_failed_use_case_leaves_no_write_and_dispatches_nothing(
    app: Application, jobs: RecordingJobService
) -> None:
    class CreateThenFail(UseCase[Product, None]):
        def __init__(self, job_service: RecordingJobService) -> None:
            self.jobs = job_service

        async def execute(self, cmd: Boom = Input()) -> None:
            await self.main_repo.create(
                {"sku": cmd.sku, "name": "n", "category": "c", "price_cents": 1, "stock": 0}
            )
            self.jobs.dispatch(SendRestockEmailJob, params={"product_id": 1})
            raise RuntimeError("boom")

    app.container.register_instance(RecordingJobService, jobs)
    with pytest.raises(RuntimeError, match="boom"):
        await app.invoker.invoke(CreateThenFail, payload={"sku": "Z"})
    assert jobs.dispatched == []
    assert (await app.invoker.entity(Product).list()).total_count == 0


async def test_nested_invokes_share_the_unit_of_work(
    app: Application, jobs: RecordingJobService
) -> None:
    product = await create_product(app, stock=0)
    result = await app.invoker.invoke(
        RestockWorkflowUseCase,
        params={"product_id": str(product.id)},
        payload={"recipient_email": "ops@example.com"},
    )
    assert result.summary == "SKU-1 (Lamp) is out of stock."
    assert [d.job_id for d in jobs.dispatched] == [result.restock_job_id]

    seen: list[Any] = []

    class Inner(UseCase[Product, None]):
        async def execute(self) -> None:
            seen.append(current_unit_of_work())

    class Outer(UseCase[Product, None]):
        def __init__(self, app: Any) -> None:
            self.app = app

        async def execute(self) -> None:
            seen.append(current_unit_of_work())
            await self.app.invoke(Inner)

    Outer.__init__.__annotations__["app"] = ApplicationInvoker
    await app.invoker.invoke(Outer)
    assert seen[0] is seen[1] is not None
    assert current_unit_of_work() is None


async def test_read_only_use_cases_open_a_read_only_unit_of_work(app: Application) -> None:
    product = await create_product(app)
    opened: list[bool] = []
    factory = app.uow_factory

    def spy(*, read_only: bool = False) -> Any:
        opened.append(read_only)
        return factory(read_only=read_only)

    app.executor._uow_factory = spy  # type: ignore[assignment]
    await app.invoker.invoke(BuildProductSummaryUseCase, params={"product_id": product.id})
    await app.invoker.invoke(CreateProductUseCase, payload={
        "sku": "S2", "name": "n", "category": "c", "price_cents": 1, "stock": 1,
    })  # fmt: skip
    assert opened == [True, False]


async def test_callbacks_are_built_by_di_and_use_the_invoker(app: Application) -> None:
    product = await create_product(app)
    callback = app.container.build(RestockEmailSuccessCallback)
    await callback.on_success("job-1", True, product_id=product.id)
    reloaded = await app.invoker.entity(Product).get(params={"id": product.id})
    assert reloaded is not None
    assert reloaded.category == "home-restock-notified"


async def test_independent_loads_run_concurrently_when_the_store_allows() -> None:
    db = InMemoryDatabase(User)
    factory = InMemoryUnitOfWorkFactory(db)
    app = Application(factory)
    a = await create_user(app, "A", "a@x.io")
    b = await create_user(app, "B", "b@x.io")
    active = 0
    peak = 0

    class SlowFactory:
        def __call__(self, *, read_only: bool = False) -> Any:
            uow = factory(read_only=read_only)
            real_repository = uow.repository

            class Repo:
                def __init__(self, inner: Any) -> None:
                    self.inner = inner

                async def get(self, id: Any, *, profile: str = "default") -> Any:
                    nonlocal active, peak
                    active += 1
                    peak = max(peak, active)
                    await asyncio.sleep(0.01)
                    active -= 1
                    return await self.inner.get(id, profile=profile)

            uow.repository = lambda model: Repo(real_repository(model))  # type: ignore[method-assign]
            uow.concurrent_reads = True  # type: ignore[attr-defined]
            return uow

    class Pair(UseCase[User, tuple[str, str]]):
        read_only = True

        async def execute(
            self,
            first_id: int,
            second_id: int,
            first: User = LoadById(User, by="first_id"),
            second: User = LoadById(User, by="second_id"),
        ) -> tuple[str, str]:
            return first.full_name, second.full_name

    concurrent = Application(SlowFactory())
    result = await concurrent.invoker.invoke(Pair, params={"first_id": a.id, "second_id": b.id})
    assert result == ("A", "B")
    assert peak == 2


async def test_rules_run_for_use_cases_without_input(app: Application) -> None:
    class Guarded(UseCase[User, str]):
        rules = (Rule.forbid(lambda cmd, params, n: n > 3, message="too many").from_params("n"),)

        async def execute(self, n: int) -> str:
            return f"ok {n}"

    assert await app.invoker.invoke(Guarded, params={"n": 2}) == "ok 2"
    with pytest.raises(RuleViolations) as info:
        await app.invoker.invoke(Guarded, params={"n": 5})
    assert (info.value.errors[0].field, info.value.errors[0].message) == ("n", "too many")


async def test_check_rules_accept_bool_and_str_results_and_require(app: Application) -> None:
    class UC(UseCase[User, int]):
        rules = (
            Rule.check(F(PairCmd).a, via=lambda a: a < 0, message="a must be >= 0"),
            Rule.check(F(PairCmd).a, via=lambda a: "odd" if a % 2 else None),
            Rule.check(F(PairCmd).b, via=lambda b: b is None, message="b must not be null"),
            Rule.require(lambda cmd, params, a, b: a != b, message="a == b").from_command("a", "b"),
        )

        async def execute(self, cmd: PairCmd = Input()) -> int:
            return cmd.a

    assert await app.invoker.invoke(UC, payload={"a": 2}) == 2
    with pytest.raises(RuleViolations) as info:
        await app.invoker.invoke(UC, payload={"a": -1, "b": None})
    assert [e.message for e in info.value.errors] == ["a must be >= 0", "odd", "b must not be null"]
    with pytest.raises(RuleViolations, match="a == b"):
        await app.invoker.invoke(UC, payload={"a": 4, "b": 4})


async def test_when_present_combines_fields_with_or_and_and(app: Application) -> None:
    class UC(UseCase[User, bool]):
        rules = (
            Rule.check(F(XYCmd).x, via=lambda x: True, message="either").when_present(
                F(XYCmd).x | F(XYCmd).y
            ),
            Rule.forbid(lambda cmd, params: True, message="both").when_present(
                F(XYCmd).x & F(XYCmd).y
            ),
        )

        async def execute(self, cmd: XYCmd = Input()) -> bool:
            return True

    assert await app.invoker.invoke(UC, payload={}) is True
    with pytest.raises(RuleViolations) as info:
        await app.invoker.invoke(UC, payload={"x": 1, "y": 2})
    assert [e.message for e in info.value.errors] == ["either", "both"]


# --- the invoker's entity API ------------------------------------------------------------


async def test_entity_crud_through_the_invoker(app: Application) -> None:
    users = app.invoker.entity(User)
    created = await users.create(payload={"full_name": "Ada", "email": "a@x.io"})
    assert (await users.get(params={"id": created.id})) == created
    updated = await users.update(params={"id": created.id}, payload={"full_name": "Grace"})
    assert updated.full_name == "Grace"
    assert updated.email == "a@x.io"
    await users.delete(params={"id": created.id})
    assert await users.get(params={"id": created.id}) is None
    with pytest.raises(NotFound):
        await users.delete(params={"id": created.id})
    with pytest.raises(ValidationError) as info:
        await users.create(payload={"full_name": "x"})
    assert info.value.errors[0].field == "email"


# --- compile-time errors -----------------------------------------------------------------


class Cmd(Command, frozen=True):
    name: str


class OtherCmd(Command, frozen=True):
    title: str


def _compile_error(cls: type[Any]) -> str:
    with pytest.raises(CompilationError) as info:
        compile_use_case(cls)
    return str(info.value)


def test_two_inputs_are_rejected() -> None:
    class TwoInputs(UseCase[User, None]):
        async def execute(self, a: Cmd = Input(), b: Cmd = Input()) -> None: ...

    assert "TwoInputs.execute(..., b=...): a second Input() (first: 'a')" in _compile_error(
        TwoInputs
    )


def test_load_by_naming_a_missing_parameter_is_rejected() -> None:
    class BadLoad(UseCase[User, None]):
        async def execute(self, user: User = LoadById(User, by="user_id")) -> None: ...

    message = _compile_error(BadLoad)
    assert "BadLoad.execute(..., user=LoadById(by='user_id'))" in message
    assert "neither a parameter of execute() nor a field of the command" in message


def test_unknown_field_in_f_is_rejected() -> None:
    class BadField(UseCase[User, None]):
        rules = (Rule.check(F(Cmd).nme, via=lambda v: None),)

        async def execute(self, cmd: Cmd = Input()) -> None: ...

    assert "BadField.rules[0]: Cmd has no field 'nme'; fields: name" in _compile_error(BadField)


def test_rule_on_another_command_is_rejected() -> None:
    class Mismatch(UseCase[User, None]):
        rules = (Rule.check(F(OtherCmd).title, via=lambda v: None),)

        async def execute(self, cmd: Cmd = Input()) -> None: ...

    assert "F(OtherCmd) but the command is Cmd" in _compile_error(Mismatch)


def test_rule_on_a_command_the_use_case_does_not_take_is_rejected() -> None:
    class NoInput(UseCase[User, None]):
        rules = (Rule.check(F(Cmd).name, via=lambda v: None),)

        async def execute(self, n: int) -> None: ...

    assert "NoInput.rules[0]: refers to Cmd.name but execute() has no Input() command" in (
        _compile_error(NoInput)
    )


def test_unannotated_parameters_are_rejected() -> None:
    class Bare(UseCase[User, None]):
        async def execute(self, user_id) -> None: ...  # type: ignore[no-untyped-def]

    assert "parameter 'user_id' has no annotation" in _compile_error(Bare)


def test_from_params_naming_a_missing_parameter_is_rejected() -> None:
    class BadParams(UseCase[User, None]):
        rules = (Rule.forbid(lambda c, p, x: x, message="m").from_params("missing"),)

        async def execute(self, n: int) -> None: ...

    assert "from_params names 'missing'" in _compile_error(BadParams)


def test_exists_needs_a_real_parameter_and_column() -> None:
    class BadExists(UseCase[User, None]):
        async def execute(
            self,
            taken: bool = Exists(User, from_param="email", against="mail"),
        ) -> None: ...

    message = _compile_error(BadExists)
    assert "Exists(from_param='email') names no parameter" in message
    assert "Exists(against='mail') is not a column of User" in message


def test_every_problem_of_a_use_case_is_reported_at_once() -> None:
    class Many(UseCase[User, None]):
        rules = (Rule.check(F(Cmd).nope, via=lambda v: None),)

        async def execute(self, a: Cmd = Input(), b: Cmd = Input(), c=1) -> None: ...  # type: ignore[no-untyped-def]

    assert len(_compile_error(Many).splitlines()) == 3


def test_a_sync_execute_is_rejected() -> None:
    class Sync(UseCase[User, None]):
        def execute(self) -> None:  # type: ignore[override]
            return None

    assert "define `async def execute" in _compile_error(Sync)


def test_plans_are_compiled_once_and_immutable() -> None:
    plan = compile_use_case(CreateUserUseCase)
    assert compile_use_case(CreateUserUseCase) is plan
    assert plan.model is User
    assert plan.command is not None
    assert plan.command.name == "cmd"
    assert dict(plan.command.max_lengths) == {"full_name": 120, "email": 255}
    assert [e.name for e in plan.exists] == ["email_exists"]
    with pytest.raises(AttributeError):
        plan.read_only = True  # type: ignore[misc]


def test_application_compile_reports_missing_dependencies(jobs: RecordingJobService) -> None:
    app = Application(InMemoryUnitOfWorkFactory())
    with pytest.raises(CompilationError) as info:
        app.compile(use_cases=[DispatchRestockEmailUseCase, CreateUserUseCase])
    assert "DispatchRestockEmailUseCase" in str(info.value)
    assert "JobService" in str(info.value)
    ok = Application(InMemoryUnitOfWorkFactory(), job_service=jobs)
    ok.compile(
        use_cases=[DispatchRestockEmailUseCase, RestockWorkflowUseCase],
        jobs=[SendRestockEmailJob],
        callbacks=[RestockEmailSuccessCallback],
    )


def test_msgspec_results_encode() -> None:
    plan = compile_use_case(BuildProductSummaryUseCase)
    assert msgspec.json.encode(plan.result_type(summary="s")) == b'{"summary":"s"}'


class AuditLog:
    """A per-unit-of-work service with an async close hook."""

    instances: list[AuditLog] = []

    def __init__(self) -> None:
        self.closed = False
        AuditLog.instances.append(self)

    async def aclose(self) -> None:
        self.closed = True


class AuditedInner(UseCase[User, int]):
    def __init__(self, audit: AuditLog) -> None:
        self.audit = audit

    async def execute(self) -> int:
        assert not self.audit.closed
        return id(self.audit)


class AuditedOuter(UseCase[User, tuple[int, int]]):
    def __init__(self, audit: AuditLog, app: ApplicationInvoker) -> None:
        self.audit = audit
        self.app = app

    async def execute(self) -> tuple[int, int]:
        inner = await self.app.invoke(AuditedInner)
        return id(self.audit), inner


async def test_scoped_services_live_for_one_unit_of_work_and_are_closed(app: Application) -> None:
    from loom.core.di import Scope

    AuditLog.instances.clear()
    app.container.register(AuditLog, scope=Scope.SCOPED)
    outer, inner = await app.invoker.invoke(AuditedOuter)
    assert outer == inner
    await app.invoker.invoke(AuditedOuter)
    assert len(AuditLog.instances) == 2
    assert all(log.closed for log in AuditLog.instances)


def test_the_seed_interfaces_compile_into_routes(jobs: RecordingJobService) -> None:
    from .seed.interfaces import AddressRestInterface, ProductRestInterface, UserRestInterface

    app = Application(InMemoryUnitOfWorkFactory(), job_service=jobs)
    routes = app.compile(
        interfaces=[UserRestInterface, ProductRestInterface, AddressRestInterface],
        jobs=[SendRestockEmailJob],
        callbacks=[RestockEmailSuccessCallback],
    )
    table = {(r.method, r.path): r.status_code for r in routes}
    assert table[("POST", "/users")] == 201
    assert table[("GET", "/users/{id}")] == 200
    assert table[("DELETE", "/users/{id}")] == 204
    assert table[("GET", "/products/low-stock")] == 200
    assert table[("POST", "/products/{product_id}/jobs/restock-email")] == 202
    assert table[("POST", "/users/{user_id}/addresses")] == 201
    listing = next(r for r in routes if (r.method, r.path) == ("GET", "/users/{user_id}/addresses"))
    assert listing.list_model is Address
    assert [p.name for p in listing.path_params] == ["user_id"]
    assert [q.name for q in listing.query_params] == ["profile"]
    product_routes = [r for r in routes if r.interface is ProductRestInterface]
    assert {r.pagination_mode for r in product_routes} == {PaginationMode.CURSOR}


def test_interface_mistakes_are_reported_together() -> None:
    from loom.core.interface import RestInterface, RestRoute, build_auto_routes

    class Broken(RestInterface[User]):
        prefix = "/users"
        routes = (
            RestRoute(use_case=UpdateUserUseCase, method="PATCH", path="/{id}"),
            *build_auto_routes(User, ("get",)),
            *build_auto_routes(User, ("get",)),
        )

    with pytest.raises(CompilationError) as info:
        Application(InMemoryUnitOfWorkFactory()).compile(interfaces=[Broken])
    message = str(info.value)
    assert "path segment {id} binds no parameter of UpdateUserUseCase.execute()" in message
    assert "GET /users/{id} is already served by" in message
    assert "Broken.routes[1] (GET /{id})" in message
    with pytest.raises(TypeError, match="unknown"):
        build_auto_routes(User, ("fetch",))
