"""Validating the params of a run, and reading values through ``params`` references."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import msgspec

from loom.core.errors import FieldError
from loom.etl.dsl._declarations import ETLParams
from loom.etl.dsl._expr import ParamRef
from loom.etl.errors import ParamsValidationError

__all__ = ["coerce_params", "resolve_param"]

_AT = re.compile(r"^(?P<reason>.*?)(?: - at `\$\.?(?P<path>[^`]*)`)?$", re.S)


def _field_error(exc: msgspec.ValidationError) -> FieldError:
    match = _AT.match(str(exc))
    assert match is not None  # the pattern accepts any text
    return FieldError(match["path"] or "", match["reason"])


def coerce_params(params_type: type[ETLParams], value: object, *, pipeline: str) -> ETLParams:
    """Validate ``value`` into ``params_type``.

    ``value`` may be an instance (re-validated, since msgspec does not check types on
    construction), a mapping of plain values (``{"run_date": "2024-05-01"}``), or
    ``None`` when every field has a default.

    Raises:
        ParamsValidationError: naming the field and the reason.
    """
    fix = f"pass {params_type.__name__}(...) with values of the declared types"
    if isinstance(value, ETLParams) and not isinstance(value, params_type):
        raise ParamsValidationError(
            f"expected {params_type.__name__}, got {type(value).__name__}",
            pipeline=pipeline,
            fix=fix,
        )
    if value is not None and not isinstance(value, ETLParams | Mapping):
        raise ParamsValidationError(
            f"params must be a {params_type.__name__} or a mapping, got {type(value).__name__}",
            pipeline=pipeline,
            fix=fix,
        )
    target = type(value) if isinstance(value, params_type) else params_type
    try:
        data: Any = (
            {}
            if value is None
            else msgspec.to_builtins(value)
            if isinstance(value, ETLParams)
            else dict(value)
        )
        return msgspec.convert(data, target, strict=False)
    except msgspec.ValidationError as exc:
        raise ParamsValidationError(
            errors=[_field_error(exc)], pipeline=pipeline, fix=fix
        ) from None
    except (TypeError, msgspec.EncodeError) as exc:
        raise ParamsValidationError(str(exc), pipeline=pipeline, fix=fix) from None


def resolve_param(values: ETLParams, ref: ParamRef) -> Any:
    """The value ``ref`` points at in ``values`` (``params.run_date.year`` → ``2024``).

    Raises:
        AttributeError: a part of the path is missing (or ``None`` before its attribute).
    """
    current: Any = values
    walked = "params"
    for name in ref.path:
        if current is None:
            raise AttributeError(f"{walked} is None, so {walked}.{name} has no value")
        current = getattr(current, name)
        walked = f"{walked}.{name}"
    return current
