"""Decoding payloads into commands: a fast path, and a slow path that lists every problem."""

from __future__ import annotations

import re
import typing
from collections.abc import Mapping
from typing import Any, TypeVar

import msgspec

from loom.core.errors import FieldError, ValidationError

__all__ = ["check_lengths", "decode_command", "describe_error"]

S = TypeVar("S", bound=msgspec.Struct)
_AT = re.compile(r"^(?P<reason>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.S)
_FIELD = re.compile(r"^Object (?:contains unknown|missing required) field `(?P<field>[^`]+)`$")
_decoders: dict[type[Any], msgspec.json.Decoder[Any]] = {}


def describe_error(
    error: msgspec.ValidationError | msgspec.DecodeError, prefix: str = ""
) -> FieldError:
    """Turn one msgspec error into a :class:`FieldError` with a dotted field path."""
    match = _AT.match(str(error))
    assert match is not None
    reason, path = match["reason"], (match["path"] or "")
    parts = [p for p in re.split(r"\.|\[(\d+)\]", path) if p]
    if prefix:
        parts.insert(0, prefix)
    named = _FIELD.match(reason)
    if named:
        parts.append(named["field"])
        reason = "unknown field" if "unknown" in reason else "field required"
    return FieldError(".".join(parts), reason)


def check_lengths(command: msgspec.Struct, max_lengths: Mapping[str, int]) -> list[FieldError]:
    """Return an error for every string field longer than its declared maximum."""
    errors = []
    for field, limit in max_lengths.items():
        value = getattr(command, field, None)
        if isinstance(value, str) and len(value) > limit:
            errors.append(FieldError(field, f"at most {limit} characters, got {len(value)}"))
    return errors


def decode_command(
    cls: type[S],
    payload: bytes | str | Mapping[str, Any],
    *,
    max_lengths: Mapping[str, int] | None = None,
) -> S:
    """Validate ``payload`` into ``cls``; on failure report every problem at once.

    Args:
        cls: The command (any msgspec struct) to produce.
        payload: JSON bytes/text, or an already-parsed mapping.
        max_lengths: Maximum string lengths per field (from the model's ``ColumnField``).

    Raises:
        ValidationError: every problem, each with its field path.
    """
    try:
        if isinstance(payload, bytes | str):
            decoder = _decoders.get(cls)
            if decoder is None:
                decoder = _decoders[cls] = msgspec.json.Decoder(cls)
            command: S = decoder.decode(payload)
        else:
            command = msgspec.convert(payload, cls)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise ValidationError(errors=_collect(cls, payload, exc)) from None
    if max_lengths:
        errors = check_lengths(command, max_lengths)
        if errors:
            raise ValidationError(errors=errors)
    return command


def _collect(
    cls: type[msgspec.Struct],
    payload: bytes | str | Mapping[str, Any],
    first: msgspec.ValidationError | msgspec.DecodeError,
) -> list[FieldError]:
    if isinstance(payload, bytes | str):
        try:
            data = msgspec.json.decode(payload)
        except msgspec.DecodeError as exc:
            return [FieldError("", f"malformed JSON: {exc}")]
    else:
        data = payload
    if not isinstance(data, Mapping):
        return [FieldError("", f"expected a JSON object, got {type(data).__name__}")]
    config = cls.__struct_config__
    encoded = dict(zip(cls.__struct_encode_fields__, cls.__struct_fields__, strict=True))
    hints = typing.get_type_hints(cls, include_extras=True)
    required = [f.encode_name for f in msgspec.structs.fields(cls) if f.required]
    errors: list[FieldError] = []
    for key, value in data.items():
        name = encoded.get(key)
        if name is None:
            if config.forbid_unknown_fields:
                errors.append(FieldError(str(key), "unknown field"))
            continue
        try:
            msgspec.convert(value, hints[name])
        except msgspec.ValidationError as exc:
            errors.append(describe_error(exc, prefix=key))
    errors.extend(FieldError(key, "field required") for key in required if key not in data)
    return errors or [describe_error(first)]
