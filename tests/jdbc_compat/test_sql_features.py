"""Each SQL feature the driver supports gives the rows SQLite itself gives for the same
statement on the same data (SQLite with case-sensitive LIKE, as the catalogue's LIKE is)."""

from __future__ import annotations

import decimal
import re
import sqlite3
from collections.abc import Iterator
from typing import Any

import pytest

from bookkeeping import jdbc_compat as driver
from bookkeeping.amga_adapter.engine.catalogue import Catalogue
from bookkeeping.jdbc_compat.remote import RemoteBackend
from tests.jdbc_compat.conftest import Connect

SCHEMA = [
    "CREATE TABLE jobs (job_id INT, config VARCHAR(20), version VARCHAR(20), prio INT)",
    "CREATE TABLE files (file_id INT, job_id INT, name VARCHAR(40), size BIGINT, q DOUBLE)",
]
JOBS = [
    (1, "MC", "2008", 3),
    (2, "MC", "2009", None),
    (3, "Collision12", "v1", 1),
    (4, "Coll_12", "v%", 2),
]
FILES = [
    (10, 1, "a.dst", 100, 0.5),
    (11, 1, "b.dst", 250, None),
    (12, 2, "c.raw", None, 1.5),
    (13, 3, "d.raw", 400, 2.5),
    (14, 3, "e.DST", 400, 0.5),
    (15, 9, "orphan", 5, None),
]

QUERIES: list[tuple[str, tuple[Any, ...]]] = [
    ("SELECT * FROM jobs ORDER BY job_id", ()),
    ("SELECT job_id, config FROM jobs WHERE config = ? AND version = ?", ("MC", "2008")),
    ("SELECT j.config AS c, f.name FROM jobs j JOIN files f ON j.job_id = f.job_id", ()),
    (
        "SELECT jobs.config, files.name FROM jobs, files WHERE jobs.job_id = files.job_id "
        "AND files.size > 150",
        (),
    ),  # fmt: skip
    ("SELECT name FROM files WHERE size BETWEEN ? AND ?", (100, 300)),
    ("SELECT name FROM files WHERE size NOT BETWEEN 100 AND 300", ()),
    ("SELECT name FROM files WHERE job_id IN (1, 3) OR q > 2", ()),
    ("SELECT name FROM files WHERE job_id NOT IN (1, ?)", (3,)),
    ("SELECT name FROM files WHERE name LIKE '%.dst'", ()),
    ("SELECT name FROM files WHERE name NOT LIKE '_.raw'", ()),
    ("SELECT config FROM jobs WHERE config LIKE 'Coll_12'", ()),
    ("SELECT version FROM jobs WHERE version LIKE ?", ("v\\%",)),
    ("SELECT name FROM files WHERE size IS NULL", ()),
    ("SELECT name FROM files WHERE q IS NOT NULL AND size > 200", ()),
    ("SELECT name FROM files WHERE NOT (size > 200 OR q IS NULL)", ()),
    ("SELECT name FROM files WHERE size = ?", (None,)),
    ("SELECT name, size FROM files ORDER BY size DESC, name LIMIT 3 OFFSET 1", ()),
    ("SELECT name, size FROM files ORDER BY size, name", ()),
    ("SELECT name FROM files ORDER BY q DESC NULLS FIRST, name", ()),
    ("SELECT DISTINCT size FROM files ORDER BY size", ()),
    ("SELECT COUNT(*), MIN(size), MAX(size), SUM(size), AVG(size) FROM files", ()),
    ("SELECT COUNT(size), COUNT(DISTINCT size) FROM files", ()),
    ("SELECT job_id, COUNT(*), SUM(size) FROM files GROUP BY job_id ORDER BY job_id", ()),
    ("SELECT COUNT(*) AS n FROM files GROUP BY size ORDER BY n DESC, 1", ()),
    (
        "SELECT j.config, COUNT(*) FROM jobs j JOIN files f ON f.job_id = j.job_id "
        "WHERE f.size IS NOT NULL GROUP BY j.config",
        (),
    ),  # fmt: skip
    ("SELECT COUNT(*) FROM files WHERE q IS NULL", ()),
    ("SELECT size + 1, size * 2, -size, UPPER(name), LOWER(name) FROM files WHERE size > 0", ()),
    ("SELECT name FROM files WHERE size + 50 > 300 ORDER BY name", ()),
    ("SELECT f.name FROM files f WHERE f.job_id = 1 ORDER BY f.name DESC LIMIT 1", ()),
    ("SELECT config, prio FROM jobs ORDER BY prio", ()),
    ("SELECT config, prio FROM jobs ORDER BY prio DESC", ()),
    ("SELECT name FROM files WHERE name = 'x'' or ''1''=''1'", ()),
    (
        "SELECT a.name, b.name FROM files a JOIN files b ON a.job_id = b.job_id "
        "AND a.file_id < b.file_id",
        (),
    ),
    (
        "SELECT j.config, f.name FROM jobs j LEFT JOIN files f ON f.job_id = j.job_id "
        "ORDER BY j.job_id, f.name",
        (),
    ),
    (
        "SELECT j.job_id, COUNT(f.file_id) FROM jobs j LEFT OUTER JOIN files f "
        "ON f.job_id = j.job_id AND f.size > ? GROUP BY j.job_id",
        (150,),
    ),
    (
        "SELECT f.name, COALESCE(j.config, 'none') FROM files f LEFT JOIN jobs j "
        "ON j.job_id = f.job_id WHERE j.job_id IS NULL",
        (),
    ),
    (
        "SELECT CAST(size AS VARCHAR(10)), CASE WHEN size > 200 THEN 'big' ELSE 'small' END "
        "FROM files",
        (),
    ),
    ("SELECT job_id, COALESCE(SUM(size), 0) + 1 FROM files GROUP BY job_id", ()),
    ("SELECT name || '@' || job_id FROM files WHERE name LIKE '%!_%' ESCAPE '!' OR size > 0", ()),
    # LIKE ... ESCAPE with a constant pattern goes to the catalogue (SQLAlchemy's contains()).
    ("SELECT name FROM files WHERE name LIKE '%' || ? || '%' ESCAPE '/'", ("/_",)),
    ("SELECT version FROM jobs WHERE version LIKE ? ESCAPE '/'", ("v/%",)),
    ("SELECT name FROM files WHERE name NOT LIKE ('%' || ?) ESCAPE '!'", (".ds!t",)),
    ("SELECT config FROM jobs WHERE config LIKE ? ESCAPE '#'", ("Coll#_%",)),
    # The inner-joined core is one selectattr; a LEFT JOIN of a repeated table after it.
    (
        "SELECT f.name, j.config, k.version FROM files f JOIN jobs j ON j.job_id = f.job_id "
        "LEFT JOIN jobs k ON k.job_id = f.job_id AND k.prio > ? WHERE f.size > 100 "
        "ORDER BY f.name",
        (1,),
    ),
    (
        "SELECT f.name, g.name FROM files f LEFT JOIN files g ON g.job_id = f.job_id "
        "AND g.file_id <> f.file_id JOIN jobs j ON j.job_id = f.job_id ORDER BY 1, 2",
        (),
    ),
    ("SELECT name, size FROM files ORDER BY size DESC, name LIMIT -1 OFFSET 2", ()),
    # Fractions meeting integer columns, in Python (the OR with IS NULL): never rounded.
    ("SELECT name FROM files WHERE (size = 100.5 OR q IS NULL)", ()),
    ("SELECT name FROM files WHERE (job_id >= 1.5 OR q IS NULL)", ()),
    ("SELECT name FROM files WHERE (job_id IN (1.5, 3) OR q IS NULL)", ()),
    ("SELECT name FROM files WHERE (job_id < ? OR q IS NULL)", (1.5,)),
    ("SELECT name FROM files WHERE (job_id = ? OR q IS NULL)", ("2.0",)),
    ("SELECT name FROM files WHERE (q BETWEEN 0.25 AND ? OR size IS NULL)", (1.5,)),
    ("SELECT config FROM jobs WHERE version IN (?, 2008) OR prio IS NULL", (2009,)),
    # Integer division truncates toward zero; x / 0 is NULL.
    ("SELECT name, size / 3, size / 2.0, -size / 7, q / 2 FROM files", ()),
    ("SELECT name, size / 0, q / 0 FROM files", ()),
    ("SELECT name FROM files WHERE size / 3 > 100", ()),
    ("SELECT job_id, SUM(size) / 2, COUNT(*) / 2 FROM files GROUP BY job_id", ()),
    ("SELECT name FROM files ORDER BY size / 100, name", ()),
    # EXISTS: a semi-join, correlated or not, negated, beside a LEFT JOIN.
    (
        "SELECT j.config FROM jobs j WHERE EXISTS "
        "(SELECT * FROM files f WHERE f.job_id = j.job_id AND f.size > ?)",
        (150,),
    ),
    (
        "SELECT name FROM files f WHERE NOT EXISTS (SELECT 1 FROM jobs j "
        "WHERE j.job_id = f.job_id AND j.version LIKE 'v%')",
        (),
    ),
    ("SELECT name FROM files WHERE EXISTS (SELECT * FROM jobs WHERE prio > 2)", ()),
    ("SELECT name FROM files WHERE EXISTS (SELECT * FROM jobs WHERE prio > 5)", ()),
    (
        "SELECT f.name, j.config FROM files f LEFT JOIN jobs j ON j.job_id = f.job_id "
        "WHERE f.q IS NOT NULL OR EXISTS (SELECT * FROM jobs k WHERE k.job_id = f.job_id "
        "AND k.prio IS NULL) ORDER BY f.name",
        (),
    ),
    (
        "SELECT job_id, COUNT(*) FROM files f WHERE EXISTS (SELECT * FROM jobs j "
        "WHERE j.job_id + 0 = f.job_id) GROUP BY job_id ORDER BY job_id",
        (),
    ),
]


def _normal(value: Any) -> Any:
    if isinstance(value, decimal.Decimal | float):
        return round(float(value), 9)
    return value


def _rows(rows: Any, ordered: bool) -> list[tuple[Any, ...]]:
    normal = [tuple(_normal(v) for v in row) for row in rows]
    return normal if ordered else sorted(normal, key=repr)


@pytest.fixture
def pair(connect: Connect) -> Iterator[tuple[sqlite3.Connection, driver.Connection]]:
    """SQLite and the driver (in-process and over amga://) holding the same rows."""
    reference = sqlite3.connect(":memory:")
    reference.execute("PRAGMA case_sensitive_like = ON")
    connection = connect()
    for database in (reference, connection):
        cursor = database.cursor()
        for ddl in SCHEMA:
            cursor.execute(ddl)
        cursor.executemany("INSERT INTO jobs VALUES (?, ?, ?, ?)", JOBS)
        cursor.executemany("INSERT INTO files VALUES (?, ?, ?, ?, ?)", FILES)
        database.commit()
    yield reference, connection
    reference.close()


def test_every_supported_feature_answers_as_sqlite(
    pair: tuple[sqlite3.Connection, driver.Connection],
) -> None:
    reference, connection = pair
    cursor = connection.cursor()
    for sql, params in QUERIES:
        expected = reference.execute(sql, params).fetchall()
        cursor.execute(sql, params)
        ordered = re.search(r"\bORDER BY\b", sql) is not None
        assert _rows(cursor.fetchall(), ordered) == _rows(expected, ordered), sql


def test_update_and_delete_change_the_rows_sqlite_changes(
    pair: tuple[sqlite3.Connection, driver.Connection],
) -> None:
    reference, connection = pair
    cursor = connection.cursor()
    changes = [
        ("UPDATE files SET size = size + 1 WHERE job_id = ?", (1,)),
        ("UPDATE files SET q = 0.25 WHERE size IS NULL OR size > 300", ()),
        ("UPDATE files SET name = ?, size = 7 WHERE name LIKE 'orph%'", ("o2",)),
        ("DELETE FROM files WHERE q IS NULL AND size < 200", ()),
        ("DELETE FROM jobs WHERE prio BETWEEN 2 AND 3", ()),
    ]
    for sql, params in changes:
        expected_count = reference.execute(sql, params).rowcount
        cursor.execute(sql, params)
        assert cursor.rowcount == expected_count, sql
    _assert_same_tables(reference, cursor)


def test_update_and_delete_with_a_python_where_change_the_rows_sqlite_changes(
    pair: tuple[sqlite3.Connection, driver.Connection],
) -> None:
    """A WHERE the query language cannot say (IS NULL) is Python's: a fraction meeting an
    integer column must not be rounded there (it once changed the rows of job_id = 1)."""
    reference, connection = pair
    cursor = connection.cursor()
    changes = [
        ("UPDATE files SET name = 'half' WHERE (size = 100.5 OR q IS NULL)", ()),
        ("UPDATE files SET q = 9.5 WHERE (job_id >= 2.5 OR name IS NULL)", ()),
        ("UPDATE jobs SET version = 'low' WHERE (prio < ? OR config IS NULL)", (1.5,)),
        ("UPDATE files SET size = size / 3 WHERE size / 3 > 100", ()),
        ("DELETE FROM files WHERE (job_id IN (1.5, 9) OR size IS NULL)", ()),
        ("DELETE FROM jobs WHERE (prio <= ? OR version IS NULL)", (1.5,)),
    ]
    for sql, params in changes:
        expected_count = reference.execute(sql, params).rowcount
        cursor.execute(sql, params)
        assert cursor.rowcount == expected_count, sql
        _assert_same_tables(reference, cursor)


@pytest.mark.parametrize(
    ("in_catalogue", "in_python", "message"),
    [
        (
            "SELECT name + name FROM files",
            "SELECT name + name FROM files WHERE q IS NULL OR q IS NOT NULL",
            "arithmetic needs numbers, not a string",
        ),
        (
            "SELECT -name FROM files",
            "SELECT -name FROM files WHERE q IS NULL OR q IS NOT NULL",
            "arithmetic needs numbers, not a string",
        ),
        (
            "SELECT LOWER(size) FROM files",
            "SELECT LOWER(size) FROM files WHERE q IS NULL OR q IS NOT NULL",
            "needs a string, not a number",
        ),
        (
            "SELECT name FROM files WHERE name > size",
            "SELECT name FROM files WHERE (name > size OR q IS NULL)",
            "cannot compare a number with a string",
        ),
        (
            "SELECT name FROM files WHERE size = 'big'",
            "SELECT name FROM files WHERE (size = 'big' OR q IS NULL)",
            "'big' is not a number",
        ),
    ],
)
def test_type_errors_are_the_same_in_the_catalogue_and_in_python(
    connect: Connect, in_catalogue: str, in_python: str, message: str
) -> None:
    connection = connect()
    cursor = connection.cursor()
    cursor.execute(SCHEMA[1])
    cursor.executemany("INSERT INTO files VALUES (?, ?, ?, ?, ?)", FILES)
    for sql in (in_catalogue, in_python):
        with pytest.raises(driver.ProgrammingError, match=message):
            cursor.execute(sql)
            cursor.fetchall()


def test_set_null(pair: tuple[sqlite3.Connection, driver.Connection]) -> None:
    reference, connection = pair
    cursor = connection.cursor()
    sql = "UPDATE files SET q = NULL WHERE job_id = 1 OR size IS NULL"
    if isinstance(connection._backend, RemoteBackend):
        # The AMGA protocol has no NULL value to send: refused, never guessed.
        with pytest.raises(driver.NotSupportedError, match="NULL"):
            cursor.execute(sql)
        return
    expected_count = reference.execute(sql).rowcount
    cursor.execute(sql)
    assert cursor.rowcount == expected_count == 3
    _assert_same_tables(reference, cursor)


def _assert_same_tables(reference: sqlite3.Connection, cursor: driver.Cursor) -> None:
    for table in ("jobs", "files"):
        cursor.execute(f"SELECT * FROM {table}")
        expected = reference.execute(f"SELECT * FROM {table}").fetchall()
        assert _rows(cursor.fetchall(), False) == _rows(expected, False), table


def test_rollback_undoes_updates_and_deletes(
    pair: tuple[sqlite3.Connection, driver.Connection],
) -> None:
    _reference, connection = pair
    cursor = connection.cursor()
    cursor.execute("UPDATE files SET size = 0")
    cursor.execute("DELETE FROM jobs")
    connection.rollback()
    cursor.execute("SELECT COUNT(*), SUM(size) FROM files")
    assert cursor.fetchone() == (len(FILES), 1155)
    cursor.execute("SELECT COUNT(*) FROM jobs")
    assert cursor.fetchone() == (len(JOBS),)


def test_constraint_and_type_errors_map_to_pep_249_classes(catalogue: Catalogue) -> None:
    connection = driver.connect(catalogue)
    cursor = connection.cursor()
    cursor.execute("CREATE TABLE runs (run INT PRIMARY KEY, name VARCHAR(5) NOT NULL)")
    cursor.execute("INSERT INTO runs VALUES (1, 'a')")
    connection.commit()
    with pytest.raises(driver.IntegrityError):
        cursor.execute("INSERT INTO runs VALUES (1, 'b')")
    connection.rollback()
    with pytest.raises(driver.IntegrityError):
        cursor.execute("INSERT INTO runs (run) VALUES (2)")
    connection.rollback()
    with pytest.raises(driver.DataError):
        cursor.execute("INSERT INTO runs VALUES (?, 'c')", ("three",))
    connection.rollback()
    with pytest.raises(driver.IntegrityError):
        cursor.execute("INSERT INTO runs (FILE, run, name) VALUES ('e1', 5, 'x'), ('e1', 6, 'y')")
    connection.rollback()
    cursor.execute("SELECT FILE, run FROM runs WHERE run = 1")
    row = cursor.fetchone()
    assert row is not None and row[1] == 1
    assert cursor.description is not None and cursor.description[0][1] == driver.ROWID
    connection.close()


def test_comparing_text_with_a_number_is_a_programming_error(catalogue: Catalogue) -> None:
    connection = driver.connect(catalogue)
    cursor = connection.cursor()
    cursor.execute("CREATE TABLE runs (name VARCHAR(5))")
    try:
        with pytest.raises(driver.Error) as raised:
            cursor.execute("SELECT name FROM runs WHERE name + 1 > 2")
        assert isinstance(raised.value, driver.ProgrammingError | driver.DataError)
    finally:
        connection.close()


def test_text_compares_by_code_point_with_trailing_blanks_too(
    pair: tuple[sqlite3.Connection, driver.Connection], request: pytest.FixtureRequest
) -> None:
    if request.node.callspec.params.get("_catalogue_database") == "mariadb":
        # Outside jdbc_compat: the catalogue compares and orders text with MariaDB's
        # utf8mb4_bin, a PAD SPACE collation ('a' = 'a ', 'a\t' < 'a'); a NO PAD binary
        # collation would give code point order. Strict: it fails once that is fixed.
        request.applymarker(pytest.mark.xfail(strict=True, reason="utf8mb4_bin pads spaces"))
    reference, connection = pair
    cursor = connection.cursor()
    values = [("a",), ("a ",), ("a\t",), ("b",)]
    for database in (reference, connection):
        database.cursor().execute("CREATE TABLE blanks (s VARCHAR(5))")
        database.cursor().executemany("INSERT INTO blanks VALUES (?)", values)
    for sql in (
        "SELECT s FROM blanks WHERE s = 'a'",
        "SELECT s FROM blanks WHERE s > 'a' ORDER BY s",
        "SELECT s FROM blanks ORDER BY s DESC",
    ):
        cursor.execute(sql)
        assert cursor.fetchall() == reference.execute(sql).fetchall(), sql
