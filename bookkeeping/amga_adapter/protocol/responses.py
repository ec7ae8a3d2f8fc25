"""Formatting what the server sends: greeting, response headers, rows, end of transmission.

A response is ``<code>[ <message>]\\n``, then (on success) one escaped value per line, then
the end-of-transmission marker. Protocol 2 ends with two ``\\004``; a session id, when the
server hands one out, sits between them as ``session<ID>``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from itertools import chain
from operator import methodcaller
from typing import Any

from bookkeeping.amga_adapter.protocol.quoting import escape_value

PROTOCOL_VERSION = 2
EOT = b"\x04"
CAN = b"\x18"
END = EOT + EOT


def greeting(server: str, *, methods: Iterable[str] = ("password", "certificate")) -> bytes:
    """The three greeting lines: identification, ``Protocol 2``, authentication methods."""
    lines = [
        server.replace("\n", " "),
        f"Protocol {PROTOCOL_VERSION}",
        "Authentication methods: " + " ".join(methods),
    ]
    return ("\n".join(lines) + "\n").encode()


def format_value(value: object) -> str:
    """One catalogue value as the text of a response line (NULL is an empty line)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return escape_value(str(value))


def success(message: str = "") -> bytes:
    """The header line of a successful response."""
    return f"0 {_one_line(message)}\n".encode() if message else b"0\n"


def rows(values: Iterable[object]) -> bytes:
    """Response lines for a sequence of values (one per line), formatted per batch: the
    strings and integers that make up nearly every row go out as they are, and the batch
    is checked once for a character that needs escaping (then it is formatted value by
    value). The bytes are those of ``format_value`` line by line either way."""
    listed = values if isinstance(values, list) else list(values)
    texts = [
        value if type(value) is str else str(value) if type(value) is int else format_value(value)
        for value in listed
    ]
    joined = "\n".join(texts)
    if _needs_escaping(joined, len(texts)):
        return "".join(format_value(value) + "\n" for value in listed).encode()
    return (joined + "\n").encode() if texts else b""


def table(groups: Sequence[Sequence[object]]) -> bytes:
    """Response lines for a batch of result rows, row after row, value after value: the
    bytes of ``rows`` over the flattened values. Formatted column by column (a column holds
    one type nearly always): integer and string columns go into one ``%`` format of the
    whole batch as they are (``%d``, ``%s``: converted in C, no Python step per value),
    other columns are converted by one ``map`` each first. Rows of unequal width go
    through ``rows``."""
    if not groups:
        return b""
    width = len(groups[0])
    if width == 0 or any(len(group) != width for group in groups):
        return rows([value for group in groups for value in group])
    columns: list[Sequence[object]] = list(zip(*groups, strict=True))
    specs: list[str] = []
    converted = False
    for index, column in enumerate(columns):
        kinds = set(map(type, column))
        kind = kinds.pop() if len(kinds) == 1 else None
        if kind is int or kind is str:  # exact types: bool is not int here
            specs.append("%d" if kind is int else "%s")
        else:
            specs.append("%s")
            columns[index] = _column_texts(column)  # type: ignore[arg-type]
            converted = True
    values = tuple(chain.from_iterable(zip(*columns, strict=True) if converted else groups))
    text = ("\n".join(specs) + "\n") * len(groups) % values
    if _needs_escaping(text[:-1], len(values)):
        return "".join(format_value(value) + "\n" for group in groups for value in group).encode()
    return text.encode()


# Formatters of a column whose values are all of one of these exact types (bool is not
# int here: ``type(True) is bool``); the text is ``format_value``'s, escaping aside, which
# ``table`` checks on the joined batch.
_COLUMN_FORMATS: dict[type, Callable[[Any], str]] = {
    int: str,
    float: repr,
    dt.datetime: methodcaller("isoformat", " "),  # a C call, no frame per value
    dt.date: dt.date.isoformat,
}


def _column_texts(column: tuple[object, ...]) -> Sequence[str]:
    kinds = set(map(type, column))
    if len(kinds) == 1:
        kind = kinds.pop()
        if kind is str:
            return column  # type: ignore[return-value]  # all str, checked above
        format_one = _COLUMN_FORMATS.get(kind)
        if format_one is not None:
            return list(map(format_one, column))
    return [format_value(value) for value in column]


def _needs_escaping(joined: str, count: int) -> bool:
    """Whether a value of the newline-joined batch of ``count`` texts holds a character
    ``escape_value`` changes (a newline shows as one newline too many)."""
    return (
        "\\" in joined
        or "\r" in joined
        or "\x04" in joined
        or joined.count("\n") != max(count - 1, 0)
    )


def end(session_id: int | None = None) -> bytes:
    """The protocol-2 end of a response, optionally handing the client a session id."""
    if session_id is None:
        return END
    return EOT + f"session{session_id}".encode() + EOT


def error(code: int, message: str, session_id: int | None = None) -> bytes:
    """A complete error response: ``<code> <message>`` then the end marker."""
    if code == 0:
        raise ValueError("an error response needs a non-zero code")
    return f"{code} {_one_line(message)}\n".encode() + end(session_id)


def _one_line(message: str) -> str:
    return escape_value(message.strip())
