"""Syntax errors: where, what was expected, and a caret under the spot; hostile input gives
a clean error or a literal, never a crash, hang or RecursionError."""

from __future__ import annotations

import time

import pytest

from bookkeeping.amga_adapter.query import (
    QuerySyntaxError,
    parse_condition,
    parse_expression,
    parse_select_items,
)
from bookkeeping.amga_adapter.query.ast import Literal
from bookkeeping.amga_adapter.query.errors import QueryError
from bookkeeping.errors import BookkeepingError


def syntax_error(text: str) -> QuerySyntaxError:
    with pytest.raises(QuerySyntaxError) as caught:
        parse_condition(text)
    return caught.value


@pytest.mark.parametrize(
    ("text", "position", "fragment"),
    [
        ("a =", 3, "unexpected end of text; expected an attribute, a number, a string"),
        ("a = = 1", 4, "unexpected '='"),
        ("a = 1 b = 2", 6, "unexpected 'b'; expected"),
        ("(a = 1", 6, "expected ')'"),
        ("a = 1)", 5, "unexpected ')'"),
        ('a = "open', 4, "unterminated string literal"),
        ("a = 'open", 4, "unterminated string literal"),
        ("a ; b", 2, "unexpected character ';'"),
        ("a = 1 order by", 14, "unexpected end of text"),
        ("a = 1 limit", 6, "expected"),
        ("a = 1 limit 5 limit 6", 14, "'limit' given twice"),
        ("a in ()", 6, "unexpected ')'"),
        ("(a = 1 b", 7, "unexpected 'b'; expected an operator (+ - * /), ')', 'and' or 'or'"),
        ("a in (1 2)", 8, "unexpected '2'; expected an operator (+ - * /), ')' or ','"),
        ("a in 1", 2, "unexpected"),
        ("x", 0, "expected a condition (such as Size > 5), found a value"),
        ("a = 1 and 5", 10, "expected a condition"),
        ("(a = 1) + 2 > 0", 1, "a condition cannot be used as a value"),
        ("a < b < c", 6, "unexpected '<'"),
        ("count(x) > 1", 0, "aggregate count() is only allowed among the selected attributes"),
        ("frobnicate(x) = 1", 0, "unknown function frobnicate(); known: avg, count, like"),
        ("lower(a, b) = 1", 0, "lower() takes 1 argument, got 2"),
        ("like(a) ", 0, "like() takes 2 arguments, got 1"),
        ("a = 99999999999999999999", 4, "integer out of range"),
        ("a = 1\nand b = = 2", 14, "unexpected '='"),
    ],
)
def test_error_position_and_message(text: str, position: int, fragment: str) -> None:
    error = syntax_error(text)
    assert error.position == position
    assert fragment in error.problem


def test_message_quotes_the_input_with_a_caret() -> None:
    error = syntax_error("/jobs:A = = 1")
    assert str(error) == (
        "unexpected '='; expected an attribute, a number, a string, a sign (+ -) or '('"
        " (line 1, column 11)\n"
        "  /jobs:A = = 1\n"
        "            ^"
    )
    assert (error.line, error.column) == (1, 11)
    assert error.details == {"position": 10, "line": 1, "column": 11}


def test_line_and_column_on_later_lines() -> None:
    error = syntax_error("a = 1\n  and b = = 2")
    assert (error.position, error.line, error.column) == (16, 2, 11)
    assert str(error).endswith("\n    and b = = 2\n            ^")


def test_long_input_is_quoted_around_the_position() -> None:
    text = "a = 1 and " * 500 + "b = = 2"
    error = syntax_error(text)
    quoted, caret = str(error).splitlines()[1:]
    assert len(quoted) < 90 and quoted.startswith("  ...")
    assert quoted[caret.index("^")] == "="


def test_control_characters_do_not_shift_the_caret() -> None:
    error = syntax_error("a = \x1b ; 1")
    quoted, caret = str(error).splitlines()[1:]
    assert caret.index("^") == quoted.index("?")


def test_errors_are_bookkeeping_errors_with_a_stable_code() -> None:
    error = syntax_error("a =")
    assert isinstance(error, QueryError) and isinstance(error, BookkeepingError)
    assert error.code == 51


def test_select_item_errors_point_into_the_item() -> None:
    with pytest.raises(QuerySyntaxError) as caught:
        parse_select_items(["/d:a", "count(/d:b"])
    assert caught.value.text == "count(/d:b" and caught.value.position == 10
    with pytest.raises(QuerySyntaxError, match="cannot be nested"):
        parse_select_items(["count(max(a))"])
    with pytest.raises(QuerySyntaxError, match="unexpected '='"):
        parse_select_items(["a = 1"])


def test_expression_refuses_aggregates_and_modifiers() -> None:
    with pytest.raises(QuerySyntaxError, match="not allowed in an expression"):
        parse_expression("sum(a) + 1")
    with pytest.raises(QuerySyntaxError):
        parse_expression("a limit 5")


# -- hostile input ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "'; DROP TABLE x; --",
        "a = 1; DROP TABLE x; --",
        "a = 1 /* comment */",
        "a = `x`",
        "a = $1",
        "a = ?",
        "a = :name",
        "a = 0x1F",
        "a == 1",
        "\\",
        "🚀 = 1",
    ],
)
def test_sql_fragments_are_syntax_errors(text: str) -> None:
    syntax_error(text)


def test_double_minus_is_arithmetic_not_a_comment() -> None:
    parsed = parse_condition("a = 1 -- comment")
    assert parsed.where.right == parse_expression("1 - (-comment)")  # type: ignore[union-attr]


def test_sql_fragments_inside_literals_stay_literals() -> None:
    parsed = parse_condition("a = \"'; DROP TABLE x; --\" or b = '\" or 1=1 --'")
    values = [operand.right.value for operand in parsed.where.operands]  # type: ignore[union-attr]
    assert values == ["'; DROP TABLE x; --", '" or 1=1 --']


def test_nul_is_refused_where_it_is() -> None:
    error = syntax_error('a = "x\0y"')
    assert error.position == 6 and "NUL" in error.problem


def test_ten_kilobyte_literal_is_a_literal() -> None:
    value = "x" * 10_240
    assert parse_expression(f'"{value}"') == Literal(value, position=0)


def test_ten_kilobyte_garbage_is_a_quick_clean_error() -> None:
    for text in [
        "(" * 10_240,
        "a/" * 5_120,
        "-" * 10_240,
        "not " * 2_560,
        "a" * 10_240,
        "'" * 10_241,
    ]:
        started = time.perf_counter()
        with pytest.raises(QueryError):
            parse_condition(text)
        assert time.perf_counter() - started < 2


def test_deep_parentheses_are_refused_before_recursion() -> None:
    error = syntax_error("(" * 41 + "a = 1" + ")" * 41)
    assert error.position == 40 and "nested too deeply" in error.problem
    assert parse_condition("(" * 40 + "a = 1" + ")" * 40).where is not None


def test_deep_operator_chains_are_refused() -> None:
    with pytest.raises(QuerySyntaxError, match="nested too deeply"):
        parse_condition("a = " + " + ".join(["1"] * 5000))
    with pytest.raises(QuerySyntaxError, match="nested too deeply"):
        parse_condition("not " * 5000 + "a = 1")
    with pytest.raises(QuerySyntaxError, match="nested too deeply"):
        parse_expression("- " * 5000 + "a")


def test_too_long_query() -> None:
    with pytest.raises(QuerySyntaxError, match="query too long"):
        parse_condition("a = 1 or " * 200_000 + "a = 1")


def test_non_string_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        parse_condition(b"a = 1")  # type: ignore[arg-type]
