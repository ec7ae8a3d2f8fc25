"""Errors of the query language: where in the text the problem is, and what was expected."""

from __future__ import annotations

from bookkeeping.errors import BookkeepingError, Kind

# How much of a long query is quoted around the error position.
_EXCERPT_WIDTH = 70


class QueryError(BookkeepingError):
    """A query that cannot be run; ``position`` is the 0-based offset of the culprit."""

    code = 50
    kind = Kind.SYNTAX
    sqlstate = "42601"

    def __init__(self, problem: str, text: str, position: int) -> None:
        position = max(0, min(position, len(text)))
        line = text.count("\n", 0, position) + 1
        column = position - (text.rfind("\n", 0, position) + 1) + 1
        super().__init__(
            f"{problem} (line {line}, column {column})\n{excerpt(text, position)}",
            position=position,
            line=line,
            column=column,
        )
        self.problem = problem
        self.text = text
        self.position = position
        self.line = line
        self.column = column


class QuerySyntaxError(QueryError):
    """The text is not a well-formed condition, item or expression."""

    code = 51


class QueryTypeError(QueryError):
    """Well-formed, but meaningless: an aggregate in a condition, a string that is not a
    number compared with a numeric attribute, an unknown function, ..."""

    code = 52
    sqlstate = "42804"


def excerpt(text: str, position: int) -> str:
    """The line holding ``position`` (cut to a window around it) and a caret under it.

    Control characters are shown as ``?`` so the caret stays aligned and the message stays
    printable whatever the input held.
    """
    start_of_line = text.rfind("\n", 0, position) + 1
    end_of_line = text.find("\n", position)
    if end_of_line == -1:
        end_of_line = len(text)
    start = max(start_of_line, position - _EXCERPT_WIDTH // 2)
    end = min(end_of_line, start + _EXCERPT_WIDTH)
    shown = "".join(ch if ch.isprintable() else "?" for ch in text[start:end])
    prefix = "..." if start > start_of_line else ""
    suffix = "..." if end < end_of_line else ""
    return f"  {prefix}{shown}{suffix}\n  {' ' * (len(prefix) + position - start)}^"
