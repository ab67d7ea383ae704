"""``--param NAME=VALUE`` options into the values a params type validates."""

from __future__ import annotations

import difflib
import json
import re
import typing
from collections.abc import Sequence
from typing import Any

import msgspec

from loom.etl.cli._common import BadInput
from loom.etl.dsl._declarations import ETLParams, declared_params_type
from loom.etl.errors import ParamsValidationError

__all__ = ["explain_params_error", "parse_params"]

_SEQUENCES = (list, tuple, set, frozenset)
_MISSING = re.compile(r"missing required field `([^`]+)`")


def _is_sequence(annotation: Any) -> bool:
    origin = typing.get_origin(annotation) or annotation
    if origin in _SEQUENCES:
        return True
    return any(_is_sequence(a) for a in typing.get_args(annotation) if a is not type(None))


def _value(text: str, annotation: Any) -> Any:
    stripped = text.strip()
    if _is_sequence(annotation):
        if stripped.startswith("["):
            try:
                return json.loads(stripped)
            except json.JSONDecodeError:
                pass
        return [part.strip() for part in text.split(",") if part.strip()]
    if stripped.startswith(("{", "[")):
        try:
            return json.loads(stripped)
        except json.JSONDecodeError:
            return text
    return text


def parse_params(pairs: Sequence[str], pipeline: type) -> dict[str, Any]:
    """``{"run_date": "2026-01-01", ...}`` from ``("run_date=2026-01-01", ...)``.

    Values stay text (the params type converts them: dates, numbers, booleans); a field
    typed as a list or tuple takes ``a,b,c`` or a JSON list.

    Raises:
        BadInput: a pair is not ``NAME=VALUE``, repeats a name, or names no field.
    """
    params_type = declared_params_type(pipeline) or ETLParams
    hints = typing.get_type_hints(params_type)
    fields = [f.name for f in msgspec.structs.fields(params_type)]
    values: dict[str, Any] = {}
    for pair in pairs:
        name, sep, text = pair.partition("=")
        name = name.strip()
        if not sep or not name:
            raise BadInput(
                f"--param {pair!r}: expected NAME=VALUE, e.g. --param run_date=2026-01-01"
            )
        if name in values:
            raise BadInput(f"--param {name} is given twice")
        if name not in fields:
            close = difflib.get_close_matches(name, fields, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            known = ", ".join(fields) or "none"
            raise BadInput(
                f"--param {name}: {params_type.__name__} has no field {name!r}{hint}; "
                f"its fields: {known}"
            )
        values[name] = _value(text, hints.get(name, Any))
    return values


def explain_params_error(error: ParamsValidationError, given: dict[str, Any]) -> BadInput:
    """The params error, naming each ``--param`` at fault with the value given."""
    lines = []
    for problem in error.errors:
        name = problem.field.split(".")[0].split("[")[0]
        missing = _MISSING.search(problem.message)
        if missing is not None:
            lines.append(f"--param {missing[1]} is required (NAME=VALUE)")
        elif name in given:
            lines.append(f"--param {name}={given[name]!r}: {problem.message}")
        elif name:
            lines.append(f"--param {name} is required: {problem.message}")
        else:
            lines.append(f"params: {problem.message}")
    return BadInput("\n".join(lines) if lines else str(error))
