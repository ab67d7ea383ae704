"""The models the repository contract suite runs on.

``Author`` 1-n ``Book`` (``books.author_id`` ON DELETE CASCADE); ``Book`` n-m ``Tag``
through ``book_tags`` (the ``BookTag`` model, so every backend fills it through a
repository); ``Edition`` points at a book (RESTRICT) and a publisher (SET NULL);
``Review`` points at a book with NO ACTION.
"""

from __future__ import annotations

from datetime import datetime

from loom.core.command import Command, Patch
from loom.core.model import (
    BaseModel,
    ColumnField,
    ManyToMany,
    ManyToOne,
    OnDelete,
    OneToMany,
    Projection,
    TimestampedModel,
)


class Author(TimestampedModel, kw_only=True):
    __tablename__ = "authors"

    id: int = ColumnField(primary_key=True, autoincrement=True)
    name: str = ColumnField(length=120)
    email: str = ColumnField(length=255, unique=True, index=True)
    bio: str | None = None
    books: list[Book] = OneToMany(
        "Book", foreign_key="author_id", profiles=("with_books",), order_by="id"
    )
    book_count: int = Projection("books", profiles=("with_books", "with_count"))


class Book(TimestampedModel, kw_only=True):
    __tablename__ = "books"

    id: int = ColumnField(primary_key=True, autoincrement=True)
    author_id: int = ColumnField(foreign_key="authors.id", on_delete=OnDelete.CASCADE, index=True)
    title: str = ColumnField(length=200)
    price_cents: int
    stock: int
    subtitle: str | None = None
    published_at: datetime | None = None
    author: Author = ManyToOne("Author", foreign_key="author_id", profiles=("with_author",))
    tags: list[Tag] = ManyToMany(
        "Tag",
        secondary="book_tags",
        local_key="book_id",
        remote_key="tag_id",
        profiles=("with_tags",),
    )
    tag_count: int = Projection("tags", profiles=("with_tags",))


class Tag(BaseModel, kw_only=True):
    __tablename__ = "tags"

    id: int = ColumnField(primary_key=True, autoincrement=True)
    label: str = ColumnField(length=60, unique=True)


class BookTag(BaseModel, kw_only=True):
    __tablename__ = "book_tags"

    id: int = ColumnField(primary_key=True, autoincrement=True)
    book_id: int = ColumnField(foreign_key="books.id", on_delete=OnDelete.CASCADE, index=True)
    tag_id: int = ColumnField(foreign_key="tags.id", on_delete=OnDelete.CASCADE, index=True)


class Publisher(BaseModel, kw_only=True):
    __tablename__ = "publishers"

    id: int = ColumnField(primary_key=True, autoincrement=True)
    name: str = ColumnField(length=120)


class Edition(BaseModel, kw_only=True):
    __tablename__ = "editions"

    id: int = ColumnField(primary_key=True, autoincrement=True)
    book_id: int = ColumnField(foreign_key="books.id", on_delete=OnDelete.RESTRICT)
    publisher_id: int | None = ColumnField(
        foreign_key="publishers.id", on_delete=OnDelete.SET_NULL, nullable=True
    )
    zip_code: str | None = None


class Review(BaseModel, kw_only=True):
    __tablename__ = "reviews"

    id: int = ColumnField(primary_key=True, autoincrement=True)
    book_id: int = ColumnField(foreign_key="books.id", on_delete=OnDelete.NO_ACTION)
    body: str


CONTRACT_MODELS: tuple[type[BaseModel], ...] = (
    Author,
    Book,
    Tag,
    BookTag,
    Publisher,
    Edition,
    Review,
)
"""Every model of the suite, parents before children (the order to create tables in)."""


class CreateAuthor(Command, frozen=True):
    name: str
    email: str
    bio: Patch[str] = None


class CreateBook(Command, frozen=True):
    author_id: int
    title: str
    price_cents: int
    stock: int
    subtitle: str | None = None
    published_at: datetime | None = None


class UpdateBook(Command, frozen=True):
    title: Patch[str] = None
    price_cents: Patch[int] = None
    stock: Patch[int] = None
    subtitle: Patch[str] = None
    published_at: Patch[datetime] = None
