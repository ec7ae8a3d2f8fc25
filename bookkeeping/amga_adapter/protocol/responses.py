"""Formatting what the server sends: greeting, response headers, rows, end of transmission.

A response is ``<code>[ <message>]\\n``, then (on success) one escaped value per line, then
the end-of-transmission marker. Protocol 2 ends with two ``\\004``; a session id, when the
server hands one out, sits between them as ``session<ID>``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal

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
    """Response lines for a sequence of values (one per line)."""
    return "".join(format_value(value) + "\n" for value in values).encode()


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
