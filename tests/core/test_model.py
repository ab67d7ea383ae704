from __future__ import annotations

from datetime import UTC, datetime

import msgspec
import pytest

from loom.core.errors import CompilationError
from loom.core.model import (
    BaseModel,
    ColumnField,
    ManyToMany,
    ManyToOne,
    OnDelete,
    OneToMany,
    Projection,
    RelationKind,
    TimestampedModel,
    model_info,
)


class Author(TimestampedModel):
    __tablename__ = "authors"
    id: int = ColumnField(primary_key=True, autoincrement=True)
    email: str = ColumnField(length=255, unique=True, index=True)
    nickname: str | None = ColumnField(length=40)
    books: list[Book] = OneToMany("Book", foreign_key="author_id", profiles=("detail",))
    book_count: int = Projection("books", profiles=("detail", "summary"))


class Book(BaseModel):
    __tablename__ = "books"
    id: int = ColumnField(primary_key=True, autoincrement=True)
    author_id: int = ColumnField(foreign_key="authors.id", on_delete=OnDelete.CASCADE)
    title: str = ColumnField(length=200)
    price_cents: int = ColumnField(default=0)
    author: Author = ManyToOne(Author, foreign_key="author_id", profiles="with_author")
    tags: list[Tag] = ManyToMany(
        "Tag", secondary="book_tags", local_key="book_id", remote_key="tag_id"
    )


class Tag(BaseModel):
    id: int = ColumnField(primary_key=True)
    name: str


NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def test_columns_keys_and_table_name_are_introspected() -> None:
    info = model_info(Author)
    assert info.table_name == "authors"
    assert info.pk == "id"
    assert list(info.columns) == ["id", "email", "nickname", "created_at", "updated_at"]
    email = info.columns["email"]
    assert (email.python_type, email.info.length, email.info.unique, email.info.index) == (
        str,
        255,
        True,
        True,
    )
    assert info.columns["nickname"].nullable is True
    assert info.columns["email"].nullable is False


def test_table_name_defaults_to_snake_case_class_name() -> None:
    assert model_info(Tag).table_name == "tag"


def test_server_generated_and_required_on_create() -> None:
    info = model_info(Author)
    assert info.columns["id"].info.server_generated
    assert info.columns["created_at"].info.server_generated
    assert info.columns["updated_at"].info.server_onupdate == "now"
    assert info.columns["email"].required_on_create
    assert not info.columns["nickname"].required_on_create
    assert not model_info(Book).columns["price_cents"].required_on_create


def test_foreign_keys_and_on_delete() -> None:
    column = model_info(Book).columns["author_id"]
    assert column.info.foreign_key == "authors.id"
    assert column.info.on_delete is OnDelete.CASCADE


def test_relations_resolve_targets_including_forward_references() -> None:
    book = model_info(Book)
    assert book.relations["author"].target is Author
    assert book.relations["author"].kind is RelationKind.MANY_TO_ONE
    assert book.relations["tags"].target is Tag
    assert book.relations["tags"].info.secondary == "book_tags"
    assert model_info(Author).relations["books"].target is Book


def test_profiles_select_relations_and_projections() -> None:
    info = model_info(Author)
    assert info.profiles == {"default", "detail", "summary"}
    relations, projections = info.fields_for_profile("summary")
    assert relations == ()
    assert [p.name for p in projections] == ["book_count"]
    relations, projections = info.fields_for_profile("detail")
    assert [r.name for r in relations] == ["books"]
    assert info.fields_for_profile("default") == ((), ())


def test_relations_and_projections_are_unset_and_not_encoded_until_loaded() -> None:
    author = Author(id=1, email="a@b.c", created_at=NOW, updated_at=NOW)
    assert author.books is msgspec.UNSET
    assert author.nickname is None
    encoded = msgspec.json.decode(msgspec.json.encode(author))
    assert "books" not in encoded
    assert "book_count" not in encoded
    assert encoded["created_at"] == "2026-01-02T03:04:05Z"


def test_models_round_trip_through_json_with_nested_relations() -> None:
    raw = (
        b'{"id":1,"email":"a@b.c","created_at":"2026-01-02T03:04:05Z",'
        b'"updated_at":"2026-01-02T03:04:05+02:00","books":[{"id":2,"author_id":1,"title":"T"}]}'
    )
    author = msgspec.json.decode(raw, type=Author)
    assert author.books[0].title == "T"
    assert author.books[0].price_cents == 0
    assert author.updated_at.utcoffset() is not None


def test_naive_datetimes_are_rejected_on_construction_and_decoding() -> None:
    with pytest.raises(ValueError, match=r"Author\.created_at is a naive datetime"):
        Author(id=1, email="e", created_at=datetime(2026, 1, 1), updated_at=NOW)
    with pytest.raises(msgspec.ValidationError, match="naive datetime"):
        msgspec.json.decode(
            b'{"id":1,"email":"e","created_at":"2026-01-01T00:00:00","updated_at":"2026-01-01T00:00:00Z"}',
            type=Author,
        )


def test_a_model_without_primary_key_fails_naming_the_class() -> None:
    class NoKey(BaseModel):
        name: str

    with pytest.raises(CompilationError, match="NoKey: no primary key"):
        model_info(NoKey)


def test_a_relation_to_an_unknown_model_fails_naming_the_field() -> None:
    class Orphan(BaseModel):
        id: int = ColumnField(primary_key=True)
        ghost: list[int] = OneToMany("NoSuchModel", foreign_key="x")

    with pytest.raises(CompilationError, match=r"Orphan\.ghost: relation target 'NoSuchModel'"):
        model_info(Orphan)


def test_a_many_to_one_needs_a_local_foreign_key_column() -> None:
    class Child(BaseModel):
        id: int = ColumnField(primary_key=True)
        parent: Author = ManyToOne(Author, foreign_key="parent_id")

    with pytest.raises(CompilationError, match=r"Child\.parent: foreign_key='parent_id'"):
        model_info(Child)


def test_column_field_rejects_incoherent_declarations() -> None:
    with pytest.raises(TypeError, match="on_delete"):
        ColumnField(on_delete=OnDelete.CASCADE)
    with pytest.raises(TypeError, match="length"):
        ColumnField(length=0)
    with pytest.raises(TypeError, match="Projection"):
        Projection("books", aggregate="sum")
