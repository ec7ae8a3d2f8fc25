"""DB-API 2.0 compliance, in the manner of the standard dbapi20.py suite (Stuart Bishop's),
for the in-process and the ``amga://`` connection, on every back-end."""

from __future__ import annotations

import pytest

from bookkeeping import jdbc_compat as driver
from tests.jdbc_compat.conftest import Connect

TABLE_PREFIX = "dbapi20test_"
BOOZE = TABLE_PREFIX + "booze"
BARFLYS = TABLE_PREFIX + "barflys"
SAMPLES = ["Carlton Cold", "Carlton Draft", "Mountain Goat", "Redback", "Victoria Bitter", "XXXX"]


def make_booze(cursor: driver.Cursor) -> None:
    cursor.execute(f"CREATE TABLE {BOOZE} (name VARCHAR(20))")


def populate(cursor: driver.Cursor) -> None:
    make_booze(cursor)
    cursor.executemany(f"INSERT INTO {BOOZE} VALUES (?)", [(s,) for s in SAMPLES])


def test_connect(connect: Connect) -> None:
    connection = connect()
    connection.close()


def test_exceptions_are_connection_attributes(connect: Connect) -> None:
    connection = connect()
    for name in ("Warning", "Error", "InterfaceError", "DatabaseError", "OperationalError",
                 "IntegrityError", "InternalError", "ProgrammingError", "NotSupportedError",
                 "DataError"):  # fmt: skip
        assert getattr(connection, name) is getattr(driver, name)


def test_commit_and_rollback_on_a_fresh_connection(connect: Connect) -> None:
    connection = connect()
    connection.commit()
    connection.rollback()


def test_rollback_undoes_uncommitted_rows(connect: Connect) -> None:
    connection = connect()
    cursor = connection.cursor()
    make_booze(cursor)
    cursor.execute(f"INSERT INTO {BOOZE} VALUES ('Victoria Bitter')")
    connection.commit()
    cursor.execute(f"INSERT INTO {BOOZE} VALUES ('XXXX')")
    connection.rollback()
    cursor.execute(f"SELECT name FROM {BOOZE}")
    assert cursor.fetchall() == [("Victoria Bitter",)]


def test_commit_makes_rows_visible_to_other_connections(connect: Connect) -> None:
    writer, reader = connect(), connect()
    cursor = writer.cursor()
    make_booze(cursor)
    cursor.execute(f"INSERT INTO {BOOZE} VALUES ('Redback')")
    writer.commit()
    other = reader.cursor()
    other.execute(f"SELECT name FROM {BOOZE}")
    assert other.fetchall() == [("Redback",)]


def test_close_rolls_back_uncommitted_work(connect: Connect) -> None:
    first = connect()
    cursor = first.cursor()
    make_booze(cursor)
    cursor.execute(f"INSERT INTO {BOOZE} VALUES ('Redback')")
    first.close()
    second = connect().cursor()
    second.execute(f"SELECT COUNT(*) FROM {BOOZE}")
    assert second.fetchone() == (0,)


def test_cursor_isolation(connect: Connect) -> None:
    connection = connect()
    cur1, cur2 = connection.cursor(), connection.cursor()
    make_booze(cur1)
    cur1.execute(f"INSERT INTO {BOOZE} VALUES ('Victoria Bitter')")
    cur2.execute(f"SELECT name FROM {BOOZE}")
    booze = cur2.fetchall()
    assert len(booze) == 1 and len(booze[0]) == 1


def test_description(connect: Connect) -> None:
    cursor = connect().cursor()
    make_booze(cursor)
    assert cursor.description is None
    cursor.execute(f"SELECT name FROM {BOOZE}")
    assert cursor.description is not None
    assert len(cursor.description) == 1
    assert len(cursor.description[0]) == 7
    assert cursor.description[0][0].lower() == "name"
    assert cursor.description[0][1] == driver.STRING
    cursor.execute(f"CREATE TABLE {BARFLYS} (name VARCHAR(20), drink VARCHAR(30))")
    assert cursor.description is None


def test_rowcount(connect: Connect) -> None:
    cursor = connect().cursor()
    make_booze(cursor)
    assert cursor.rowcount == -1
    cursor.execute(f"INSERT INTO {BOOZE} VALUES ('Victoria Bitter')")
    assert cursor.rowcount in (-1, 1)
    cursor.execute(f"SELECT name FROM {BOOZE}")
    assert cursor.rowcount in (-1, 1)
    cursor.execute(f"CREATE TABLE {BARFLYS} (name VARCHAR(20))")
    assert cursor.rowcount == -1


def test_close(connect: Connect) -> None:
    connection = connect()
    cursor = connection.cursor()
    connection.close()
    with pytest.raises(driver.Error):
        make_booze(cursor)
    with pytest.raises(driver.Error):
        connection.commit()
    with pytest.raises(driver.Error):
        connection.cursor()
    with pytest.raises(driver.Error):
        connection.close()


# Every method of a cursor, with arguments that would work on an open one.
CURSOR_CALLS = [
    ("execute", lambda c: c.execute(f"SELECT name FROM {BOOZE}")),
    ("executemany", lambda c: c.executemany(f"INSERT INTO {BOOZE} VALUES (?)", [("a",)])),
    ("fetchone", lambda c: c.fetchone()),
    ("fetchmany", lambda c: c.fetchmany(2)),
    ("fetchall", lambda c: c.fetchall()),
    ("next", lambda c: next(c)),
    ("setinputsizes", lambda c: c.setinputsizes((25,))),
    ("setoutputsize", lambda c: c.setoutputsize(1000, 0)),
    ("close", lambda c: c.close()),
]


@pytest.mark.parametrize(("method", "call"), CURSOR_CALLS, ids=[m for m, _ in CURSOR_CALLS])
def test_every_cursor_method_of_a_closed_cursor_raises(
    connect: Connect, method: str, call: object
) -> None:
    connection = connect()
    cursor = connection.cursor()
    populate(cursor)
    connection.commit()
    cursor.execute(f"SELECT name FROM {BOOZE}")  # a result left open: closed with the cursor
    cursor.close()
    with pytest.raises(driver.InterfaceError, match="cursor is closed"):
        call(cursor)  # type: ignore[operator]
    other = connection.cursor()  # the connection still works
    other.execute(f"SELECT COUNT(*) FROM {BOOZE}")
    assert other.fetchone() == (len(SAMPLES),)


@pytest.mark.parametrize(("method", "call"), CURSOR_CALLS, ids=[m for m, _ in CURSOR_CALLS])
def test_every_cursor_method_after_its_connection_closed_raises(
    connect: Connect, method: str, call: object
) -> None:
    connection = connect()
    cursor = connection.cursor()
    populate(cursor)
    cursor.execute(f"SELECT name FROM {BOOZE}")
    connection.close()
    with pytest.raises(driver.InterfaceError, match="connection is closed"):
        call(cursor)  # type: ignore[operator]


CONNECTION_CALLS = [
    ("cursor", lambda c: c.cursor()),
    ("commit", lambda c: c.commit()),
    ("rollback", lambda c: c.rollback()),
    ("close", lambda c: c.close()),
]


@pytest.mark.parametrize(("method", "call"), CONNECTION_CALLS, ids=[m for m, _ in CONNECTION_CALLS])
def test_every_connection_method_of_a_closed_connection_raises(
    connect: Connect, method: str, call: object
) -> None:
    connection = connect()
    cursor = connection.cursor()
    make_booze(cursor)
    cursor.execute(f"INSERT INTO {BOOZE} VALUES ('Redback')")  # uncommitted: rolled back
    connection.close()
    with pytest.raises(driver.InterfaceError, match="connection is closed"):
        call(connection)  # type: ignore[operator]
    check = connect().cursor()
    check.execute(f"SELECT COUNT(*) FROM {BOOZE}")
    assert check.fetchone() == (0,)


def test_execute_with_literals_and_parameters(connect: Connect) -> None:
    cursor = connect().cursor()
    make_booze(cursor)
    cursor.execute(f"INSERT INTO {BOOZE} VALUES ('Victoria Bitter')")
    assert cursor.rowcount in (-1, 1)
    cursor.execute(f"INSERT INTO {BOOZE} VALUES (?)", ("Cooper's",))
    assert cursor.rowcount in (-1, 1)
    cursor.execute(f"SELECT name FROM {BOOZE} ORDER BY name")
    assert cursor.fetchall() == [("Cooper's",), ("Victoria Bitter",)]


def test_executemany(connect: Connect) -> None:
    cursor = connect().cursor()
    make_booze(cursor)
    cursor.executemany(f"INSERT INTO {BOOZE} VALUES (?)", [("Victoria Bitter",), ("Cooper's",)])
    assert cursor.rowcount in (-1, 2)
    cursor.execute(f"SELECT name FROM {BOOZE} ORDER BY name")
    assert cursor.fetchall() == [("Cooper's",), ("Victoria Bitter",)]


def test_fetchone(connect: Connect) -> None:
    cursor = connect().cursor()
    with pytest.raises(driver.Error):
        cursor.fetchone()  # nothing executed yet
    make_booze(cursor)
    with pytest.raises(driver.Error):
        cursor.fetchone()  # DDL returns no rows
    cursor.execute(f"SELECT name FROM {BOOZE}")
    assert cursor.fetchone() is None
    cursor.execute(f"INSERT INTO {BOOZE} VALUES ('Victoria Bitter')")
    with pytest.raises(driver.Error):
        cursor.fetchone()
    cursor.execute(f"SELECT name FROM {BOOZE}")
    assert cursor.fetchone() == ("Victoria Bitter",)
    assert cursor.fetchone() is None


def test_fetchmany_honours_size_and_arraysize(connect: Connect) -> None:
    cursor = connect().cursor()
    with pytest.raises(driver.Error):
        cursor.fetchmany(4)
    populate(cursor)
    cursor.execute(f"SELECT name FROM {BOOZE} ORDER BY name")
    assert len(cursor.fetchmany()) == 1  # arraysize defaults to 1
    cursor.arraysize = 3
    assert len(cursor.fetchmany()) == 3
    assert len(cursor.fetchmany(4)) == 2
    assert cursor.fetchmany(4) == []
    cursor.execute(f"SELECT name FROM {BOOZE} WHERE name = 'nothing'")
    assert cursor.fetchmany() == []


def test_fetchall(connect: Connect) -> None:
    cursor = connect().cursor()
    populate(cursor)
    cursor.execute(f"SELECT name FROM {BOOZE}")
    assert sorted(row[0] for row in cursor.fetchall()) == SAMPLES
    assert cursor.fetchall() == []
    cursor.execute(f"DELETE FROM {BOOZE}")
    assert cursor.rowcount in (-1, len(SAMPLES))
    cursor.execute(f"SELECT name FROM {BOOZE}")
    assert cursor.fetchall() == []


def test_mixedfetch(connect: Connect) -> None:
    cursor = connect().cursor()
    populate(cursor)
    cursor.execute(f"SELECT name FROM {BOOZE} ORDER BY name")
    first = cursor.fetchone()
    middle = cursor.fetchmany(2)
    rest = cursor.fetchall()
    assert [first, *middle, *rest] == [(s,) for s in SAMPLES]


def test_iteration(connect: Connect) -> None:
    cursor = connect().cursor()
    populate(cursor)
    cursor.execute(f"SELECT name FROM {BOOZE} ORDER BY name")
    assert [row[0] for row in cursor] == SAMPLES


def test_arraysize(connect: Connect) -> None:
    cursor = connect().cursor()
    assert cursor.arraysize == 1


def test_setinputsizes_and_setoutputsize(connect: Connect) -> None:
    cursor = connect().cursor()
    cursor.setinputsizes((25,))
    cursor.setoutputsize(1000)
    cursor.setoutputsize(1000, 0)
    populate(cursor)
    cursor.execute(f"SELECT name FROM {BOOZE}")
    assert len(cursor.fetchall()) == len(SAMPLES)


def test_none_inserts_and_reads_null(connect: Connect) -> None:
    cursor = connect().cursor()
    cursor.execute(f"CREATE TABLE {BOOZE} (name VARCHAR(20), strength INT)")
    cursor.execute(f"INSERT INTO {BOOZE} VALUES (?, ?)", ("x", None))
    cursor.execute(f"SELECT strength FROM {BOOZE}")
    assert cursor.fetchall() == [(None,)]
    cursor.execute(f"SELECT name FROM {BOOZE} WHERE strength IS NULL")
    assert cursor.fetchall() == [("x",)]


def test_null_literal_inserts_and_reads_null(connect: Connect) -> None:
    cursor = connect().cursor()
    cursor.execute(f"CREATE TABLE {BOOZE} (name VARCHAR(20), strength INT)")
    cursor.execute(f"INSERT INTO {BOOZE} VALUES (NULL, NULL)")
    cursor.execute(f"INSERT INTO {BOOZE} (name, strength) VALUES ('x', NULL), (NULL, 5)")
    assert cursor.rowcount in (-1, 2)
    cursor.execute(f"SELECT name, strength FROM {BOOZE}")
    expected = [(None, None), ("x", None), (None, 5)]
    assert sorted(cursor.fetchall(), key=repr) == sorted(expected, key=repr)
    cursor.execute(f"SELECT COUNT(*), COUNT(name), COUNT(strength) FROM {BOOZE}")
    assert cursor.fetchone() == (3, 1, 1)
    cursor.execute(f"SELECT strength FROM {BOOZE} WHERE name IS NULL ORDER BY strength")
    assert cursor.fetchall() == [(None,), (5,)]


def test_typed_values_round_trip(connect: Connect) -> None:
    cursor = connect().cursor()
    cursor.execute(
        f"CREATE TABLE {BOOZE} (n INT, x DOUBLE, d DATE, t TIMESTAMP, s VARCHAR(10), m TEXT)"
    )
    values = (7, 2.5, driver.Date(2024, 2, 29), driver.Timestamp(2024, 1, 2, 3, 4, 5), "ab", "é")
    cursor.execute(f"INSERT INTO {BOOZE} VALUES (?, ?, ?, ?, ?, ?)", values)
    cursor.execute(f"SELECT n, x, d, t, s, m FROM {BOOZE}")
    assert cursor.fetchone() == values
    assert cursor.description is not None
    kinds = [column[1] for column in cursor.description]
    assert kinds == [driver.NUMBER, driver.NUMBER, driver.DATETIME, driver.DATETIME,
                     driver.STRING, driver.STRING]  # fmt: skip


def test_drop_table(connect: Connect) -> None:
    cursor = connect().cursor()
    populate(cursor)
    cursor.execute(f"DROP TABLE {BOOZE}")
    with pytest.raises(driver.ProgrammingError, match="no such table"):
        cursor.execute(f"SELECT name FROM {BOOZE}")


def test_a_half_read_result_survives_other_statements(connect: Connect) -> None:
    connection = connect()
    reader, writer = connection.cursor(), connection.cursor()
    populate(reader)
    reader.execute(f"SELECT name FROM {BOOZE} ORDER BY name")
    assert reader.fetchone() == (SAMPLES[0],)
    writer.execute(f"INSERT INTO {BOOZE} VALUES ('Zywiec')")
    writer.execute(f"SELECT COUNT(*) FROM {BOOZE}")
    assert writer.fetchone() == (len(SAMPLES) + 1,)
    rest = reader.fetchall()
    assert rest[: len(SAMPLES) - 1] == [(s,) for s in SAMPLES[1:]]
    connection.commit()


def test_reads_before_a_write_hold_no_transaction(connect: Connect) -> None:
    reader, writer = connect(), connect()
    cursor = reader.cursor()
    make_booze(cursor)
    cursor.execute(f"SELECT COUNT(*) FROM {BOOZE}")
    assert cursor.fetchone() == (0,)
    other = writer.cursor()
    other.execute(f"INSERT INTO {BOOZE} VALUES ('Redback')")  # not blocked by the reader
    writer.commit()
    cursor.execute(f"SELECT COUNT(*) FROM {BOOZE}")
    assert cursor.fetchone() == (1,)
