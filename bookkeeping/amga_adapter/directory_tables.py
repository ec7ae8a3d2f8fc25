"""DDL on directory tables: create, drop, add and drop attribute columns, idempotently.

Identifiers here are only our generated names (``catd_<id>``, ``a<id>``), still quoted by the
dialect's identifier preparer. Adding a column must be safe when two connections add the same
one at once: PostgreSQL and MariaDB have ``ADD COLUMN IF NOT EXISTS``; SQLite serialises
writers, and a duplicate column there is recognised by inspecting the table afterwards.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.schema import CreateColumn

from bookkeeping.amga_adapter.directory_info import (
    Attribute,
    attribute_column,
    entry_table,
    table_name,
)


def create_table(connection: sa.Connection, directory_id: int) -> None:
    entry_table(directory_id).create(connection)


def drop_table(connection: sa.Connection, directory_id: int) -> None:
    entry_table(directory_id).drop(connection, checkfirst=True)


def add_column_sql(dialect: sa.Dialect, directory_id: int, attribute: Attribute) -> str:
    """``ALTER TABLE ... ADD`` for ``attribute``, idempotent where the dialect allows it."""
    table = entry_table(directory_id, [attribute])
    column = table.c[attribute.column]
    definition = str(CreateColumn(column).compile(dialect=dialect))
    quoted = dialect.identifier_preparer.format_table(table)
    if dialect.name == "oracle":
        return f"ALTER TABLE {quoted} ADD ({definition})"
    if dialect.name == "sqlite":
        return f"ALTER TABLE {quoted} ADD COLUMN {definition}"
    return f"ALTER TABLE {quoted} ADD COLUMN IF NOT EXISTS {definition}"


def drop_column_sql(dialect: sa.Dialect, directory_id: int, column: str) -> str:
    preparer = dialect.identifier_preparer
    table = preparer.quote(table_name(directory_id))
    if_exists = "IF EXISTS " if dialect.name in {"postgresql", "mysql", "mariadb"} else ""
    return f"ALTER TABLE {table} DROP COLUMN {if_exists}{preparer.quote(column)}"


def add_column(connection: sa.Connection, directory_id: int, attribute: Attribute) -> None:
    sql = add_column_sql(connection.dialect, directory_id, attribute)
    if connection.dialect.name != "sqlite":
        connection.exec_driver_sql(sql)
        return
    if not _has_column(connection, directory_id, attribute.column):
        connection.exec_driver_sql(sql)


def drop_column(connection: sa.Connection, directory_id: int, column: str) -> None:
    if connection.dialect.name == "sqlite" and not _has_column(connection, directory_id, column):
        return
    connection.exec_driver_sql(drop_column_sql(connection.dialect, directory_id, column))


def _has_column(connection: sa.Connection, directory_id: int, column: str) -> bool:
    # PRAGMA table_info with a bound table name: table_xinfo is a table-valued function.
    rows = connection.exec_driver_sql(
        "SELECT name FROM pragma_table_info(?)", (table_name(directory_id),)
    ).all()
    return any(row[0] == column for row in rows)


__all__ = [
    "add_column",
    "add_column_sql",
    "attribute_column",
    "create_table",
    "drop_column",
    "drop_column_sql",
    "drop_table",
]
