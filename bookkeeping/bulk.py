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

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

# Below this many rows an INSERT is as quick as a COPY (which costs a round trip more).
COPY_MIN_ROWS = 50


@dataclass(frozen=True)
class _Plan:
    """How rows of some columns of a table go in on one dialect (worked out once: the
    catalogue writer inserts a few rows into each of a dozen tables per report)."""

    insert: str
    copy: str
    processors: tuple[tuple[int, Callable[[Any], Any]], ...]  # (column index, processor)
    named: bool  # Oracle's paramstyle: rows as dicts p0, p1, ...


_PLANS: dict[tuple[sa.Table, tuple[str, ...], sa.Dialect], _Plan] = {}
_MAX_PLANS = 1024  # tables are dropped and made again (scratch databases): bounded


def _plan(table: sa.Table, columns: tuple[str, ...], dialect: sa.Dialect) -> _Plan:
    key = (table, columns, dialect)
    plan = _PLANS.get(key)
    if plan is not None:
        return plan
    quote = dialect.identifier_preparer
    names = ", ".join(quote.quote(column) for column in columns)
    processors = [
        table.c[column].type.dialect_impl(dialect).bind_processor(dialect) for column in columns
    ]
    named = dialect.paramstyle == "named"
    if named:
        markers = ", ".join(f":p{index}" for index in range(len(columns)))
    else:
        marker = {"qmark": "?", "format": "%s", "pyformat": "%s"}[dialect.paramstyle]
        markers = ", ".join([marker] * len(columns))
    plan = _Plan(
        insert=f"INSERT INTO {quote.format_table(table)} ({names}) VALUES ({markers})",
        copy=f"COPY {quote.format_table(table)} ({names}) FROM STDIN",
        processors=tuple((i, p) for i, p in enumerate(processors) if p is not None),
        named=named,
    )
    if len(_PLANS) >= _MAX_PLANS:
        _PLANS.clear()
    _PLANS[key] = plan
    return plan


def insert_rows(
    connection: sa.Connection, table: sa.Table, columns: Sequence[str], rows: list[tuple]
) -> None:
    """Insert ``rows`` (tuples of values in the order of ``columns``) into ``table``."""
    if not rows:
        return
    dialect = connection.dialect
    plan = _plan(table, tuple(columns), dialect)
    if len(rows) >= COPY_MIN_ROWS and dialect.name == "postgresql" and dialect.driver == "psycopg":
        _copy(connection, plan.copy, rows)
        return
    parameters: list[Any] = rows
    if plan.processors:
        parameters = []
        for row in rows:
            values = list(row)
            for index, process in plan.processors:
                values[index] = process(values[index])
            parameters.append(tuple(values))
    if plan.named:
        parameters = [{f"p{i}": v for i, v in enumerate(row)} for row in parameters]
    connection.exec_driver_sql(plan.insert, parameters)


def _copy(connection: sa.Connection, statement: str, rows: list[tuple]) -> None:
    dbapi_error = connection.dialect.loaded_dbapi.Error
    cursor = connection.connection.cursor()
    # The engine's cursor events see the COPY like any statement: whoever counts round
    # trips (tests, benchmarks) counts this one too.
    events = connection._has_events or connection.engine._has_events
    if events:
        connection.dispatch.before_cursor_execute(connection, cursor, statement, rows, None, True)
    try:
        with cursor.copy(statement) as copy:
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
