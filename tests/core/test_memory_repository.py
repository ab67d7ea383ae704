"""The in-memory backend against the repository contract suite, plus its own behaviour."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Protocol

import msgspec
import pytest
from tests.contract.models import Author
from tests.contract.repository_suite import CONTRACT_MODELS, RepositoryContract

from loom.core.errors import CompilationError, Conflict, ValidationError
from loom.core.model import BaseModel, ColumnField, ManyToMany, OnDelete, OneToMany
from loom.core.repository.abc import RepoFor, UnitOfWork, UnitOfWorkFactory
from loom.core.repository.abc.query import (
    CursorResult,
    FilterGroup,
    FilterSpec,
    PaginationMode,
    QuerySpec,
)
from loom.core.repository.registry import (
    contract_model,
    custom_repository,
    registered_contracts,
    repository_for,
)
from loom.core.testing.memory import (
    InMemoryDatabase,
    InMemoryRepository,
    InMemoryUnitOfWork,
    InMemoryUnitOfWorkFactory,
)


class TestInMemoryRepositoryContract(RepositoryContract):
    @pytest.fixture
    def uow_factory(self) -> UnitOfWorkFactory:
        return InMemoryUnitOfWorkFactory(InMemoryDatabase(*CONTRACT_MODELS))


# -- behaviour specific to the in-memory backend ---------------------------------------------

NOW = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)


class Ticking:
    """A clock that advances one second per call."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> datetime:
        self.calls += 1
        return NOW + timedelta(seconds=self.calls)


class Owner(BaseModel, kw_only=True):
    __tablename__ = "mem_owners"

    id: int = ColumnField(primary_key=True, autoincrement=True)
    name: str
    level: int = ColumnField(server_default="3")
    motto: str = ColumnField(server_default="'carpe diem'")
    joined: date = ColumnField(server_default="now")
    tags: list[str] = ColumnField(default_factory=list)
    pets: list[Pet] = OneToMany("Pet", foreign_key="owner_id", order_by="-name")
    friends: list[Pet] = ManyToMany(
        "Pet", secondary="mem_owner_pets", local_key="owner_id", remote_key="pet_id"
    )


class Pet(BaseModel, kw_only=True):
    __tablename__ = "mem_pets"

    id: int = ColumnField(primary_key=True, autoincrement=True)
    name: str = ColumnField(length=10)
    owner_id: int | None = ColumnField(foreign_key="mem_owners.id", nullable=True)


class Leash(BaseModel, kw_only=True):
    __tablename__ = "mem_leashes"

    id: int = ColumnField(primary_key=True, autoincrement=True)
    pet_id: int = ColumnField(foreign_key="mem_pets.id", on_delete=OnDelete.SET_NULL)


class Orphan(BaseModel, kw_only=True):
    __tablename__ = "mem_orphans"

    id: int = ColumnField(primary_key=True, autoincrement=True)
    parent_id: int = ColumnField(foreign_key="mem_nowhere.id")


class Gadget(BaseModel, kw_only=True):
    __tablename__ = "mem_gadgets"

    code: str = ColumnField(primary_key=True)
    label: str = ""


class OwnerRepo(RepoFor[Owner], Protocol):
    async def by_name(self, name: str) -> Owner | None: ...


@repository_for(Owner, contract=OwnerRepo)
class MemoryOwnerRepository(InMemoryRepository[Owner]):
    async def by_name(self, name: str) -> Owner | None:
        page = await self.list_with_query(
            QuerySpec(filters=FilterGroup(filters=(FilterSpec(field="name", value=name),)))
        )
        return page.items[0] if page.items else None


@repository_for(Pet)
class ForeignPetRepository:
    """Registered for another backend: not an InMemoryRepository, so ignored here."""


@pytest.fixture
def db() -> InMemoryDatabase:
    return InMemoryDatabase(Owner, Pet, Leash, cursor_secret="test-secret")


@pytest.fixture
def factory(db: InMemoryDatabase) -> InMemoryUnitOfWorkFactory:
    return InMemoryUnitOfWorkFactory(db, clock=Ticking())


async def test_server_defaults_are_evaluated(factory: InMemoryUnitOfWorkFactory) -> None:
    async with factory() as uow:
        owner = await uow.repository(Owner).create({"name": "Ann"})
    assert (owner.level, owner.motto, owner.joined, owner.tags) == (
        3,
        "carpe diem",
        (NOW + timedelta(seconds=1)).date(),
        [],
    )


async def test_clock_drives_timestamps() -> None:
    factory = InMemoryUnitOfWorkFactory(InMemoryDatabase(*CONTRACT_MODELS), clock=Ticking())
    async with factory() as uow:
        author = await uow.repository(Author).create({"name": "A", "email": "a@example.org"})
        updated = await uow.repository(Author).update(author.id, {"bio": "x"})
        untouched = await uow.repository(Author).update(author.id, {})
    assert author.created_at == author.updated_at == NOW + timedelta(seconds=1)
    assert updated is not None
    assert updated.updated_at == NOW + timedelta(seconds=2)
    assert updated.created_at == author.created_at
    assert untouched == updated


async def test_explicit_updated_at_wins_over_onupdate() -> None:
    factory = InMemoryUnitOfWorkFactory(InMemoryDatabase(*CONTRACT_MODELS), clock=Ticking())
    moment = datetime(2001, 1, 1, tzinfo=UTC)
    async with factory() as uow:
        author = await uow.repository(Author).create({"name": "A", "email": "a@example.org"})
        updated = await uow.repository(Author).update(author.id, {"updated_at": moment})
    assert updated is not None
    assert updated.updated_at == moment


async def test_custom_repository_is_used_for_its_model(
    factory: InMemoryUnitOfWorkFactory,
) -> None:
    async with factory() as uow:
        repo = uow.repository(Owner)
        pets = uow.repository(Pet)
        await repo.create({"name": "Ann"})
        assert isinstance(repo, MemoryOwnerRepository)
        found = await repo.by_name("Ann")
        assert uow.repository(Owner) is repo
    assert found is not None
    assert found.name == "Ann"
    assert type(pets).__qualname__ == "InMemoryRepository"


def test_registry_records_models_and_contracts() -> None:
    assert custom_repository(Owner) is MemoryOwnerRepository
    assert custom_repository(Pet) is ForeignPetRepository
    assert custom_repository(Pet, base=InMemoryRepository) is None
    assert custom_repository(Leash) is None
    assert contract_model(OwnerRepo) is Owner
    assert contract_model(RepoFor) is None
    assert registered_contracts()[OwnerRepo] is Owner


def test_registry_refuses_bad_registrations() -> None:
    with pytest.raises(CompilationError, match="not a loom model"):
        repository_for(int)
    with pytest.raises(CompilationError, match="already the contract"):
        repository_for(Pet, contract=OwnerRepo)
    with pytest.raises(CompilationError, match="decorates a class"):
        repository_for(Pet)(len)  # type: ignore[type-var]


async def test_raw_association_table_via_link(
    db: InMemoryDatabase, factory: InMemoryUnitOfWorkFactory
) -> None:
    async with factory() as uow:
        owner = await uow.repository(Owner).create({"name": "Ann"})
        rex, bo = await uow.repository(Pet).create_many([{"name": "rex"}, {"name": "bo"}])
    db.link("mem_owner_pets", owner.id, bo.id)
    db.link("mem_owner_pets", owner.id, rex.id)
    async with factory() as uow:
        loaded = await uow.repository(Owner).get(owner.id, profile="detail")
        assert loaded is not None
        assert [p.name for p in loaded.friends] == ["rex", "bo"]
        await uow.repository(Pet).delete(rex.id)
    assert [row["pet_id"] for row in db.tables["mem_owner_pets"].rows.values()] == [bo.id]


def test_link_needs_a_known_association(db: InMemoryDatabase) -> None:
    with pytest.raises(CompilationError, match="no registered ManyToMany"):
        db.link("nowhere", 1, 2)
    contract_db = InMemoryDatabase(*CONTRACT_MODELS)
    with pytest.raises(CompilationError, match="through its repository"):
        contract_db.link("book_tags", 1, 2)


async def test_one_to_many_order_by_descending(factory: InMemoryUnitOfWorkFactory) -> None:
    async with factory() as uow:
        owner = await uow.repository(Owner).create({"name": "Ann"})
        await uow.repository(Pet).create_many(
            [{"name": n, "owner_id": owner.id} for n in ("bo", "zed", "al")]
        )
        loaded = await uow.repository(Owner).get(owner.id, profile="detail")
    assert loaded is not None
    assert [p.name for p in loaded.pets] == ["zed", "bo", "al"]


async def test_foreign_key_to_unregistered_table_is_a_compilation_error() -> None:
    factory = InMemoryUnitOfWorkFactory()
    async with factory() as uow:
        with pytest.raises(CompilationError, match="mem_nowhere"):
            await uow.repository(Orphan).create({"parent_id": 1})


async def test_set_null_on_not_null_column_is_a_conflict(
    factory: InMemoryUnitOfWorkFactory,
) -> None:
    async with factory() as uow:
        pet = await uow.repository(Pet).create({"name": "rex"})
        await uow.repository(Leash).create({"pet_id": pet.id})
        with pytest.raises(Conflict) as exc:
            await uow.repository(Pet).delete(pet.id)
        assert exc.value.fields == ("pet_id",)
        assert await uow.repository(Pet).get(pet.id) is not None


async def test_null_foreign_key_needs_no_parent(factory: InMemoryUnitOfWorkFactory) -> None:
    async with factory() as uow:
        pet = await uow.repository(Pet).create({"name": "stray", "owner_id": None})
    assert pet.owner_id is None


async def test_length_and_naive_datetime_are_validated() -> None:
    factory = InMemoryUnitOfWorkFactory(InMemoryDatabase(*CONTRACT_MODELS, Pet))
    async with factory() as uow:
        with pytest.raises(ValidationError) as long:
            await uow.repository(Pet).create({"name": "x" * 11})
        author = await uow.repository(Author).create({"name": "A", "email": "a@example.org"})
        with pytest.raises(ValidationError) as naive:
            await uow.repository(Author).update(author.id, {"updated_at": datetime(2020, 1, 1)})
        with pytest.raises(ValidationError) as key:
            await uow.repository(Author).update(author.id, {"id": author.id + 1})
    assert [e.field for e in long.value.errors] == ["name"]
    assert [e.field for e in naive.value.errors] == ["updated_at"]
    assert [e.field for e in key.value.errors] == ["id"]


async def test_explicit_ids_and_natural_keys(db: InMemoryDatabase) -> None:
    factory = InMemoryUnitOfWorkFactory(db)
    async with factory() as uow:
        pets = uow.repository(Pet)
        seven = await pets.create({"id": 7, "name": "seven"})
        after = await pets.create({"name": "next"})
        with pytest.raises(Conflict) as exc:
            await pets.create({"id": 7, "name": "again"})
        gadgets = uow.repository(Gadget)
        gadget = await gadgets.create({"code": "g-1", "label": "one"})
        with pytest.raises(ValidationError) as missing:
            await gadgets.create({"label": "no code"})
    assert (seven.id, after.id) == (7, 8)
    assert exc.value.fields == ("id",)
    assert gadget.code == "g-1"
    assert [e.field for e in missing.value.errors] == ["code"]


async def test_mutable_values_are_copied(factory: InMemoryUnitOfWorkFactory) -> None:
    tags = ["a"]
    async with factory() as uow:
        owner = await uow.repository(Owner).create({"name": "Ann", "tags": tags})
        tags.append("b")
        owner.tags.append("c")
        stored = await uow.repository(Owner).get(owner.id)
    assert stored is not None
    assert stored.tags == ["a"]


async def test_create_accepts_model_instances_and_plain_structs(
    factory: InMemoryUnitOfWorkFactory,
) -> None:
    class PetRecord(msgspec.Struct):
        name: str
        owner_id: int | None = None

    async with factory() as uow:
        owner = await uow.repository(Owner).create({"name": "Ann"})
        loaded = await uow.repository(Owner).get(owner.id, profile="detail")
        assert loaded is not None
        copy = await uow.repository(Owner).create(msgspec.structs.replace(loaded, id=99))
        pet = await uow.repository(Pet).create(PetRecord(name="rex", owner_id=owner.id))
        with pytest.raises(TypeError, match="struct or a mapping"):
            await uow.repository(Pet).create(["rex"])  # type: ignore[arg-type]
    assert (copy.id, copy.name) == (99, "Ann")
    assert pet.owner_id == owner.id


async def test_unit_of_work_lifecycle(db: InMemoryDatabase) -> None:
    uow = InMemoryUnitOfWork(db)
    assert isinstance(uow, UnitOfWork)
    assert isinstance(InMemoryUnitOfWorkFactory(db), UnitOfWorkFactory)
    with pytest.raises(RuntimeError, match="open unit of work"):
        uow.repository(Pet)
    async with uow:
        assert uow.active
        with pytest.raises(RuntimeError, match="already in use"):
            await uow.__aenter__()
        await uow.repository(Pet).create({"name": "rex"})
    assert not uow.active
    with pytest.raises(RuntimeError, match="open unit of work"):
        uow.after_commit(_noop)
    assert [row["name"] for row in db.rows(Pet)] == ["rex"]


async def _noop() -> None:
    return None


async def test_nested_units_of_work_roll_back_separately(db: InMemoryDatabase) -> None:
    factory = InMemoryUnitOfWorkFactory(db)
    async with factory() as outer:
        await outer.repository(Pet).create({"name": "kept"})
        try:
            async with factory() as inner:
                await inner.repository(Pet).create({"name": "dropped"})
                raise LookupError
        except LookupError:
            pass
    assert [row["name"] for row in db.rows(Pet)] == ["kept"]


def test_snapshot_restore_and_clear(db: InMemoryDatabase) -> None:
    snapshot = db.snapshot()
    db.tables["mem_pets"].rows[1] = {"id": 1, "name": "x", "owner_id": None}
    db.tables["mem_pets"].counter = 1
    db.restore(snapshot)
    assert db.rows(Pet) == []
    assert db.tables["mem_pets"].counter == 0
    db.tables["mem_pets"].rows[1] = {"id": 1, "name": "x", "owner_id": None}
    db.clear()
    assert db.rows(Pet) == []


def test_a_table_name_belongs_to_one_model() -> None:
    class Twin(BaseModel, kw_only=True):
        __tablename__ = "mem_pets"

        id: int = ColumnField(primary_key=True)

    with pytest.raises(CompilationError, match="declared by both"):
        InMemoryDatabase(Pet, Twin)


async def test_cursor_needs_the_database_secret(db: InMemoryDatabase) -> None:
    other = InMemoryDatabase(Owner, Pet, Leash, cursor_secret="another-secret")
    query = QuerySpec(pagination=PaginationMode.CURSOR, limit=1)
    for database in (db, other):
        async with InMemoryUnitOfWorkFactory(database)() as uow:
            await uow.repository(Pet).create_many([{"name": "a"}, {"name": "b"}])
    async with InMemoryUnitOfWorkFactory(db)(read_only=True) as uow:
        page = await uow.repository(Pet).list_with_query(query)
    assert isinstance(page, CursorResult)
    assert page.next_cursor is not None
    async with InMemoryUnitOfWorkFactory(other)(read_only=True) as uow:
        with pytest.raises(ValidationError):
            await uow.repository(Pet).list_with_query(
                QuerySpec(pagination=PaginationMode.CURSOR, cursor=page.next_cursor)
            )
