"""Contract: units of work (rollback, after-commit) and profiles (relations, projections)."""

from __future__ import annotations

import pytest
from tests.contract._suite_base import (
    ContractBase,
    create_author,
    create_catalogue,
    is_unset,
    list_page,
)
from tests.contract.models import Author, Book, Tag

from loom.core.errors import LoomError
from loom.core.repository.abc import UnitOfWorkFactory


class Boom(Exception):
    """Raised inside a unit of work to make it roll back."""


class TransactionContract(ContractBase):
    """An exception inside ``async with`` undoes everything; callbacks follow commits only."""

    async def test_exception_rolls_back_every_write(self, uow_factory: UnitOfWorkFactory) -> None:
        author, books = await create_catalogue(uow_factory)

        async def work() -> None:
            async with uow_factory() as uow:
                await uow.repository(Author).update(author.id, {"name": "Changed"})
                await uow.repository(Author).create({"name": "New", "email": "new@example.org"})
                await uow.repository(Book).delete(books["alpha"].id)
                await uow.repository(Book).update(books["beta"].id, {"stock": 99})
                raise Boom

        with pytest.raises(Boom):
            await work()
        async with uow_factory(read_only=True) as uow:
            stored = await uow.repository(Author).get(author.id)
            assert stored is not None
            assert stored.name == "Catalogue"
            assert await uow.repository(Author).count() == 1
            assert await uow.repository(Book).count() == 6
            beta = await uow.repository(Book).get(books["beta"].id)
            assert beta is not None
            assert beta.stock == 0

    async def test_before_commit_writes_commit_with_the_transaction(
        self, uow_factory: UnitOfWorkFactory
    ) -> None:
        order: list[str] = []
        async with uow_factory() as uow:
            repo = uow.repository(Author)

            async def late_write() -> None:
                order.append("before")
                await repo.create({"name": "Late", "email": "late@example.org"})

            async def after() -> None:
                order.append("after")

            uow.after_commit(after)
            uow.before_commit(late_write)
            await repo.create({"name": "Early", "email": "early@example.org"})
            assert order == []
        assert order == ["before", "after"]
        async with uow_factory(read_only=True) as uow:
            assert await uow.repository(Author).count() == 2

    async def test_a_failing_before_commit_rolls_everything_back(
        self, uow_factory: UnitOfWorkFactory
    ) -> None:
        ran: list[str] = []

        async def work() -> None:
            async with uow_factory() as uow:
                repo = uow.repository(Author)
                await repo.create({"name": "Kept?", "email": "kept@example.org"})

                async def fail() -> None:
                    raise Boom

                async def after() -> None:
                    ran.append("after")

                uow.before_commit(fail)
                uow.after_commit(after)

        with pytest.raises(Boom):
            await work()
        assert ran == []
        async with uow_factory(read_only=True) as uow:
            assert await uow.repository(Author).count() == 0

    async def test_rollback_undoes_a_cascade(self, uow_factory: UnitOfWorkFactory) -> None:
        author, _ = await create_catalogue(uow_factory)
        seen: list[int] = []

        async def work() -> None:
            async with uow_factory() as uow:
                assert await uow.repository(Author).delete(author.id) is True
                seen.append(await uow.repository(Book).count())
                raise Boom

        with pytest.raises(Boom):
            await work()
        assert seen == [0]
        async with uow_factory(read_only=True) as uow:
            assert await uow.repository(Author).get(author.id) is not None
            assert await uow.repository(Book).count() == 6

    async def test_writes_are_visible_inside_the_unit_of_work(
        self, uow_factory: UnitOfWorkFactory
    ) -> None:
        async with uow_factory() as uow:
            author = await uow.repository(Author).create({"name": "A", "email": "a@example.org"})
            assert await uow.repository(Author).get(author.id) == author
            assert await uow.repository(Author).exists({"email": "a@example.org"}) is True

    async def test_after_commit_runs_after_the_commit_in_order(
        self, uow_factory: UnitOfWorkFactory
    ) -> None:
        events: list[tuple[str, int]] = []

        async def first() -> None:
            async with uow_factory(read_only=True) as check:
                events.append(("first", await check.repository(Author).count()))

        async def second() -> None:
            events.append(("second", len(events)))

        async with uow_factory() as uow:
            await uow.repository(Author).create({"name": "A", "email": "a@example.org"})
            uow.after_commit(first)
            uow.after_commit(second)
            assert events == []
        assert events == [("first", 1), ("second", 1)]

    async def test_after_commit_is_dropped_on_rollback(
        self, uow_factory: UnitOfWorkFactory
    ) -> None:
        events: list[str] = []

        async def record() -> None:
            events.append("ran")

        async def work() -> None:
            async with uow_factory() as uow:
                await uow.repository(Author).create({"name": "A", "email": "a@example.org"})
                uow.after_commit(record)
                raise Boom

        with pytest.raises(Boom):
            await work()
        async with uow_factory() as uow:
            await uow.repository(Author).create({"name": "B", "email": "b@example.org"})
        assert events == []

    async def test_read_only_unit_of_work_refuses_writes(
        self, uow_factory: UnitOfWorkFactory
    ) -> None:
        author = await create_author(uow_factory, "Ada")
        async with uow_factory(read_only=True) as uow:
            assert uow.read_only is True
            repo = uow.repository(Author)
            with pytest.raises(LoomError):
                await repo.update(author.id, {"name": "Changed"})
            with pytest.raises(LoomError):
                await repo.create({"name": "B", "email": "b@example.org"})
        async with uow_factory(read_only=True) as uow:
            stored = await uow.repository(Author).get(author.id)
        assert stored is not None
        assert stored.name == "Ada"


class ProfileContract(ContractBase):
    """Relations and projections are loaded only by the profiles that name them."""

    async def test_default_profile_leaves_relations_unset(
        self, uow_factory: UnitOfWorkFactory
    ) -> None:
        author, books = await create_catalogue(uow_factory)
        async with uow_factory(read_only=True) as uow:
            loaded = await uow.repository(Author).get(author.id)
            book = await uow.repository(Book).get(books["alpha"].id)
        assert loaded is not None
        assert book is not None
        assert is_unset(loaded.books)
        assert is_unset(loaded.book_count)
        assert all(is_unset(v) for v in (book.author, book.tags, book.tag_count))

    async def test_one_to_many_and_its_count(self, uow_factory: UnitOfWorkFactory) -> None:
        author, books = await create_catalogue(uow_factory)
        async with uow_factory(read_only=True) as uow:
            loaded = await uow.repository(Author).get(author.id, profile="with_books")
            counted = await uow.repository(Author).get(author.id, profile="with_count")
        assert loaded is not None
        assert counted is not None
        assert isinstance(loaded.books, list)
        assert [b.id for b in loaded.books] == sorted(b.id for b in books.values())
        assert all(isinstance(b, Book) for b in loaded.books)
        assert is_unset(loaded.books[0].author)
        assert loaded.book_count == 6
        assert counted.book_count == 6
        assert is_unset(counted.books)

    async def test_many_to_one(self, uow_factory: UnitOfWorkFactory) -> None:
        author, books = await create_catalogue(uow_factory)
        async with uow_factory(read_only=True) as uow:
            book = await uow.repository(Book).get(books["gamma"].id, profile="with_author")
        assert book is not None
        assert isinstance(book.author, Author)
        assert (book.author.id, book.author.email) == (author.id, author.email)
        assert is_unset(book.tags)

    async def test_many_to_many_and_its_count(self, uow_factory: UnitOfWorkFactory) -> None:
        _, books = await create_catalogue(uow_factory)
        async with uow_factory() as uow:
            tags = await uow.repository(Tag).create_many(
                [{"label": "classic"}, {"label": "poetry"}, {"label": "unused"}]
            )
            await self.link_tag(uow, books["alpha"].id, tags[1].id)
            await self.link_tag(uow, books["alpha"].id, tags[0].id)
            await self.link_tag(uow, books["beta"].id, tags[0].id)
        async with uow_factory(read_only=True) as uow:
            alpha = await uow.repository(Book).get(books["alpha"].id, profile="with_tags")
            gamma = await uow.repository(Book).get(books["gamma"].id, profile="with_tags")
        assert alpha is not None
        assert gamma is not None
        assert [t.label for t in alpha.tags] == ["classic", "poetry"]
        assert alpha.tag_count == 2
        assert (gamma.tags, gamma.tag_count) == ([], 0)

    async def test_list_loads_the_profile_for_every_item(
        self, uow_factory: UnitOfWorkFactory
    ) -> None:
        await create_catalogue(uow_factory)
        await create_author(uow_factory, "Empty")
        page = await list_page(uow_factory, Author, profile="with_books")
        counts = {a.name: (len(a.books), a.book_count) for a in page.items}
        assert counts == {"Catalogue": (6, 6), "Empty": (0, 0)}
        plain = await list_page(uow_factory, Author)
        assert all(is_unset(a.books) for a in plain.items)
