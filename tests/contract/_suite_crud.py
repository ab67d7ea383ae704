"""Contract: get / create / create_many / update / delete / exists / count."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import msgspec
import pytest
from tests.contract._suite_base import ContractBase, create_author, create_catalogue
from tests.contract.models import (
    Author,
    Book,
    BookTag,
    CreateAuthor,
    CreateBook,
    Edition,
    Publisher,
    Review,
    Tag,
    UpdateBook,
)

from loom.core.errors import Conflict, ValidationError
from loom.core.repository.abc import UnitOfWorkFactory
from loom.core.repository.abc.query import FilterGroup, FilterOp, FilterSpec


def _fields(exc: pytest.ExceptionInfo[ValidationError]) -> set[str]:
    return {e.field for e in exc.value.errors}


class CrudContract(ContractBase):
    """Reading and writing single rows."""

    async def test_create_returns_the_entity_with_generated_values(
        self, uow_factory: UnitOfWorkFactory
    ) -> None:
        before = datetime.now(UTC) - timedelta(seconds=5)
        author = await create_author(uow_factory, "Ada", bio="pioneer")
        assert isinstance(author, Author)
        assert isinstance(author.id, int)
        assert (author.name, author.email, author.bio) == ("Ada", "ada@example.org", "pioneer")
        assert author.created_at.utcoffset() == timedelta(0)
        assert author.created_at >= before
        assert author.updated_at >= author.created_at

    async def test_create_gives_distinct_ids(self, uow_factory: UnitOfWorkFactory) -> None:
        first = await create_author(uow_factory, "Ada")
        second = await create_author(uow_factory, "Grace")
        assert first.id != second.id

    async def test_get_returns_what_create_returned(self, uow_factory: UnitOfWorkFactory) -> None:
        author = await create_author(uow_factory, "Ada")
        async with uow_factory(read_only=True) as uow:
            assert await uow.repository(Author).get(author.id) == author

    async def test_get_unknown_id_returns_none(self, uow_factory: UnitOfWorkFactory) -> None:
        async with uow_factory(read_only=True) as uow:
            assert await uow.repository(Author).get(987654) is None

    async def test_create_from_command_leaves_unset_patch_fields_to_defaults(
        self, uow_factory: UnitOfWorkFactory
    ) -> None:
        async with uow_factory() as uow:
            author = await uow.repository(Author).create(
                CreateAuthor(name="Ada", email="ada@example.org")
            )
            book = await uow.repository(Book).create(
                CreateBook(author_id=author.id, title="Notes", price_cents=1999, stock=4)
            )
        assert author.bio is None
        assert (book.title, book.price_cents, book.stock, book.subtitle) == ("Notes", 1999, 4, None)

    async def test_create_many_returns_every_entity_in_order(
        self, uow_factory: UnitOfWorkFactory
    ) -> None:
        async with uow_factory() as uow:
            authors = await uow.repository(Author).create_many(
                [{"name": n, "email": f"{n}@example.org"} for n in ("a", "b", "c")]
            )
        assert [a.name for a in authors] == ["a", "b", "c"]
        assert len({a.id for a in authors}) == 3
        async with uow_factory(read_only=True) as uow:
            assert await uow.repository(Author).count() == 3

    async def test_create_many_is_all_or_nothing(self, uow_factory: UnitOfWorkFactory) -> None:
        items = [
            {"name": "a", "email": "same@example.org"},
            {"name": "b", "email": "other@example.org"},
            {"name": "c", "email": "same@example.org"},
        ]
        with pytest.raises(Conflict):
            async with uow_factory() as uow:
                await uow.repository(Author).create_many(items)
        async with uow_factory(read_only=True) as uow:
            assert await uow.repository(Author).count() == 0

    async def test_update_leaves_absent_fields_untouched(
        self, uow_factory: UnitOfWorkFactory
    ) -> None:
        _, books = await create_catalogue(uow_factory)
        alpha = books["alpha"]
        async with uow_factory() as uow:
            updated = await uow.repository(Book).update(alpha.id, UpdateBook(price_cents=1234))
        assert updated is not None
        assert updated.price_cents == 1234
        assert (updated.title, updated.stock, updated.subtitle) == (
            alpha.title,
            alpha.stock,
            alpha.subtitle,
        )
        assert updated.published_at == alpha.published_at
        assert updated.created_at == alpha.created_at

    async def test_update_with_explicit_null_sets_null(
        self, uow_factory: UnitOfWorkFactory
    ) -> None:
        _, books = await create_catalogue(uow_factory)
        alpha = books["alpha"]
        async with uow_factory() as uow:
            await uow.repository(Book).update(
                alpha.id, UpdateBook(subtitle=None, published_at=None)
            )
        async with uow_factory(read_only=True) as uow:
            stored = await uow.repository(Book).get(alpha.id)
        assert stored is not None
        assert stored.subtitle is None
        assert stored.published_at is None
        assert stored.title == "alpha"

    async def test_update_with_mapping_keeps_multi_word_field_names(
        self, uow_factory: UnitOfWorkFactory
    ) -> None:
        _, books = await create_catalogue(uow_factory)
        delta = books["delta"]
        moment = datetime(2030, 5, 6, 7, 8, 9, tzinfo=UTC)
        async with uow_factory() as uow:
            await uow.repository(Book).update(
                delta.id, {"price_cents": 777, "published_at": moment, "stock": msgspec.UNSET}
            )
        async with uow_factory(read_only=True) as uow:
            stored = await uow.repository(Book).get(delta.id)
        assert stored is not None
        assert (stored.price_cents, stored.published_at, stored.stock) == (777, moment, 3)

    async def test_update_refreshes_updated_at_only(self, uow_factory: UnitOfWorkFactory) -> None:
        author = await create_author(uow_factory, "Ada")
        async with uow_factory() as uow:
            updated = await uow.repository(Author).update(author.id, {"name": "Ada L."})
        assert updated is not None
        assert updated.name == "Ada L."
        assert updated.created_at == author.created_at
        assert updated.updated_at >= author.updated_at

    async def test_update_unknown_id_returns_none(self, uow_factory: UnitOfWorkFactory) -> None:
        async with uow_factory() as uow:
            assert await uow.repository(Author).update(987654, {"name": "x"}) is None
            assert await uow.repository(Author).count() == 0

    async def test_returned_entities_do_not_share_state(
        self, uow_factory: UnitOfWorkFactory
    ) -> None:
        author = await create_author(uow_factory, "Ada")
        author.name = "mutated"
        async with uow_factory(read_only=True) as uow:
            fetched = await uow.repository(Author).get(author.id)
            assert fetched is not None
            fetched.name = "mutated again"
            again = await uow.repository(Author).get(author.id)
        assert again is not None
        assert again.name == "Ada"

    async def test_delete_returns_whether_a_row_went(self, uow_factory: UnitOfWorkFactory) -> None:
        author = await create_author(uow_factory, "Ada")
        async with uow_factory() as uow:
            assert await uow.repository(Author).delete(author.id) is True
            assert await uow.repository(Author).delete(author.id) is False
        async with uow_factory(read_only=True) as uow:
            assert await uow.repository(Author).get(author.id) is None

    async def test_exists_with_mapping_and_filter_group(
        self, uow_factory: UnitOfWorkFactory
    ) -> None:
        await create_author(uow_factory, "Ada")
        async with uow_factory(read_only=True) as uow:
            repo = uow.repository(Author)
            assert await repo.exists({"email": "ada@example.org"}) is True
            assert await repo.exists({"email": "nobody@example.org"}) is False
            assert await repo.exists({"name": "Ada", "bio": None}) is True
            assert await repo.exists({"name": "Grace", "bio": None}) is False
            group = FilterGroup(filters=(FilterSpec(field="name", op=FilterOp.LIKE, value="A%"),))
            assert await repo.exists(group) is True

    async def test_count_all_and_filtered(self, uow_factory: UnitOfWorkFactory) -> None:
        await create_catalogue(uow_factory)
        low = FilterGroup(filters=(FilterSpec(field="stock", op=FilterOp.LTE, value=5),))
        async with uow_factory(read_only=True) as uow:
            assert await uow.repository(Book).count() == 6
            assert await uow.repository(Book).count(low) == 4
            assert await uow.repository(Book).count(FilterGroup()) == 6


class IntegrityContract(ContractBase):
    """Unique columns, foreign keys, value checks and ``on_delete`` rules."""

    async def test_duplicate_unique_value_is_a_conflict_naming_the_field(
        self, uow_factory: UnitOfWorkFactory
    ) -> None:
        await create_author(uow_factory, "Ada", email="ada@example.org")
        with pytest.raises(Conflict) as exc:
            await create_author(uow_factory, "Other", email="ada@example.org")
        assert exc.value.fields == ("email",)

    async def test_update_to_a_taken_unique_value_is_a_conflict(
        self, uow_factory: UnitOfWorkFactory
    ) -> None:
        await create_author(uow_factory, "Ada")
        grace = await create_author(uow_factory, "Grace")
        async with uow_factory() as uow:
            same = await uow.repository(Author).update(grace.id, {"email": "grace@example.org"})
            assert same is not None
            with pytest.raises(Conflict) as exc:
                await uow.repository(Author).update(grace.id, {"email": "ada@example.org"})
        assert "email" in exc.value.fields

    async def test_missing_foreign_key_parent_is_a_validation_error(
        self, uow_factory: UnitOfWorkFactory
    ) -> None:
        with pytest.raises(ValidationError) as exc:
            async with uow_factory() as uow:
                await uow.repository(Book).create(
                    {"author_id": 987654, "title": "Orphan", "price_cents": 1, "stock": 1}
                )
        assert "author_id" in _fields(exc)

    async def test_update_to_missing_parent_is_a_validation_error(
        self, uow_factory: UnitOfWorkFactory
    ) -> None:
        _, books = await create_catalogue(uow_factory)
        with pytest.raises(ValidationError) as exc:
            async with uow_factory() as uow:
                await uow.repository(Book).update(books["alpha"].id, {"author_id": 987654})
        assert "author_id" in _fields(exc)

    async def test_wrong_missing_and_unknown_fields_are_validation_errors(
        self, uow_factory: UnitOfWorkFactory
    ) -> None:
        author = await create_author(uow_factory, "Ada")
        async with uow_factory() as uow:
            books = uow.repository(Book)
            with pytest.raises(ValidationError) as wrong:
                await books.create(
                    {"author_id": author.id, "title": "t", "price_cents": "ten", "stock": 1}
                )
            with pytest.raises(ValidationError) as missing:
                await books.create({"author_id": author.id, "price_cents": 1})
            with pytest.raises(ValidationError) as unknown:
                await books.create(
                    {"author_id": author.id, "title": "t", "price_cents": 1, "stock": 1, "x": 1}
                )
            with pytest.raises(ValidationError) as null:
                await uow.repository(Author).update(author.id, {"name": None})
        assert "price_cents" in _fields(wrong)
        assert {"title", "stock"} <= _fields(missing)
        assert "x" in _fields(unknown)
        assert "name" in _fields(null)

    async def test_delete_cascades_to_children(self, uow_factory: UnitOfWorkFactory) -> None:
        author, books = await create_catalogue(uow_factory)
        survivor = await create_author(uow_factory, "Survivor")
        async with uow_factory() as uow:
            await uow.repository(Book).create(
                {"author_id": survivor.id, "title": "kept", "price_cents": 1, "stock": 1}
            )
            tag = await uow.repository(Tag).create({"label": "classic"})
            await self.link_tag(uow, books["alpha"].id, tag.id)
        async with uow_factory() as uow:
            assert await uow.repository(Author).delete(author.id) is True
        async with uow_factory(read_only=True) as uow:
            assert await uow.repository(Book).count() == 1
            assert await uow.repository(BookTag).count() == 0
            assert await uow.repository(Tag).count() == 1

    async def test_restrict_blocks_the_delete(self, uow_factory: UnitOfWorkFactory) -> None:
        _, books = await create_catalogue(uow_factory)
        async with uow_factory() as uow:
            await uow.repository(Edition).create({"book_id": books["alpha"].id})
        with pytest.raises(Conflict):
            async with uow_factory() as uow:
                await uow.repository(Book).delete(books["alpha"].id)
        async with uow_factory(read_only=True) as uow:
            assert await uow.repository(Book).get(books["alpha"].id) is not None

    async def test_restrict_below_a_cascade_blocks_the_whole_delete(
        self, uow_factory: UnitOfWorkFactory
    ) -> None:
        author, books = await create_catalogue(uow_factory)
        async with uow_factory() as uow:
            await uow.repository(Edition).create({"book_id": books["beta"].id})
        with pytest.raises(Conflict):
            async with uow_factory() as uow:
                await uow.repository(Author).delete(author.id)
        async with uow_factory(read_only=True) as uow:
            assert await uow.repository(Author).get(author.id) is not None
            assert await uow.repository(Book).count() == 6

    async def test_no_action_blocks_the_delete(self, uow_factory: UnitOfWorkFactory) -> None:
        _, books = await create_catalogue(uow_factory)
        async with uow_factory() as uow:
            await uow.repository(Review).create({"book_id": books["gamma"].id, "body": "good"})
        with pytest.raises(Conflict):
            async with uow_factory() as uow:
                await uow.repository(Book).delete(books["gamma"].id)
        async with uow_factory(read_only=True) as uow:
            assert await uow.repository(Book).get(books["gamma"].id) is not None

    async def test_set_null_clears_the_reference(self, uow_factory: UnitOfWorkFactory) -> None:
        _, books = await create_catalogue(uow_factory)
        async with uow_factory() as uow:
            publisher = await uow.repository(Publisher).create({"name": "Penguin"})
            edition = await uow.repository(Edition).create(
                {"book_id": books["alpha"].id, "publisher_id": publisher.id, "zip_code": "1010"}
            )
        async with uow_factory() as uow:
            assert await uow.repository(Publisher).delete(publisher.id) is True
        async with uow_factory(read_only=True) as uow:
            stored = await uow.repository(Edition).get(edition.id)
        assert stored is not None
        assert stored.publisher_id is None
        assert stored.zip_code == "1010"
