"""Statements syncat's tables share: idempotent inserts of many rows in one statement."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection


def insert_ignoring(connection: Connection, table: sa.Table) -> sa.Insert:
    """An INSERT that skips rows whose primary key (or a unique key) exists."""
    dialect = connection.dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing()
    if dialect == "sqlite":
        return sqlite.insert(table).on_conflict_do_nothing()
    return table.insert().prefix_with("IGNORE")  # MariaDB


def insert_missing(connection: Connection, table: sa.Table, rows: list[dict[str, Any]]) -> int:
    """Insert the rows (dicts with the same keys) whose key is not there yet, in one
    statement on ``connection``; how many were inserted (0 where a driver cannot count).

    PostgreSQL: ``INSERT .. SELECT unnest(:column_1), unnest(:column_2) ..`` with one array
    per column, one round trip and one plan for a thousand rows. Elsewhere an executemany
    (SQLite in process; PyMySQL folds an INSERT executemany into one multi-row INSERT)."""
    if not rows:
        return 0
    if connection.dialect.name != "postgresql":
        statement = insert_ignoring(connection, table).execution_options(preserve_rowcount=True)
        inserted = connection.execute(statement, rows).rowcount
        return max(int(inserted), 0)
    names = list(rows[0])
    columns = [table.c[name] for name in names]
    arrays = [
        sa.func.unnest(
            sa.bindparam(name, [row[name] for row in rows], type_=postgresql.ARRAY(c.type))
        )
        for name, c in zip(names, columns, strict=True)
    ]
    statement = (
        postgresql.insert(table)
        .from_select(names, sa.select(*arrays))
        .on_conflict_do_nothing()
        .execution_options(preserve_rowcount=True)  # SQLAlchemy counts UPDATE/DELETE only
    )
    return max(int(connection.execute(statement).rowcount), 0)
