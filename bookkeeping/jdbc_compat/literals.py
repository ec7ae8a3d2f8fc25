"""Python values -> query-language literals (the parameters of a statement are data: the
query compiler turns every literal into a bound parameter, and a string literal is always
one double-quoted token whatever it contains)."""

from __future__ import annotations

import datetime
import decimal
import math

from bookkeeping.jdbc_compat.exceptions import DataError, NotSupportedError


class Untranslatable(Exception):
    """The query language cannot say this exactly; the caller may evaluate it in Python."""


def render_literal(value: object) -> str:
    if value is None:
        # The language has no NULL literal; SQL's comparisons with NULL are computed in Python.
        raise Untranslatable("NULL")
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise NotSupportedError(f"non-finite number {value!r} as a parameter")
        return repr(value)
    if isinstance(value, decimal.Decimal):
        if not value.is_finite():
            raise NotSupportedError(f"non-finite number {value!r} as a parameter")
        return format(value, "f")
    if isinstance(value, datetime.datetime):
        return quote_string(value.isoformat(sep=" "))
    if isinstance(value, datetime.date | datetime.time):
        return quote_string(value.isoformat())
    if isinstance(value, str):
        return quote_string(value)
    if isinstance(value, bytes | bytearray | memoryview):
        raise NotSupportedError("binary values: the catalogue has no binary attribute type")
    raise NotSupportedError(f"parameter of type {type(value).__name__}")


def quote_string(text: str) -> str:
    """A double-quoted string token: backslash and double quote are backslash-escaped."""
    refuse_nul(text)
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def refuse_nul(text: str) -> None:
    """The catalogue stores no NUL character (PostgreSQL cannot) and its query language
    refuses one: a DataError, as for the value the catalogue refuses to store."""
    if "\x00" in text:
        raise DataError(
            "text holding a NUL character: the catalogue can neither store nor query it"
        )
