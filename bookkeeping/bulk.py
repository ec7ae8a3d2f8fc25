"""Rows into a table straight through the driver: the bulk path of both writers (the
warehouse tables, and the catalogue's directory tables through ``addentries``).

SQLAlchemy's ``execute(table.insert(), [dict, ...])`` processes every parameter of every row
in Python, which for a bulk writer costs more than the database does. Here the statement is
built once from the table's own metadata (identifiers quoted by the dialect), the values
stay bound parameters, and each column's bind processor (e.g. DateTime on SQLite, the
numeric type of SQLite) is still applied. On PostgreSQL (psycopg) the rows go in with
``COPY``, the server's own bulk load, on the operation's connection and so inside its
transaction or savepoint.

Errors are raised as SQLAlchemy raises them (``IntegrityError`` for a duplicate entry name
or a unique constraint, ``ProgrammingError`` for a column another process dropped), so the
callers' handling is that of any statement.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

# Below this many rows an INSERT is as quick as a COPY (which costs a round trip more).
COPY_MIN_ROWS = 50


def insert_rows(
    connection: sa.Connection, table: sa.Table, columns: Sequence[str], rows: list[tuple]
) -> None:
    """Insert ``rows`` (tuples of values in the order of ``columns``) into ``table``."""
    if not rows:
        return
    dialect = connection.dialect
    quote = dialect.identifier_preparer
    names = ", ".join(quote.quote(column) for column in columns)
    if len(rows) >= COPY_MIN_ROWS and dialect.name == "postgresql" and dialect.driver == "psycopg":
        _copy(connection, f"COPY {quote.format_table(table)} ({names}) FROM STDIN", rows)
        return
    processors = [
        table.c[column].type.dialect_impl(dialect).bind_processor(dialect) for column in columns
    ]
    parameters: list[Any]
    if dialect.paramstyle == "named":  # Oracle
        markers = ", ".join(f":p{index}" for index in range(len(columns)))
        parameters = [
            {
                f"p{i}": (p(v) if p else v)
                for i, (p, v) in enumerate(zip(processors, row, strict=True))
            }
            for row in rows
        ]
    else:
        marker = {"qmark": "?", "format": "%s", "pyformat": "%s"}[dialect.paramstyle]
        markers = ", ".join([marker] * len(columns))
        if any(processors):
            active = [(i, p) for i, p in enumerate(processors) if p is not None]
            parameters = []
            for row in rows:
                values = list(row)
                for index, process in active:
                    values[index] = process(values[index])
                parameters.append(tuple(values))
        else:
            parameters = rows
    statement = f"INSERT INTO {quote.format_table(table)} ({names}) VALUES ({markers})"
    connection.exec_driver_sql(statement, parameters)


def _copy(connection: sa.Connection, statement: str, rows: list[tuple]) -> None:
    dbapi_error = connection.dialect.loaded_dbapi.Error
    cursor = connection.connection.cursor()
    # The engine's cursor events see the COPY like any statement: whoever counts round
    # trips (tests, benchmarks) counts this one too.
    events = connection._has_events or connection.engine._has_events
    if events:
        connection.dispatch.before_cursor_execute(connection, cursor, statement, rows, None, True)
    try:
        with cursor.copy(statement) as copy:  # type: ignore[attr-defined]
            for row in rows:
                copy.write_row(row)
    except dbapi_error as exc:
        invalidated = bool(getattr(connection.connection.dbapi_connection, "closed", False))
        raise sa.exc.DBAPIError.instance(
            statement, None, exc, dbapi_error, connection_invalidated=invalidated
        ) from exc
    else:
        if events:
            connection.dispatch.after_cursor_execute(
                connection, cursor, statement, rows, None, True
            )
    finally:
        cursor.close()
