"""Bulk inserts for the warehouse writer: rows straight to the driver.

The bulk path writes millions of rows; SQLAlchemy's per-row parameter handling costs more
than the database does. The statements are built from our own table metadata (identifiers
quoted by the dialect), values stay bound parameters, and each column's own bind processor
(e.g. DateTime on SQLite) is still applied. On PostgreSQL the rows go in with ``COPY``.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection


def insert_many(connection: Connection, table: sa.Table, values: list[dict]) -> None:
    """Insert ``values`` (dicts with the same keys, in the same order) into ``table`` on
    ``connection``, inside its transaction."""
    dialect = connection.dialect
    names = list(values[0])
    if dialect.name == "postgresql" and dialect.driver == "psycopg":
        _copy_rows(connection, table, names, values)
        return
    processors = [
        table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in names
    ]
    quote = dialect.identifier_preparer
    columns = ", ".join(quote.quote(name) for name in names)
    rows: list[Any]
    if dialect.paramstyle == "named":
        markers = ", ".join(f":p{index}" for index in range(len(names)))
        rows = [
            {
                f"p{i}": (p(v) if p else v)
                for i, (p, v) in enumerate(zip(processors, row.values(), strict=True))
            }
            for row in values
        ]
    else:
        marker = {"qmark": "?", "format": "%s", "pyformat": "%s"}[dialect.paramstyle]
        markers = ", ".join([marker] * len(names))
        if any(processors):
            rows = [
                tuple(p(v) if p else v for p, v in zip(processors, row.values(), strict=True))
                for row in values
            ]
        else:
            rows = [tuple(row.values()) for row in values]
    statement = f"INSERT INTO {quote.format_table(table)} ({columns}) VALUES ({markers})"
    connection.exec_driver_sql(statement, rows)


def _copy_rows(
    connection: Connection, table: sa.Table, names: list[str], values: list[dict]
) -> None:
    """PostgreSQL: ``COPY ... FROM STDIN``, the server's own bulk load, on the transaction's
    connection (so it commits or rolls back with the rest of the batch)."""
    quote = connection.dialect.identifier_preparer
    columns = ", ".join(quote.quote(name) for name in names)
    statement = f"COPY {quote.format_table(table)} ({columns}) FROM STDIN"
    dbapi_error = connection.dialect.loaded_dbapi.Error
    cursor = connection.connection.cursor()
    try:
        with cursor.copy(statement) as copy:  # type: ignore[attr-defined]
            for row in values:
                copy.write_row(tuple(row.values()))
    except dbapi_error as exc:
        # The driver's own error, as SQLAlchemy would have raised it (IntegrityError for a
        # duplicate key, ...): callers handle one family of exceptions on every back-end.
        raise sa.exc.DBAPIError.instance(statement, None, exc, dbapi_error) from exc
    finally:
        cursor.close()
