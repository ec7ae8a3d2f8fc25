"""Property: for random WHERE clauses (NULLs, AND/OR/NOT, IN, BETWEEN, LIKE, IS NULL, ORDER
BY/LIMIT), the driver returns the rows SQLite returns — whatever part runs in the catalogue
and whatever part in Python."""

from __future__ import annotations

import decimal
import sqlite3
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bookkeeping import jdbc_compat as driver
from bookkeeping.amga_adapter.catalogue import Catalogue

ROWS = [
    (1, "ab", 0.5),
    (2, "a_", None),
    (None, "b%", 1.5),
    (3, None, 2.5),
    (2, "ba", 0.5),
    (5, "Ab", -1.0),
]

Condition = tuple[str, tuple[object, ...]]


def _int_value() -> st.SearchStrategy[Condition]:
    return st.one_of(
        st.integers(-1, 6).map(lambda v: (str(v), ())),
        st.one_of(st.none(), st.integers(-1, 6)).map(lambda v: ("?", (v,))),
    )


def _text_value() -> st.SearchStrategy[Condition]:
    texts = st.text(alphabet="abAB_%", max_size=3)
    return st.one_of(
        texts.map(lambda v: ("'" + v + "'", ())),
        st.one_of(st.none(), texts).map(lambda v: ("?", (v,))),
    )


def _combine(parts: list[Condition], template: str) -> Condition:
    texts = [text for text, _ in parts]
    params = tuple(p for _, ps in parts for p in ps)
    return template.format(*texts), params


def _in_template(size: int, *, negated: bool) -> str:
    marks = ", ".join("{" + str(i) + "}" for i in range(size))
    return f"a {'NOT ' if negated else ''}IN ({marks})"


def _predicate() -> st.SearchStrategy[Condition]:
    operators = st.sampled_from(["=", "<>", "<", "<=", ">", ">="])
    int_comparison = st.tuples(operators, _int_value()).map(
        lambda t: _combine([t[1]], "a " + t[0] + " {0}")
    )
    text_comparison = st.tuples(operators, _text_value()).map(
        lambda t: _combine([t[1]], "s " + t[0] + " {0}")
    )
    between = st.tuples(_int_value(), _int_value(), st.booleans()).map(
        lambda t: _combine([t[0], t[1]], "a " + ("NOT " if t[2] else "") + "BETWEEN {0} AND {1}")
    )
    in_list = st.tuples(st.lists(_int_value(), min_size=1, max_size=3), st.booleans()).map(
        lambda t: _combine(t[0], _in_template(len(t[0]), negated=t[1]))
    )
    like = st.tuples(_text_value(), st.booleans()).map(
        lambda t: _combine([t[0]], "s " + ("NOT LIKE" if t[1] else "LIKE") + " {0}")
    )
    is_null = st.tuples(st.sampled_from(["a", "s", "x"]), st.booleans()).map(
        lambda t: (f"{t[0]} IS {'NOT ' if t[1] else ''}NULL", ())
    )
    return st.one_of(int_comparison, text_comparison, between, in_list, like, is_null)


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


@pytest.fixture
def pair(catalogue: Catalogue) -> Iterator[tuple[sqlite3.Connection, driver.Cursor]]:
    reference = sqlite3.connect(":memory:")
    reference.execute("PRAGMA case_sensitive_like = ON")
    connection = driver.connect(catalogue)
    for database in (reference, connection):
        cursor = database.cursor()
        cursor.execute("CREATE TABLE t (a INT, s VARCHAR(5), x DOUBLE)")
        cursor.executemany("INSERT INTO t VALUES (?, ?, ?)", ROWS)
        database.commit()
    yield reference, connection.cursor()
    reference.close()
    connection.close()


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(condition=_condition(), limit=st.one_of(st.none(), st.integers(0, 4)))
def test_random_where_clauses_answer_as_sqlite(
    pair: tuple[sqlite3.Connection, driver.Cursor], condition: Condition, limit: int | None
) -> None:
    reference, cursor = pair
    where, params = condition
    sql = f"SELECT a, s, x FROM t WHERE {where}"
    if limit is not None:
        # A total order (a, s, x are unique together), so LIMIT picks the same rows.
        sql += f" ORDER BY a DESC, s, x LIMIT {limit}"
    expected = reference.execute(sql, params).fetchall()
    cursor.execute(sql, params)
    got = cursor.fetchall()
    if limit is None:
        got, expected = sorted(got, key=repr), sorted(expected, key=repr)
    assert got == expected, (sql, params)


AGGREGATES = [
    "COUNT(*)",
    "COUNT({u}x)",
    "SUM({t}a)",
    "MIN({t}s)",
    "MAX({u}x)",
    "AVG({t}a)",
    "COUNT(DISTINCT {t}a)",
]
GROUPS = [None, "{t}s", "{t}a", "{t}a, {t}s"]


def _number(value: object) -> object:
    if isinstance(value, int | float | decimal.Decimal) and not isinstance(value, bool):
        return round(float(value), 9)
    return value


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    group=st.sampled_from(GROUPS),
    aggregates=st.lists(st.sampled_from(AGGREGATES), min_size=1, max_size=3, unique=True),
    condition=st.one_of(st.none(), _condition()),
    join=st.sampled_from([None, "JOIN", "LEFT JOIN"]),
    limit=st.one_of(st.none(), st.integers(0, 3)),
)
def test_random_grouped_selects_answer_as_sqlite(
    pair: tuple[sqlite3.Connection, driver.Cursor],
    group: str | None,
    aggregates: list[str],
    condition: Condition | None,
    join: str | None,
    limit: int | None,
) -> None:
    """GROUP BY, aggregates, self-joins and LEFT JOINs (t joined to its twin u)."""
    reference, cursor = pair
    names = {"t": "t.", "u": "u."} if join else {"t": "", "u": ""}
    items = [text.format(**names) for text in ([group] if group else []) + aggregates]
    sql = f"SELECT {', '.join(items)} FROM t"
    params: tuple[object, ...] = ()
    if join:
        sql += f" {join} t AS u ON u.a = t.a AND u.x > 0"
    elif condition is not None:
        where, params = condition
        sql += f" WHERE {where}"
    if group:
        sql += " GROUP BY " + group.format(**names)
    sql += " ORDER BY " + ", ".join(str(i + 1) for i in range(len(items)))
    if limit is not None:
        sql += f" LIMIT {limit}"
    expected = reference.execute(sql, params).fetchall()
    cursor.execute(sql, params)
    got = cursor.fetchall()
    normal = [tuple(_number(v) for v in row) for row in got]
    assert normal == [tuple(_number(v) for v in row) for row in expected], (sql, params)
