from __future__ import annotations

from datetime import UTC, datetime

import msgspec
import pytest

from loom.core.command import Command, Patch, decode_command
from loom.core.errors import ValidationError


class CreateUser(Command, frozen=True):
    full_name: str
    email: str
    age: int = 0


class UpdateUser(Command, frozen=True):
    full_name: Patch[str] = None
    email: Patch[str] = None
    born: Patch[datetime] = None


class Line(msgspec.Struct):
    sku: str
    quantity: int


class CreateOrder(Command, frozen=True):
    lines: list[Line]


def test_commands_are_frozen() -> None:
    cmd = CreateUser(full_name="Ada", email="a@b.c")
    with pytest.raises(AttributeError):
        cmd.email = "x"  # type: ignore[misc]


def test_patch_distinguishes_absent_null_and_value() -> None:
    absent = UpdateUser.decode(b"{}")
    null = UpdateUser.decode(b'{"email": null}')
    value = UpdateUser.decode(b'{"email": "e@x.io"}')
    assert absent.email is msgspec.UNSET
    assert null.email is None
    assert value.email == "e@x.io"
    assert absent.fields_set == frozenset()
    assert null.fields_set == {"email"}
    assert value.fields_set == {"email"}


def test_dict_view_skips_absent_patch_fields() -> None:
    cmd = UpdateUser.decode(b'{"full_name": "Ada", "email": null}')
    assert cmd.__dict__ == {"full_name": "Ada", "email": None}
    assert UpdateUser().__dict__ == {}


def test_seed_style_record_from_dict_view() -> None:
    cmd = CreateUser(full_name="Ada", email="a@b.c")

    class Record(Command, frozen=True):
        user_id: int
        full_name: str
        email: str
        age: int

    assert Record(user_id=7, **cmd.__dict__) == Record(
        user_id=7, full_name="Ada", email="a@b.c", age=0
    )


def test_every_problem_is_reported_with_its_field_path() -> None:
    with pytest.raises(ValidationError) as info:
        CreateUser.decode(b'{"full_name": 3, "age": "x", "nick": "y"}')
    problems = {(e.field, e.message) for e in info.value.errors}
    assert ("full_name", "Expected `str`, got `int`") in problems
    assert ("age", "Expected `int`, got `str`") in problems
    assert ("nick", "unknown field") in problems
    assert ("email", "field required") in problems
    assert len(problems) == 4


def test_nested_paths_are_dotted() -> None:
    with pytest.raises(ValidationError) as info:
        CreateOrder.decode(
            b'{"lines": [{"sku": "a", "quantity": 1}, {"sku": "b", "quantity": "x"}]}'
        )
    assert [e.field for e in info.value.errors] == ["lines.1.quantity"]


def test_malformed_json_and_non_objects_are_validation_errors() -> None:
    with pytest.raises(ValidationError, match="malformed JSON"):
        CreateUser.decode(b'{"full_name": ')
    with pytest.raises(ValidationError, match="expected a JSON object, got list"):
        CreateUser.decode(b"[1, 2]")


def test_mappings_decode_too() -> None:
    assert CreateUser.decode({"full_name": "A", "email": "e"}).email == "e"
    with pytest.raises(ValidationError) as info:
        CreateUser.decode({"full_name": "A"})
    assert info.value.errors[0].field == "email"


def test_lengths_are_checked_when_given() -> None:
    with pytest.raises(ValidationError) as info:
        decode_command(
            CreateUser, b'{"full_name": "abcdef", "email": "e"}', max_lengths={"full_name": 5}
        )
    assert info.value.errors[0].field == "full_name"
    assert "at most 5 characters" in info.value.errors[0].message


def test_naive_datetimes_are_rejected_and_aware_ones_kept() -> None:
    with pytest.raises(ValidationError, match="naive datetime"):
        UpdateUser.decode(b'{"born": "2000-01-01T00:00:00"}')
    cmd = UpdateUser.decode(b'{"born": "2000-01-01T00:00:00Z"}')
    assert cmd.born == datetime(2000, 1, 1, tzinfo=UTC)


def test_patch_fields_are_recorded_on_the_class() -> None:
    assert UpdateUser.__patch_fields__ == {"full_name", "email", "born"}
    assert CreateUser.__patch_fields__ == frozenset()
