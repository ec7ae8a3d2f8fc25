"""Parsing conditions, selected items and update expressions into ``query.ast`` nodes.

One LALR parser (grammar.lark, built once) with the AST built inline while parsing, so no
recursive pass ever runs over an unchecked tree. Errors come out as QuerySyntaxError with
the position of the offending token and what was expected there.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from importlib import resources
from typing import cast

from lark import Lark, Token
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from . import ast
from .builder import AstBuilder, Problem
from .errors import QueryError, QuerySyntaxError
from .keywords import MAX_NESTING, KeywordPostLexer, NestingTooDeep

MAX_QUERY_LENGTH = 1_000_000  # characters; a condition with a long in (...) list fits easily
MAX_DEPTH = MAX_NESTING + 10  # levels of the expression tree
MAX_TESTS = 500  # comparisons in one condition (see _parse_uncached)
_TESTS = (ast.Comparison, ast.Like, ast.InList, ast.IsNull)
_CACHED_LENGTH = 2048  # longer texts are parsed every time (the cache must stay small)

# Terminals as the user knows them, in the order they are listed in "expected ...".
_EXPECTED_NAMES = {
    "WORD": "an attribute",
    "REF": "an attribute",
    "INT": "a number",
    "DECIMAL": "a number",
    "STRING": "a string",
    "COMPARE": "a comparison (= != <> < > <= >=)",
    "ARITHMETIC": "an operator (+ - * /)",
    "ADD_OP": "a sign (+ -)",
    "MUL_OP": "an operator (* /)",
    "LPAR": "'('",
    "RPAR": "')'",
    "COMMA": "','",
    "$END": "the end",
}


@functools.cache
def _parser() -> Lark:
    grammar = resources.files(__package__).joinpath("grammar.lark").read_text("utf-8")
    return Lark(
        grammar,
        parser="lalr",
        lexer="basic",
        postlex=KeywordPostLexer(),
        transformer=AstBuilder(),
        start=["start_condition", "start_expression"],
        maybe_placeholders=True,
    )


def parse_condition(text: str) -> ast.Condition:
    """A condition argument: ``[expression] [order by ...] [limit n] [offset n] [distinct]``.
    An empty (or all-blank) text is the condition that every entry meets."""
    condition = _parse(text, "start_condition")
    assert isinstance(condition, ast.Condition)
    for node in ast.walk(condition):
        if isinstance(node, ast.FunctionCall) and node.is_aggregate:
            raise QuerySyntaxError(
                f"aggregate {node.name}() is only allowed among the selected attributes",
                text,
                node.position,
            )
    return condition


def parse_expression(text: str) -> ast.Node:
    """A value expression without aggregates, e.g. the ``Size+1`` of an ``updateattr``."""
    expression = _parse_value(text)
    for node in ast.walk(expression):
        if isinstance(node, ast.FunctionCall) and node.is_aggregate:
            raise QuerySyntaxError(
                f"aggregate {node.name}() is not allowed in an expression", text, node.position
            )
    return expression


def parse_select_items(items: Sequence[str]) -> tuple[ast.Node, ...]:
    """Selected items: attributes, expressions, ``count(/dir:FILE)``, ``lower(attr)``, ...
    Each item is parsed on its own (on the wire each is one argument)."""
    parsed = []
    for text in items:
        item = _parse_value(text)
        _check_aggregate_nesting(item, text)
        parsed.append(item)
    return tuple(parsed)


def _parse_value(text: str) -> ast.Node:
    node = _parse(text, "start_expression")
    if ast.is_boolean(node):
        raise QuerySyntaxError("expected a value, found a condition", text, node.position)
    return node


def _check_aggregate_nesting(item: ast.Node, text: str) -> None:
    for node in ast.walk(item):
        if isinstance(node, ast.FunctionCall) and node.is_aggregate:
            for inner in ast.walk(node):
                if inner is not node and isinstance(inner, ast.FunctionCall) and inner.is_aggregate:
                    raise QuerySyntaxError(
                        f"aggregate {inner.name}() cannot be nested in {node.name}()",
                        text,
                        inner.position,
                    )


def _parse(text: str, start: str) -> ast.Node:
    """Parse (short texts through a cache: clients repeat the same conditions, and the
    AST is immutable, so sharing it is safe)."""
    if isinstance(text, str) and len(text) <= _CACHED_LENGTH:
        return _parse_cached(text, start)
    return _parse_uncached(text, start)


@functools.lru_cache(maxsize=2048)
def _parse_cached(text: str, start: str) -> ast.Node:
    return _parse_uncached(text, start)


def _parse_uncached(text: str, start: str) -> ast.Node:
    if not isinstance(text, str):
        raise TypeError(f"a query must be a str, not {type(text).__name__}")
    if len(text) > MAX_QUERY_LENGTH:
        raise QuerySyntaxError(
            f"query too long ({len(text)} characters, at most {MAX_QUERY_LENGTH})",
            text,
            MAX_QUERY_LENGTH,
        )
    nul = text.find("\0")
    if nul >= 0:
        raise QuerySyntaxError("NUL characters are not allowed in a query", text, nul)
    if start == "start_condition" and not text.strip():
        return ast.Condition(position=0)
    try:
        # The parser's transformer builds the AST: what parse returns is an ast.Node.
        node = cast(ast.Node, _parser().parse(text, start=start))
    except NestingTooDeep as error:
        raise QuerySyntaxError(
            f"parentheses nested too deeply (at most {MAX_NESTING} levels)", text, error.position
        ) from None
    except Problem as problem:
        raise QuerySyntaxError(problem.message, text, problem.position) from None
    except UnexpectedInput as error:
        raise _syntax_error(error, text) from None
    if ast.depth(node) > MAX_DEPTH:
        raise QuerySyntaxError(
            f"expression nested too deeply (at most {MAX_DEPTH} levels)", text, node.position
        )
    tests = [n for n in ast.walk(node) if isinstance(n, _TESTS)]
    if len(tests) > MAX_TESTS:
        # SQLite parses "a OR b OR ..." as a tree as deep as the chain and refuses one
        # over 1000 deep; one bound, well below it, for every back-end.
        raise QuerySyntaxError(
            f"too many comparisons ({len(tests)}; at most {MAX_TESTS}): use in (...) for "
            "a list of values",
            text,
            tests[MAX_TESTS].position,
        )
    return node


def _syntax_error(error: UnexpectedInput, text: str) -> QueryError:
    if isinstance(error, UnexpectedCharacters):
        position = error.pos_in_stream or 0  # always set for UnexpectedCharacters
        character = text[position]
        if character in "\"'":
            return QuerySyntaxError("unterminated string literal", text, position)
        return QuerySyntaxError(f"unexpected character {character!r}", text, position)
    if isinstance(error, UnexpectedToken):
        token: Token = error.token
        if token.type == "$END":
            position, found = len(text.rstrip()), "end of text"
        else:
            position, found = token.start_pos or 0, repr(_shorten(str(token.value)))
        expected = _describe_expected(_acceptable(error))
        return QuerySyntaxError(f"unexpected {found}; expected {expected}", text, position)
    return QuerySyntaxError("malformed query", text, getattr(error, "pos_in_stream", 0) or 0)


def _acceptable(error: UnexpectedToken) -> set[str]:
    """The terminals the parser would really accept at the error. LALR's own lookahead set
    (``error.expected``) merges states and lists tokens that could never follow here; the
    interactive parser tries each one."""
    interactive = error.interactive_parser
    if interactive is None:
        return set(error.expected)
    return set(interactive.accepts()) or set(error.expected)


def _describe_expected(terminals: set[str]) -> str:
    if {"ADD_OP", "MUL_OP"} <= terminals:  # after an operand: any arithmetic operator
        terminals = (terminals - {"ADD_OP", "MUL_OP"}) | {"ARITHMETIC"}
    names: list[str] = []
    order = list(_EXPECTED_NAMES)
    for terminal in sorted(terminals, key=lambda t: (order.index(t) if t in order else 99, t)):
        name = _EXPECTED_NAMES.get(terminal, f"'{terminal.lower().replace('_', ' ')}'")
        if name not in names:
            names.append(name)
    if not names:
        return "nothing more"
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


def _shorten(value: str, width: int = 30) -> str:
    return value if len(value) <= width else value[: width - 3] + "..."
