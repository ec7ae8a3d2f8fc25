"""Tokenising request lines and escaping values, following AMGA's quoting rules.

Requests: arguments are separated by blanks; a single-quoted argument may hold blanks and
double quotes; inside it ``\\'`` is a quote and ``\\\\`` a backslash. ``\\n``/``\\r`` stand for
newline/carriage return (a request is one line, so a value can carry a newline only
escaped). Any other backslash pair is kept as written so that conditions survive untouched.

Responses carry one value per line. A value is escaped so it can never break framing:
backslash -> ``\\\\``, newline -> ``\\n``, carriage return -> ``\\r``, ``\\004`` -> ``\\x04``.
Values without these characters (nearly all) go out unchanged, so unmodified AMGA clients read
them as before. ``unescape_value`` inverts ``escape_value`` exactly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bookkeeping.amga_adapter.protocol.errors import MalformedRequest

_BLANKS = " \t"
_REQUEST_ESCAPES = {"'": "'", "\\": "\\", "n": "\n", "r": "\r"}
_VALUE_ESCAPES = {"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\x04": "\\x04"}
_VALUE_UNESCAPES = {"\\": "\\", "n": "\n", "r": "\r"}


@dataclass(frozen=True, slots=True)
class Token:
    """One argument of a request; ``quoted`` tells whether any part was single-quoted."""

    text: str
    quoted: bool = False


_BLANK_RUN = re.compile(r"[ \t]*")
# A bare run, a complete quoted segment (its content in group 1), or a lone opening quote.
_PART = re.compile(r"[^ \t']+|'((?:[^'\\]|\\.)*)'|'", re.S)
_ESCAPE = re.compile(r"\\(.)", re.S)


def tokenize(line: str) -> list[Token]:
    """Split one request line (without its newline) into tokens."""
    tokens: list[Token] = []
    position, end = 0, len(line)
    while True:
        position = _BLANK_RUN.match(line, position).end()  # type: ignore[union-attr]
        if position >= end:
            return tokens
        parts: list[str] = []
        quoted = False
        while position < end and line[position] not in _BLANKS:
            match = _PART.match(line, position)
            assert match is not None  # every non-blank character starts some part
            text = match.group(0)
            if text[0] == "'":
                if match.group(1) is None:
                    raise MalformedRequest(f"unterminated quote starting at column {position + 1}")
                quoted = True
                parts.append(_ESCAPE.sub(_unescape_request, match.group(1)))
            else:
                parts.append(text)
            position = match.end()
        tokens.append(Token("".join(parts), quoted))


def _unescape_request(match: re.Match[str]) -> str:
    following = match.group(1)
    return _REQUEST_ESCAPES.get(following, "\\" + following)


def quote(value: object) -> str:
    """Quote a value for a request line (what the client sends); numbers stay bare."""
    if isinstance(value, bool):
        value = int(value)
    if isinstance(value, int | float):
        return str(value)
    text = str(value)
    text = text.replace("\\", "\\\\").replace("'", "\\'")
    text = text.replace("\n", "\\n").replace("\r", "\\r")
    return f"'{text}'"


def escape_value(text: str) -> str:
    """Make a response value safe for one line (see module docstring)."""
    if not any(char in text for char in _VALUE_ESCAPES):
        return text
    return "".join(_VALUE_ESCAPES.get(char, char) for char in text)


def unescape_value(text: str) -> str:
    """Invert :func:`escape_value`."""
    if "\\" not in text:
        return text
    out: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char == "\\" and i + 1 < len(text):
            following = text[i + 1]
            if following in _VALUE_UNESCAPES:
                out.append(_VALUE_UNESCAPES[following])
                i += 2
                continue
            if text.startswith("x04", i + 1):
                out.append("\x04")
                i += 4
                continue
        out.append(char)
        i += 1
    return "".join(out)
