"""``bk ls``: the where-clause language and the kls-style output lines (seed 004).

A where-clause compares file attributes with literals, joined by ``and``, ``or``, ``not``
and parentheses::

    production = 12345 and run >= 111000 and quality = 'OK'
    eventtype in (90000000, 91000000) or not (size < 1000000)

It is parsed by a lark grammar into the ``bookkeeping.interface.Condition`` tree, which each
implementation compiles with bound parameters: no text of the user's reaches SQL.
"""

from __future__ import annotations

from typing import Any, cast

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import LarkError, UnexpectedInput, VisitError

from bookkeeping.interface import (
    LISTING_ATTRIBUTES,
    Comparison,
    ComparisonOperator,
    Condition,
    ListedFile,
    Logical,
    Not,
)
from bookkeeping.units import human_bytes
from bookkeeping.writer.errors import ListingSyntaxError

MAX_WHERE_LENGTH = 4096
_MAX_INT64 = 2**63 - 1

_GRAMMAR = r"""
?start: disjunction
?disjunction: conjunction (_OR conjunction)*
?conjunction: negation (_AND negation)*
?negation: _NOT negation -> not_
         | atom
?atom: comparison
     | membership
     | "(" disjunction ")"
comparison: NAME OPERATOR value
membership: NAME _IN "(" value ("," value)* ")"
?value: INT -> integer
      | "-" INT -> negative
      | STRING -> string
OPERATOR: "<>" | "!=" | "==" | "<=" | ">=" | "=" | "<" | ">"
_OR.2: /or\b/i
_AND.2: /and\b/i
_NOT.2: /not\b/i
_IN.2: /in\b/i
NAME: /[A-Za-z_][A-Za-z0-9_]*/
STRING: /'(?:[^'\\]|\\.|'')*'/ | /"(?:[^"\\]|\\.)*"/
%import common.INT
%import common.WS
%ignore WS
"""

_OPERATORS = {"<>": "!=", "==": "="}


class _ToCondition(Transformer[Token, Condition]):
    def disjunction(self, items: list[Condition]) -> Condition:
        return Logical("or", tuple(items))

    def conjunction(self, items: list[Condition]) -> Condition:
        return Logical("and", tuple(items))

    def not_(self, items: list[Condition]) -> Condition:
        return Not(items[0])

    @v_args(inline=True)
    def integer(self, token: Token) -> int:
        return int(token)

    @v_args(inline=True)
    def negative(self, token: Token) -> int:
        return -int(token)

    @v_args(inline=True)
    def string(self, token: Token) -> str:
        text = str(token)[1:-1]
        return text.replace("''", "'") if str(token).startswith("'") else text

    def comparison(self, items: list[Any]) -> Condition:
        name, operator, value = items
        attribute = _attribute(name)
        # The grammar admits only the operators of ComparisonOperator (and their aliases).
        op = cast("ComparisonOperator", _OPERATORS.get(str(operator), str(operator)))
        return Comparison(attribute, op, (_typed(attribute, value),))

    def membership(self, items: list[Any]) -> Condition:
        attribute = _attribute(items[0])
        return Comparison(attribute, "in", tuple(_typed(attribute, v) for v in items[1:]))


def _attribute(token: Token) -> str:
    name = str(token).lower()
    if name not in LISTING_ATTRIBUTES:
        known = ", ".join(sorted(LISTING_ATTRIBUTES))
        raise ListingSyntaxError(
            f"unknown attribute {str(token)!r} at column {token.column}; known: {known}"
        )
    return name


def _typed(attribute: str, value: int | str) -> int | str:
    wanted = LISTING_ATTRIBUTES[attribute]
    if wanted is int and not isinstance(value, int):
        raise ListingSyntaxError(f"{attribute} is compared with a number, not {value!r}")
    if isinstance(value, int) and abs(value) > _MAX_INT64:
        raise ListingSyntaxError(f"{value} is out of range for {attribute}")
    return str(value) if wanted is str else value


_PARSER = Lark(_GRAMMAR, parser="lalr", maybe_placeholders=False)


def parse_where(text: str) -> Condition:
    """Parse a where-clause; ``ListingSyntaxError`` shows where it went wrong."""
    if len(text) > MAX_WHERE_LENGTH:
        raise ListingSyntaxError(f"where-clause longer than {MAX_WHERE_LENGTH} characters")
    try:
        tree = _PARSER.parse(text)
        return _ToCondition().transform(tree)
    except VisitError as exc:
        if isinstance(exc.orig_exc, ListingSyntaxError):
            raise exc.orig_exc from None
        raise
    except UnexpectedInput as exc:
        caret = " " * (exc.column - 1) + "^" if exc.column > 0 else ""
        raise ListingSyntaxError(
            f"cannot parse the where-clause at column {exc.column}:\n  {text}\n  {caret}"
        ) from None
    except LarkError as exc:  # e.g. an unexpected end of input
        raise ListingSyntaxError(f"cannot parse the where-clause: {exc}") from None


def format_size(size: int) -> str:
    """One spelling of sizes everywhere (``bookkeeping.units``): ``200 kB``, ``3.22 GB``."""
    return human_bytes(size)


def locations(line: ListedFile) -> str:
    """``offline`` (a disk copy), else ``on tape``; then ``recalled: {f0a 14}, ...``."""
    parts = []
    if line.on_disk:
        parts.append("offline")
    elif line.on_tape:
        parts.append("on tape")
    if line.recalled:
        parts.append("recalled: " + ", ".join(f"{{{area}}}" for area in line.recalled))
    return " ".join(parts) or "no available copy"


def format_line(line: ListedFile) -> str:
    return f" {line.lfn}    {format_size(line.size)} {locations(line)}"
