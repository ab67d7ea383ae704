"""``StepSQL`` queries: ``:name`` placeholders found outside strings, identifiers and comments.

A placeholder is ``:`` followed by a params field, optionally with attributes
(``:run_date``, ``:run_date.year``). It is never replaced by pasting text: the backend
renders the bound value as a SQL literal of its own type (strings quoted with ``'``
doubled, dates as ``DATE '…'``). ``::`` casts, ``':x'`` inside strings, quoted
identifiers and comments are left alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from loom.etl.dsl._expr import ParamRef

__all__ = ["SqlTemplate", "parse_sql"]

_PLACEHOLDER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")
_WORD = re.compile(r"[A-Za-z0-9_]")


@dataclass(frozen=True, slots=True)
class SqlTemplate:
    """A query split into text and ``params`` references, in order."""

    text: str
    parts: tuple[str | ParamRef, ...]

    @property
    def params(self) -> tuple[ParamRef, ...]:
        """Every ``params`` reference, in order."""
        return tuple(p for p in self.parts if isinstance(p, ParamRef))


def _skip_quoted(text: str, start: int, quote: str) -> int:
    """Return the index after the quoted run that starts at ``start`` (doubled quote escapes)."""
    i = start + 1
    while i < len(text):
        if text[i] == quote:
            if i + 1 < len(text) and text[i + 1] == quote:
                i += 2
                continue
            return i + 1
        i += 1
    return len(text)


def _skip(text: str, i: int) -> int | None:
    """If a string, quoted identifier or comment starts at ``i``, return the index after it."""
    char = text[i]
    if char in "'\"`":
        return _skip_quoted(text, i, char)
    if text.startswith("--", i):
        end = text.find("\n", i)
        return len(text) if end < 0 else end
    if text.startswith("/*", i):
        end = text.find("*/", i + 2)
        return len(text) if end < 0 else end + 2
    return None


def parse_sql(text: str) -> SqlTemplate:
    """Split ``text`` into literal SQL and ``:name`` placeholders.

    Example:
        >>> parse_sql("SELECT * FROM t WHERE d = :run_date AND note <> ':x'").params
        (params.run_date,)

    """
    parts: list[str | ParamRef] = []
    buffer: list[str] = []
    i = 0
    while i < len(text):
        skipped = _skip(text, i)
        if skipped is not None:
            buffer.append(text[i:skipped])
            i = skipped
            continue
        char = text[i]
        if char == ":":
            if text.startswith("::", i):
                buffer.append("::")
                i += 2
                continue
            previous = text[i - 1] if i else ""
            match = _PLACEHOLDER.match(text, i + 1)
            if match and not _WORD.match(previous):
                parts.append("".join(buffer))
                buffer = []
                parts.append(ParamRef(tuple(match[0].split("."))))
                i = match.end()
                continue
        buffer.append(char)
        i += 1
    parts.append("".join(buffer))
    return SqlTemplate(text, tuple(p for p in parts if not isinstance(p, str) or p))
