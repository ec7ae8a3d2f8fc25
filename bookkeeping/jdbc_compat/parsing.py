"""SQL text -> one sqlglot statement, with its ``?`` parameters numbered in text order.

Parsing uses sqlglot with one fixed dialect (SQLite's: qmark parameters, double-quoted
identifiers, LIMIT/OFFSET), never a hand-written parser. Exactly one statement is accepted;
stacked statements are refused before anything runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.dialects.sqlite import SQLite
from sqlglot.errors import ParseError, TokenError
from sqlglot.tokens import TokenType

from bookkeeping.jdbc_compat.exceptions import ProgrammingError

PARAMETER_INDEX = "jdbc_parameter_index"


class _Dialect(SQLite):
    """SQLite's dialect, with each ``?`` remembering where it stood in the text: sqlglot
    stores arguments in a fixed order (``LIMIT`` before ``FROM``), not the text's."""

    # sqlglot declares a dialect's Parser as a class attribute, which mypy will not take as a
    # base; subclassing it is sqlglot's documented way to extend a dialect.
    class Parser(SQLite.Parser):  # type: ignore[misc, valid-type]
        PLACEHOLDER_PARSERS: Any = {
            **SQLite.Parser.PLACEHOLDER_PARSERS,
            TokenType.PLACEHOLDER: lambda self: self.expression(
                exp.Placeholder(), token=self._prev
            ),
        }


@lru_cache(maxsize=256)
def _parse(sql: str) -> tuple[exp.Expr, int]:
    try:
        statements = [s for s in sqlglot.parse(sql, read=_Dialect) if s is not None]
    except (ParseError, TokenError) as exc:
        raise ProgrammingError(f"SQL syntax error: {_first_line(exc)}") from None
    if not statements:
        raise ProgrammingError("empty SQL statement")
    if len(statements) > 1:
        raise ProgrammingError(
            f"one SQL statement per execute, got {len(statements)} (stacked statements)"
        )
    statement = statements[0]
    placeholders = list(statement.find_all(exp.Placeholder))
    for node in placeholders:
        if node.this:
            raise ProgrammingError(f"parameter {node.sql()!r}: only '?' parameters are supported")
    placeholders.sort(key=lambda node: node.meta["start"])
    for index, node in enumerate(placeholders):
        node.meta[PARAMETER_INDEX] = index
    return statement, len(placeholders)


def parameter(node: exp.Placeholder, params: Sequence[object]) -> object:
    """The value bound to a ``?``."""
    return params[node.meta[PARAMETER_INDEX]]


def parse_statement(sql: str) -> tuple[exp.Expr, int]:
    """The parsed statement (shared and cached: never mutate it) and its parameter count."""
    if not isinstance(sql, str):
        raise ProgrammingError(f"SQL must be a string, got {type(sql).__name__}")
    return _parse(sql)


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
