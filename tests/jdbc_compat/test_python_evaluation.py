"""What Python computes over fetched rows follows SQL: three-valued logic, NULL ordering,
grouping and aggregates (plans run on hand-made rows; no database)."""

from __future__ import annotations

import decimal
from collections.abc import Sequence

import pytest

from bookkeeping.jdbc_compat import NotSupportedError, ProgrammingError
from bookkeeping.jdbc_compat.plans import SelectRows
from bookkeeping.jdbc_compat.translate import translate
from tests.jdbc_compat.static_schema import StaticSchema

SCHEMA = StaticSchema({"t": [("a", "int"), ("s", "varchar(10)"), ("x", "double")]})


def run(sql: str, rows: Sequence[tuple[object, ...]], *params: object) -> list[tuple[object, ...]]:
    """Run ``sql`` on rows of (a, s, x), through the plan's Python pipeline."""
    plan = translate(sql, params, SCHEMA)
    assert isinstance(plan, SelectRows) and plan.pipeline is not None
    assert plan.query.condition == "", "the whole WHERE must be Python's for this helper"
    position = {"/t:a": 0, "/t:s": 1, "/t:x": 2, "/t:FILE": 0}
    fetched = [tuple(row[position[item]] for item in plan.query.items) for row in rows]
    return list(plan.pipeline.run(fetched))


ROWS = [(1, "a", 1.0), (2, None, 2.0), (None, "c", None), (4, "d", 4.0)]


def test_is_null_and_is_not_null() -> None:
    assert run("SELECT s FROM t WHERE a IS NULL", ROWS) == [("c",)]
    assert run("SELECT a FROM t WHERE s IS NOT NULL ORDER BY a", ROWS) == [(None,), (1,), (4,)]


def test_or_with_unknown_keeps_true_rows_only() -> None:
    result = run("SELECT a FROM t WHERE s IS NULL OR a > 1 ORDER BY a", ROWS)
    assert result == [(2,), (4,)]


def test_not_in_with_a_null_in_the_list_matches_nothing() -> None:
    assert run("SELECT a FROM t WHERE a NOT IN (1, NULL)", ROWS) == []
    assert run("SELECT a FROM t WHERE a IN (1, NULL)", ROWS) == [(1,)]


def test_not_of_unknown_is_unknown() -> None:
    assert run("SELECT a FROM t WHERE NOT (a = ?)", ROWS, None) == []


def test_between_like_and_literal_coercion_in_python() -> None:
    rows = run("SELECT a FROM t WHERE NOT (s IS NULL OR a NOT BETWEEN '1' AND 3)", ROWS)
    assert rows == [(1,)]
    rows = run("SELECT s FROM t WHERE s LIKE s", ROWS)  # computed pattern
    assert rows == [("a",), ("c",), ("d",)]


def test_like_in_python_is_case_sensitive_with_sql_wildcards() -> None:
    rows = [(1, "Ab_c", 0.0), (2, "abXc", 0.0), (3, "ab_c", 0.0), (None, "ab", 0.0)]
    assert run("SELECT a FROM t WHERE a = ? OR s LIKE 'ab_c'", rows, None) == [(2,), (3,)]


def test_nulls_sort_low_unless_told_otherwise() -> None:
    sql = "SELECT a FROM t WHERE s IS NULL OR s IS NOT NULL ORDER BY a"
    assert run(sql, ROWS) == [(None,), (1,), (2,), (4,)]
    assert run(sql + " DESC", ROWS) == [(4,), (2,), (1,), (None,)]
    assert run(sql + " NULLS LAST", ROWS) == [(1,), (2,), (4,), (None,)]


def test_group_by_with_aggregates_distinct_and_order() -> None:
    rows = [(1, "a", 1.0), (1, "a", 3.0), (2, "b", None), (2, "b", 2.0), (3, "a", 5.0)]
    result = run(
        "SELECT s, COUNT(*), COUNT(x), COUNT(DISTINCT a), SUM(x), AVG(x), MIN(a), MAX(a) "
        "FROM t GROUP BY s ORDER BY 2 DESC, s",
        rows,
    )
    assert result == [("a", 3, 3, 2, 9.0, 3.0, 1, 3), ("b", 2, 1, 1, 2.0, 2.0, 2, 2)]


def test_aggregates_over_no_rows_give_one_row() -> None:
    assert run(
        "SELECT COUNT(*), SUM(x), MAX(a) FROM t WHERE NOT (a IS NOT NULL OR a <= 0)", ROWS
    ) == [(0, None, None)]


def test_limit_and_offset_of_an_aggregate_row() -> None:
    assert run("SELECT COUNT(*) FROM t LIMIT 0", ROWS) == []
    assert run("SELECT COUNT(*) FROM t LIMIT 1 OFFSET 0", ROWS) == [(4,)]


def test_distinct_offset_limit_after_a_python_filter() -> None:
    rows = [(1, "a", 0.0), (2, "a", 0.0), (3, "b", 0.0), (4, "c", 0.0), (None, "d", 0.0)]
    result = run("SELECT DISTINCT s FROM t WHERE a IS NOT NULL ORDER BY s LIMIT 2 OFFSET 1", rows)
    assert result == [("b",), ("c",)]
    result = run(
        "SELECT DISTINCT s FROM t WHERE a IS NOT NULL ORDER BY s LIMIT ? OFFSET 1", rows, 9
    )
    assert result == [("b",), ("c",)]


def test_order_by_a_column_not_selected() -> None:
    assert run("SELECT s FROM t WHERE a IS NOT NULL ORDER BY x DESC", ROWS) == [
        ("d",),
        (None,),
        ("a",),
    ]


def test_non_grouped_column_is_refused() -> None:
    with pytest.raises(ProgrammingError, match="must appear in GROUP BY"):
        translate("SELECT s, a FROM t GROUP BY s", (), SCHEMA)


def test_integer_division_truncates_toward_zero_and_division_by_zero_is_null() -> None:
    rows = [(7, None, 2.0), (-7, None, 0.0), (None, None, None)]
    assert run("SELECT a / 2, a / -2, a / 2.0, x / 0.0, a / 0 FROM t WHERE s IS NULL", rows) == [
        (3, -3, 3.5, None, None),
        (-3, 3, -3.5, None, None),
        (None, None, None, None, None),
    ]


def test_like_escape_and_concatenation_in_python() -> None:
    rows = [(1, "50%", 0.0), (2, "50x", 0.0), (3, None, 0.0)]
    # Computed patterns (a constant one goes to the catalogue: test_translation.py).
    assert run("SELECT a FROM t WHERE s LIKE LOWER('50!%') ESCAPE '!'", rows) == [(1,)]
    assert run("SELECT a FROM t WHERE s LIKE '%' || LOWER(?) || '%' ESCAPE '/'", rows, "0/%") == [
        (1,)
    ]
    assert run("SELECT s || '-' || a FROM t WHERE s IS NOT NULL", rows) == [("50%-1",), ("50x-2",)]


def test_fractions_compare_exactly_with_integer_columns() -> None:
    rows = [(1, "a", 1.0), (2, "b", 2.0), (None, "c", None), (4, "d", 4.0)]
    where = "WHERE (a {} OR s IS NULL)"  # s is never NULL: the test of a decides, in Python
    assert run("SELECT a FROM t " + where.format("= 1.5"), rows) == []
    assert run("SELECT a FROM t " + where.format(">= 1.5"), rows) == [(2,), (4,)]
    assert run("SELECT a FROM t " + where.format("IN (1.5, 4)"), rows) == [(4,)]
    assert run("SELECT a FROM t " + where.format("< ?"), rows, 1.5) == [(1,)]
    assert run("SELECT a FROM t " + where.format("= ?"), rows, "2.0") == [(2,)]
    assert run("SELECT a FROM t " + where.format("BETWEEN 0.5 AND '1.5'"), rows) == [(1,)]
    assert run("SELECT a FROM t " + where.format("= ?"), rows, decimal.Decimal("4")) == [(4,)]


def test_numbers_meeting_text_are_compared_as_the_catalogue_spells_them() -> None:
    rows = [(1, "1.5", 0.0), (2, "-1", 0.0), (3, "2.0", 0.0), (4, "1", 0.0)]
    assert run("SELECT a FROM t WHERE s IN (1.5, -1, 2.0, ?) OR a IS NULL", rows, True) == [
        (1,),
        (2,),
        (3,),
        (4,),
    ]


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("SELECT s + s FROM t WHERE a IS NULL", "arithmetic needs numbers, not a string: s \\+ s"),
        ("SELECT -s FROM t WHERE a IS NULL", "arithmetic needs numbers, not a string: -s"),
        ("SELECT a FROM t WHERE (s > a OR s IS NULL)", "cannot compare a number with a string"),
        ("SELECT LOWER(a) FROM t WHERE s IS NULL", "LOWER needs a string, not a number"),
        ("SELECT UPPER(5) FROM t WHERE s IS NULL", "UPPER needs a string, not a number"),
        ("SELECT a FROM t WHERE a = 'one' OR s IS NULL", "'one' is not a number"),
        ("SELECT a + 'x' FROM t WHERE s IS NULL", "'x' is not a number"),
        ("SELECT SUM(s) FROM t GROUP BY a", "SUM needs numbers, not a string"),
    ],
)
def test_type_mismatches_are_programming_errors_before_any_row(sql: str, message: str) -> None:
    with pytest.raises(ProgrammingError, match=message):
        translate(sql, (), SCHEMA)


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("SELECT COALESCE(s, 'x') + 1 FROM t WHERE a IS NULL", "arithmetic needs numbers"),
        ("SELECT -COALESCE(s, 'x') FROM t WHERE a IS NULL", "arithmetic needs numbers"),
        ("SELECT a FROM t WHERE COALESCE(s, 'x') < COALESCE(a, 0)", "cannot compare str"),
        ("SELECT LOWER(COALESCE(a, 0)) FROM t WHERE s IS NULL", "LOWER needs a string, not int"),
        ("SELECT MIN(COALESCE(s, a)) FROM t GROUP BY x", "MIN over values of different types"),
        ("SELECT SUM(COALESCE(s, a)) FROM t GROUP BY x", "SUM needs numbers"),
        (
            "SELECT a FROM t WHERE a IS NOT NULL ORDER BY COALESCE(s, a)",
            "ORDER BY: cannot order",
        ),
    ],
)
def test_values_of_the_wrong_type_at_run_time_are_programming_errors(
    sql: str, message: str
) -> None:
    rows = [(1, "a", 1.0), (2, None, 1.0), (None, None, 1.0)]
    with pytest.raises(ProgrammingError, match=message):
        run(sql, rows)


def test_a_text_constant_meeting_a_computed_number_is_refused() -> None:
    # SQLite compares '1' with a / 2 as text with a number (never equal); the catalogue
    # would read it as 1. No answer is right for both.
    with pytest.raises(NotSupportedError, match="no column"):
        translate("SELECT a FROM t WHERE a / 2 = '1' OR s IS NULL", (), SCHEMA)
    with pytest.raises(NotSupportedError, match="no column"):
        translate("SELECT a FROM t WHERE '1' = 1 OR s IS NULL", (), SCHEMA)


def test_decimal_and_double_meet_as_doubles() -> None:
    schema = StaticSchema({"t": [("a", "int"), ("s", "numeric(10,2)"), ("x", "double")]})
    plan = translate("SELECT s + x, s FROM t WHERE s = x OR s = 0.1 OR a IS NULL", (), schema)
    assert isinstance(plan, SelectRows) and plan.pipeline is not None
    rows = [(None, decimal.Decimal("0.10"), 0.5), (None, decimal.Decimal("0.50"), 0.5)]
    position = {"/t:a": 0, "/t:s": 1, "/t:x": 2}
    fetched = [tuple(row[position[item]] for item in plan.query.items) for row in rows]
    assert list(plan.pipeline.run(fetched)) == [
        (0.6, decimal.Decimal("0.10")),
        (1.0, decimal.Decimal("0.50")),
    ]
