"""Property: for random WHERE clauses (NULLs, AND/OR/NOT, IN, BETWEEN, LIKE, IS NULL,
fractional numbers, numbers meeting text, arithmetic and integer division, ORDER BY/LIMIT),
the driver returns the rows SQLite returns - whatever part runs in the catalogue and whatever
part in Python - and UPDATE/DELETE change the rows SQLite changes.

Where the catalogue's typing refuses what SQLite's affinities accept (text compared with a
number column, arithmetic on text, LOWER of a number), the generator marks the predicate:
the statement must then raise ProgrammingError, in the catalogue and in Python alike. Each
clause also runs wrapped so that Python evaluates all of it (``(...) OR (a IS NULL AND a IS
NOT NULL)`` is the same condition, which the query language cannot say).
"""

from __future__ import annotations

import decimal
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bookkeeping import jdbc_compat as driver
from bookkeeping.amga_adapter.engine.catalogue import Catalogue

# Numbers are halves (exact in binary), so every back-end's arithmetic gives the same value.
ROWS = [
    (1, "ab", 0.5),
    (2, "a_", None),
    (None, "b%", 1.5),
    (3, None, 2.5),
    (2, "ba", 0.5),
    (5, "Ab", -1.0),
    (0, "1.5", 2.0),
    (-2, "2", -0.5),
]


Refusal = frozenset[type[driver.Error]]
TYPING: Refusal = frozenset({driver.ProgrammingError})  # the catalogue's typing refuses it
NO_AFFINITY: Refusal = frozenset({driver.NotSupportedError})  # SQLite would not convert


@dataclass(frozen=True)
class Condition:
    sql: str
    params: tuple[object, ...]
    refused: Refusal = frozenset()  # the errors the statement may raise (one it must)


def _combine(parts: list[Condition], template: str) -> Condition:
    return Condition(
        template.format(*(part.sql for part in parts)),
        tuple(p for part in parts for p in part.params),
        frozenset().union(*(part.refused for part in parts)),
    )


def _constant(
    values: st.SearchStrategy[object], refused: Refusal = frozenset()
) -> st.SearchStrategy[Condition]:
    """A value written as a SQL literal or bound as a parameter."""

    def literal(value: object) -> Condition:
        text = "'" + value + "'" if isinstance(value, str) else repr(value)
        return Condition(text, (), refused)

    return st.one_of(values.map(literal), values.map(lambda v: Condition("?", (v,), refused)))


_INTEGERS = st.integers(-2, 6)
_FRACTIONS = st.sampled_from([-0.5, 0.5, 1.5, 2.0, 2.5])
_NUMERIC_TEXT = st.sampled_from(["1", "2.0", "1.5", "-2", "1e0"])
_OTHER_TEXT = st.sampled_from(["ab", "", "x1"])
_TEXT = st.text(alphabet="abAB_%12.", max_size=3)


def _number(column: bool) -> st.SearchStrategy[Condition]:
    """A constant meeting a number column (or another number expression): numbers, numeric
    text (converted for a column, refused for an expression) and other text (refused)."""
    return st.one_of(
        _constant(st.one_of(_INTEGERS, _FRACTIONS)),
        _constant(_NUMERIC_TEXT, frozenset() if column else NO_AFFINITY),
        _constant(_OTHER_TEXT, TYPING if column else TYPING | NO_AFFINITY),
        st.just(Condition("?", (None,))),
    )


def _text() -> st.SearchStrategy[Condition]:
    """A constant meeting the text column: text, and numbers (compared as their text)."""
    return st.one_of(
        _constant(_TEXT),
        _constant(st.one_of(_INTEGERS, _FRACTIONS)),
        st.just(Condition("?", (None,))),
    )


# Integer division, division by zero (a = 0) and NULL operands included.
_NUMERIC_COLUMNS = ["a", "x"]
_NUMERIC_EXPRESSIONS = [
    "a / 2",
    "a / -2",
    "a / 0",
    "a / 2.0",
    "x / a",
    "a * 1.5",
    "a + x",
    "-a",
    "a - 1.5",
    "x * 2",
    "(a + 1) / 2",
]


def _numeric_term() -> st.SearchStrategy[tuple[Condition, bool]]:
    """(a number expression, whether it is a column)."""
    column = st.sampled_from(_NUMERIC_COLUMNS).map(lambda e: (Condition(e, ()), True))
    computed = st.sampled_from(_NUMERIC_EXPRESSIONS).map(lambda e: (Condition(e, ()), False))
    text = st.sampled_from(["s + 1", "-s", "s * 2"]).map(
        lambda e: (Condition(e, (), TYPING), False)
    )
    return st.one_of(column, computed, computed, text)


def _compared(template: str, size: int) -> st.SearchStrategy[Condition]:
    """``template`` over a number term ({0}) and ``size`` constants meeting it."""
    return _numeric_term().flatmap(
        lambda term: st.lists(_number(term[1]), min_size=size, max_size=size).map(
            lambda constants: _combine([term[0], *constants], template)
        )
    )


def _predicate() -> st.SearchStrategy[Condition]:
    operators = st.sampled_from(["=", "<>", "<", "<=", ">", ">="])
    numeric = operators.flatmap(lambda op: _compared("{0} " + op + " {1}", 1))
    text = st.tuples(operators, _text()).map(lambda t: _combine([t[1]], "s " + t[0] + " {0}"))
    pairs = [
        ("a", "x", frozenset()),
        ("x", "a", frozenset()),
        ("s", "a", TYPING),
        ("x", "s", TYPING),
    ]
    columns = st.tuples(st.sampled_from(pairs), operators).map(
        lambda t: Condition(f"{t[0][0]} {t[1]} {t[0][1]}", (), t[0][2])
    )
    between = st.booleans().flatmap(
        lambda negated: _compared("{0} " + ("NOT " if negated else "") + "BETWEEN {1} AND {2}", 2)
    )
    in_list = st.tuples(st.integers(1, 3), st.booleans()).flatmap(
        lambda t: _compared(
            "{0} "
            + ("NOT " if t[1] else "")
            + "IN ("
            + ", ".join("{" + str(i + 1) + "}" for i in range(t[0]))
            + ")",
            t[0],
        )
    )
    text_in = st.lists(_text(), min_size=1, max_size=3).map(
        lambda items: _combine(
            items, "s IN (" + ", ".join("{" + str(i) + "}" for i in range(len(items))) + ")"
        )
    )
    like = st.tuples(st.sampled_from(["s", "a"]), _constant(_TEXT), st.booleans()).map(
        lambda t: _combine([t[1]], t[0] + (" NOT LIKE " if t[2] else " LIKE ") + "{0}")
    )
    case_function = st.sampled_from(
        [
            ("UPPER(s) = 'AB'", frozenset()),
            ("LOWER(s) < 'b'", frozenset()),
            ("LOWER(a) = '1'", TYPING),
        ]
    ).map(lambda t: Condition(t[0], (), t[1]))
    is_null = st.tuples(st.sampled_from(["a", "s", "x", "a / 0"]), st.booleans()).map(
        lambda t: Condition(f"{t[0]} IS {'NOT ' if t[1] else ''}NULL", ())
    )
    return st.one_of(
        numeric, numeric, text, columns, between, in_list, text_in, like, case_function, is_null
    )


def _condition() -> st.SearchStrategy[Condition]:
    return st.recursive(
        _predicate(),
        lambda inner: st.one_of(
            st.tuples(inner, inner).map(lambda t: _combine(list(t), "({0} AND {1})")),
            st.tuples(inner, inner).map(lambda t: _combine(list(t), "({0} OR {1})")),
            inner.map(lambda c: _combine([c], "NOT ({0})")),
        ),
        max_leaves=4,
    )


def _all_in_python(where: str) -> str:
    """The same condition, which the query language cannot say (IS NULL): Python's."""
    return f"({where}) OR (a IS NULL AND a IS NOT NULL)"


@pytest.fixture
def pair(catalogue: Catalogue) -> Iterator[tuple[sqlite3.Connection, driver.Connection]]:
    reference = sqlite3.connect(":memory:")
    reference.execute("PRAGMA case_sensitive_like = ON")
    connection = driver.connect(catalogue)
    for database in (reference, connection):
        cursor = database.cursor()
        cursor.execute("CREATE TABLE t (a INT, s VARCHAR(5), x DOUBLE)")
        cursor.executemany("INSERT INTO t VALUES (?, ?, ?)", ROWS)
        database.commit()
    yield reference, connection
    reference.close()
    connection.close()


def _answer(
    connection: driver.Connection, sql: str, params: tuple[object, ...]
) -> list[tuple[object, ...]] | driver.Error:
    cursor = connection.cursor()
    try:
        cursor.execute(sql, params)
        return cursor.fetchall()
    except driver.Error as exc:
        return exc


def _check(
    reference: sqlite3.Connection,
    connection: driver.Connection,
    sql: str,
    condition: Condition,
    ordered: bool,
) -> None:
    got = _answer(connection, sql, condition.params)
    if condition.refused:
        assert isinstance(got, tuple(condition.refused)), (sql, condition.params, got)
        return
    assert not isinstance(got, BaseException), (sql, condition.params, got)
    expected = reference.execute(sql, condition.params).fetchall()
    if not ordered:
        got, expected = sorted(got, key=repr), sorted(expected, key=repr)
    assert got == expected, (sql, condition.params)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    condition=_condition(),
    item=st.sampled_from(["", ", a / 2", ", x * a", ", a / 2.0 + 1", ", -a"]),
    limit=st.one_of(st.none(), st.integers(0, 4)),
)
def test_random_where_clauses_answer_as_sqlite(
    pair: tuple[sqlite3.Connection, driver.Connection],
    condition: Condition,
    item: str,
    limit: int | None,
) -> None:
    reference, connection = pair
    for where in (condition.sql, _all_in_python(condition.sql)):
        sql = f"SELECT a, s, x{item} FROM t WHERE {where}"
        if limit is not None:
            # A total order (a, s, x are unique together), so LIMIT picks the same rows.
            sql += f" ORDER BY a DESC, s, x LIMIT {limit}"
        _check(reference, connection, sql, condition, ordered=limit is not None)


CHANGES = [
    "DELETE FROM t WHERE {}",
    "UPDATE t SET x = x + 10 WHERE {}",
    "UPDATE t SET s = 'zz', a = a / 2 WHERE {}",
]


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(condition=_condition(), change=st.sampled_from(CHANGES), in_python=st.booleans())
def test_random_updates_and_deletes_change_the_rows_sqlite_changes(
    pair: tuple[sqlite3.Connection, driver.Connection],
    condition: Condition,
    change: str,
    in_python: bool,
) -> None:
    reference, connection = pair
    where = _all_in_python(condition.sql) if in_python else condition.sql
    sql = change.format(where)
    cursor = connection.cursor()
    try:
        try:
            cursor.execute(sql, condition.params)
        except driver.Error as exc:
            assert isinstance(exc, tuple(condition.refused)), (sql, condition.params, exc)
            return
        assert not condition.refused, sql
        expected = reference.execute(sql, condition.params)
        assert cursor.rowcount == expected.rowcount, (sql, condition.params)
        cursor.execute("SELECT a, s, x FROM t")
        after = reference.execute("SELECT a, s, x FROM t").fetchall()
        assert sorted(cursor.fetchall(), key=repr) == sorted(after, key=repr), sql
    finally:
        connection.rollback()
        reference.rollback()


AGGREGATES = [
    "COUNT(*)",
    "COUNT({u}x)",
    "SUM({t}a)",
    "MIN({t}s)",
    "MAX({u}x)",
    "AVG({t}a)",
    "COUNT(DISTINCT {t}a)",
    "SUM({t}a) / 2",
]
GROUPS = [None, "{t}s", "{t}a", "{t}a, {t}s"]


def _number_value(value: object) -> object:
    if isinstance(value, int | float | decimal.Decimal) and not isinstance(value, bool):
        return round(float(value), 9)
    return value


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    group=st.sampled_from(GROUPS),
    aggregates=st.lists(st.sampled_from(AGGREGATES), min_size=1, max_size=3, unique=True),
    condition=st.one_of(st.none(), _condition().filter(lambda c: not c.refused)),
    join=st.sampled_from([None, "JOIN", "LEFT JOIN"]),
    limit=st.one_of(st.none(), st.integers(0, 3)),
)
def test_random_grouped_selects_answer_as_sqlite(
    pair: tuple[sqlite3.Connection, driver.Connection],
    group: str | None,
    aggregates: list[str],
    condition: Condition | None,
    join: str | None,
    limit: int | None,
) -> None:
    """GROUP BY, aggregates, self-joins and LEFT JOINs (t joined to its twin u)."""
    reference, connection = pair
    names = {"t": "t.", "u": "u."} if join else {"t": "", "u": ""}
    items = [text.format(**names) for text in ([group] if group else []) + aggregates]
    sql = f"SELECT {', '.join(items)} FROM t"
    params: tuple[object, ...] = ()
    if join:
        sql += f" {join} t AS u ON u.a = t.a AND u.x > 0"
    elif condition is not None:
        sql += f" WHERE {condition.sql}"
        params = condition.params
    if group:
        sql += " GROUP BY " + group.format(**names)
    sql += " ORDER BY " + ", ".join(str(i + 1) for i in range(len(items)))
    if limit is not None:
        sql += f" LIMIT {limit}"
    expected = reference.execute(sql, params).fetchall()
    cursor = connection.cursor()
    cursor.execute(sql, params)
    got = cursor.fetchall()
    normal = [tuple(_number_value(v) for v in row) for row in got]
    assert normal == [tuple(_number_value(v) for v in row) for row in expected], (sql, params)
