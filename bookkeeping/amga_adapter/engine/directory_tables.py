"""DDL on directory tables: create, drop, add and drop attribute columns, create and drop
ordered indexes, idempotently.

Identifiers here are only our generated names (``catd_<id>``, ``a<id>``, ``ix_catd_<id>_<id>``),
still quoted by the dialect's identifier preparer. Adding a column must be safe when two
connections add the same one at once: PostgreSQL and MariaDB have ``ADD COLUMN IF NOT
EXISTS``; SQLite serialises writers, and a duplicate column there is recognised by
inspecting the table afterwards. Indexes are ``CREATE INDEX IF NOT EXISTS`` / ``DROP INDEX
IF EXISTS`` where the database has them; Oracle before 23ai has neither, so it gets plain
``CREATE INDEX`` / ``DROP INDEX`` (the engine drops only indexes its rows say exist, and a
refused CREATE is checked against the index's existence).

An index key sorts as the query language orders (``query/constructs.py``): NULL lowest,
strings by code point. PostgreSQL's key is ``a<id> COLLATE "C" NULLS FIRST`` (``DESC NULLS
LAST`` descending), exactly what a compiled ORDER BY says, so the planner can walk the index;
SQLite's and MariaDB's columns compare binary and put NULL lowest already. MariaDB stores
varchar wider than 64 as TEXT, of which it indexes only a prefix (the declared length): such
an index narrows a search there but cannot return rows in order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.schema import CreateColumn, CreateIndex, DropIndex
from sqlalchemy.sql.compiler import DDLCompiler, SQLCompiler
from sqlalchemy.sql.visitors import InternalTraversal

from bookkeeping.amga_adapter.engine.directory_info import (
    Attribute,
    attribute_column,
    entry_table,
    table_name,
)


def create_table(
    connection: sa.Connection, directory_id: int, attributes: Sequence[Attribute] = ()
) -> None:
    entry_table(directory_id, tuple(attributes)).create(connection)


def drop_table(connection: sa.Connection, directory_id: int) -> None:
    entry_table(directory_id).drop(connection, checkfirst=True)


def _add_clause(dialect: sa.Dialect, directory_id: int, attribute: Attribute) -> str:
    """``ADD ...`` for ``attribute``, idempotent where the dialect allows it."""
    table = entry_table(directory_id, [attribute])
    definition = str(CreateColumn(table.c[attribute.column]).compile(dialect=dialect))
    if dialect.name == "oracle":
        return f"ADD ({definition})"
    if dialect.name == "sqlite":
        return f"ADD COLUMN {definition}"
    return f"ADD COLUMN IF NOT EXISTS {definition}"


def add_column_sql(dialect: sa.Dialect, directory_id: int, attribute: Attribute) -> str:
    """``ALTER TABLE ... ADD`` for ``attribute``, idempotent where the dialect allows it."""
    quoted = dialect.identifier_preparer.quote(table_name(directory_id))
    return f"ALTER TABLE {quoted} {_add_clause(dialect, directory_id, attribute)}"


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


def add_columns(
    connection: sa.Connection, directory_id: int, attributes: Sequence[Attribute]
) -> None:
    """``add_column`` for several attributes: on PostgreSQL and MariaDB one ``ALTER TABLE``
    with an idempotent ``ADD COLUMN IF NOT EXISTS`` clause each (a new view shard's
    sixteen columns were sixteen statements, each taking the table's exclusive lock);
    SQLite's table is looked at once for all."""
    dialect = connection.dialect
    if dialect.name in {"postgresql", "mysql", "mariadb"} and len(attributes) > 1:
        clauses = ", ".join(_add_clause(dialect, directory_id, a) for a in attributes)
        quoted = dialect.identifier_preparer.quote(table_name(directory_id))
        connection.exec_driver_sql(f"ALTER TABLE {quoted} {clauses}")
        return
    if dialect.name != "sqlite":
        for attribute in attributes:
            add_column(connection, directory_id, attribute)
        return
    present = _columns(connection, directory_id)
    for attribute in attributes:
        if attribute.column not in present:
            connection.exec_driver_sql(add_column_sql(connection.dialect, directory_id, attribute))


def drop_column(connection: sa.Connection, directory_id: int, column: str) -> None:
    if connection.dialect.name == "sqlite" and not _has_column(connection, directory_id, column):
        return
    connection.exec_driver_sql(drop_column_sql(connection.dialect, directory_id, column))


@dataclass(frozen=True)
class IndexKey:
    """One attribute of an ordered index."""

    attribute: Attribute
    descending: bool = False


class _KeyPart(sa.ColumnElement[Any]):
    """An index key rendered for the dialect (see the module docstring). It carries its
    table column, through which the index finds its table."""

    inherit_cache = False  # DDL only, never cached
    _traverse_internals = [("column", InternalTraversal.dp_clauseelement)]

    def __init__(self, column: sa.Column[Any], key: IndexKey) -> None:
        self.column = column
        self.index_key = key  # not .key: a column element's key is its name


@compiles(_KeyPart)
def _compile_key_part(element: _KeyPart, compiler: SQLCompiler, **kw: Any) -> str:
    key = element.index_key
    kind = key.attribute.type
    dialect = compiler.dialect.name
    text = compiler.preparer.quote(key.attribute.column)
    if dialect == "postgresql":
        if kind.kind == "varchar":
            text += ' COLLATE "C"'
        return text + (" DESC NULLS LAST" if key.descending else " NULLS FIRST")
    if dialect in {"mysql", "mariadb"} and kind.text_on_mariadb:
        text += f"({kind.length})"
    return text + (" DESC" if key.descending else "")


def index_name(directory_id: int, index_id: int) -> str:
    return f"ix_{table_name(directory_id)}_{index_id}"


def _index(directory_id: int, index_id: int, keys: Sequence[IndexKey]) -> sa.Index:
    table = entry_table(directory_id, [key.attribute for key in keys])
    parts: list[sa.ColumnElement[Any]] = [
        _KeyPart(table.c[key.attribute.column], key) for key in keys
    ]
    # DROP needs no key, but the index still needs its table (MariaDB: DROP INDEX ... ON).
    return sa.Index(index_name(directory_id, index_id), *(parts or [table.c.name]))


def create_index_ddl(
    directory_id: int, index_id: int, keys: Sequence[IndexKey]
) -> sa.schema.ExecutableDDLElement:
    return CreateIndex(_index(directory_id, index_id, keys), if_not_exists=True)


class _DropIndexIfExists(DropIndex):
    """``DROP INDEX IF EXISTS``, except on Oracle (see the module docstring)."""

    inherit_cache = False  # DDL only, never cached


@compiles(_DropIndexIfExists, "oracle")
def _compile_oracle_drop_index(
    element: _DropIndexIfExists, compiler: DDLCompiler, **kw: Any
) -> str:
    return compiler.process(DropIndex(element.element), **kw)


def drop_index_ddl(directory_id: int, index_id: int) -> sa.schema.ExecutableDDLElement:
    return _DropIndexIfExists(_index(directory_id, index_id, ()), if_exists=True)


def create_index(
    connection: sa.Connection, directory_id: int, index_id: int, keys: Sequence[IndexKey]
) -> None:
    connection.execute(create_index_ddl(directory_id, index_id, keys))


def create_indexes(
    connection: sa.Connection, directory_id: int, indexes: Sequence[tuple[int, Sequence[IndexKey]]]
) -> None:
    """``create_index`` for several (index id, keys) of one table. PostgreSQL gets them as
    one multi-statement text, one round trip (psycopg sends a text without parameters by
    the simple query protocol, which runs several statements); elsewhere one by one."""
    if connection.dialect.name == "postgresql" and len(indexes) > 1:
        dialect = connection.dialect
        statements = [
            str(create_index_ddl(directory_id, index_id, keys).compile(dialect=dialect))
            for index_id, keys in indexes
        ]
        connection.exec_driver_sql(";\n".join(statements))
        return
    for index_id, keys in indexes:
        create_index(connection, directory_id, index_id, keys)


def drop_index(connection: sa.Connection, directory_id: int, index_id: int) -> None:
    connection.execute(drop_index_ddl(directory_id, index_id))


def has_index(connection: sa.Connection, directory_id: int, index_id: int) -> bool:
    name = index_name(directory_id, index_id)
    found = sa.inspect(connection).get_indexes(table_name(directory_id))
    return any(index["name"] == name for index in found)


def _has_column(connection: sa.Connection, directory_id: int, column: str) -> bool:
    return column in _columns(connection, directory_id)


def _columns(connection: sa.Connection, directory_id: int) -> set[str]:
    # PRAGMA table_info with a bound table name: table_xinfo is a table-valued function.
    rows = connection.exec_driver_sql(
        "SELECT name FROM pragma_table_info(?)", (table_name(directory_id),)
    ).all()
    return {row[0] for row in rows}


__all__ = [
    "IndexKey",
    "add_column",
    "add_columns",
    "add_column_sql",
    "attribute_column",
    "create_index",
    "create_index_ddl",
    "create_indexes",
    "create_table",
    "drop_column",
    "drop_column_sql",
    "drop_index",
    "drop_index_ddl",
    "drop_table",
    "has_index",
    "index_name",
]
