"""Hostile SQL: stacked statements and comments are refused or harmless, and hostile
parameter values stay data, end to end (in-process and over amga://, every back-end)."""

from __future__ import annotations

import pytest

from bookkeeping import jdbc_compat as driver
from tests.jdbc_compat.conftest import Connect
from tests.jdbc_compat.test_statement_parsing import HOSTILE, WITH_NUL


@pytest.fixture
def people(connect: Connect) -> driver.Connection:
    connection = connect()
    cursor = connection.cursor()
    cursor.execute("CREATE TABLE people (name VARCHAR(80), age INT)")
    cursor.executemany("INSERT INTO people VALUES (?, ?)", [("ann", 30), ("bob", 40)])
    connection.commit()
    return connection


def names(connection: driver.Connection) -> list[str]:
    cursor = connection.cursor()
    cursor.execute("SELECT name FROM people ORDER BY name")
    return [row[0] for row in cursor.fetchall()]


STACKED = [
    "SELECT name FROM people; DROP TABLE people",
    "DELETE FROM people WHERE age > 0; SELECT 1",
    "SELECT name FROM people WHERE age = 1;; DELETE FROM people",
]


def test_stacked_statements_change_nothing(people: driver.Connection) -> None:
    for sql in STACKED:
        with pytest.raises(driver.ProgrammingError, match="stacked"):
            people.cursor().execute(sql)
    assert names(people) == ["ann", "bob"]


def test_comments_hide_nothing(people: driver.Connection) -> None:
    cursor = people.cursor()
    cursor.execute("DELETE FROM people WHERE name = 'nobody' -- ; DELETE FROM people")
    cursor.execute("SELECT name FROM people /* WHERE 1=0 */ ORDER BY name")
    assert cursor.fetchall() == [("ann",), ("bob",)]


def test_hostile_values_are_stored_and_matched_verbatim(people: driver.Connection) -> None:
    cursor = people.cursor()
    for value in HOSTILE:
        cursor.execute("SELECT name FROM people WHERE name = ?", (value,))
        assert cursor.fetchall() == [], value
        cursor.execute("INSERT INTO people VALUES (?, 1)", (value,))
        cursor.execute("SELECT name, age FROM people WHERE name = ?", (value,))
        assert cursor.fetchall() == [(value, 1)], value
        cursor.execute("UPDATE people SET name = ? WHERE name = ?", (value + value, value))
        assert cursor.rowcount == 1, value
        cursor.execute("DELETE FROM people WHERE name = ?", (value + value,))
        assert cursor.rowcount == 1, value
        assert names(people) == ["ann", "bob"], value


def test_nul_characters_are_a_data_error_and_change_nothing(people: driver.Connection) -> None:
    cursor = people.cursor()
    statements = [
        ("SELECT name FROM people WHERE name = ?", lambda v: (v,)),
        ("SELECT name FROM people WHERE name = ? OR age IS NULL", lambda v: (v,)),
        ("INSERT INTO people VALUES (?, 1)", lambda v: (v,)),
        ("UPDATE people SET name = ? WHERE name = 'ann'", lambda v: (v,)),
        ("DELETE FROM people WHERE name = ?", lambda v: (v,)),
    ]
    for value in WITH_NUL:
        for sql, params in statements:
            with pytest.raises(driver.DataError, match="NUL"):
                cursor.execute(sql, params(value))
            people.rollback()
    assert names(people) == ["ann", "bob"]


def test_hostile_table_and_column_names_are_unknown_names(people: driver.Connection) -> None:
    cursor = people.cursor()
    with pytest.raises(driver.ProgrammingError, match="no such table"):
        cursor.execute('SELECT * FROM "people; DROP TABLE people"')
    with pytest.raises(driver.ProgrammingError, match="no such column"):
        cursor.execute('SELECT "name FROM people --" FROM people')
    assert names(people) == ["ann", "bob"]
