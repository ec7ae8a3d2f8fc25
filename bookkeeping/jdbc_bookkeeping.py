"""The bookkeeping through jdbc_compat: the warehouse's SQL, run on the catalogue.

``JdbcBookkeeping(connection)`` is ``WarehouseBookkeeping`` with one thing changed: where its
statements are executed (``WarehouseBookkeeping._connect``). Every statement the warehouse
reader builds with SQLAlchemy Core is compiled to SQL text with ``?`` parameters (SQLite's
dialect, the one jdbc_compat parses) and run by a jdbc_compat DB-API connection, in-process
or over ``amga://``; the rows are shaped by the warehouse reader's own code. No query is
written twice: "the AMGA client substitutes the JDBC driver" (seed 001).

The data read is the catalogue bookkeeping's own (``amga_adapter.bookkeeping.layout``, seed
001's Appendix A), not a copy: the warehouse's nine tables are read-only views of the
connection (``bookkeeping.jdbc_compat.views``), defined by ``warehouse_views()``:

- ``jobs``, ``files``, ``inputFiles``, ``evtTypes`` -> ``/jobs``, ``/files``, ``/inputFiles``,
  ``/evtTypes``: the same columns (attribute names are the column names in upper case);
- ``fileParams``, ``jobParams``, ``typeParams`` ``(owner id, name, value)`` -> ``/fileParams``,
  ``/jobParams``, ``/typeParams``: one entry per owner, one attribute per parameter name
  (``layout.attribute_name``); values read as text;
- ``qualityParams (file_id, name, value)`` -> ``/qualityParams``: name is ``Group``, value
  ``Flag`` (one entry per file and group: already name/value shaped);
- ``replicas (file_id, site, storageclass, area, status, replica)`` -> ``/replicas/<SITE>``:
  site is the sub-directory's name.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from functools import partial
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import Result
from sqlalchemy.engine.result import IteratorResult, SimpleResultMetaData

from bookkeeping.amga_adapter.bookkeeping import layout as L
from bookkeeping.jdbc_compat.connection import Connection
from bookkeeping.jdbc_compat.cursor import Cursor
from bookkeeping.jdbc_compat.exceptions import ProgrammingError
from bookkeeping.jdbc_compat.views import (
    NameValueTable,
    PartitionedTable,
    RenamedTable,
    View,
)
from bookkeeping.warehouse.reader import WarehouseBookkeeping
from bookkeeping.warehouse.tables import (
    event_types,
    files,
    input_files,
    jobs,
    replicas,
)

# The dialect jdbc_compat parses: qmark parameters, double-quoted identifiers.
_DIALECT = sqlite.dialect(paramstyle="qmark")


def _same_columns(table: sa.Table, directory: str) -> RenamedTable:
    """A warehouse table whose directory has the same columns as attributes in upper case
    (Appendix A's names; the warehouse spells them in lower case)."""
    return RenamedTable(directory, tuple((c.name, c.name.upper()) for c in table.columns))


def _parameters(directory: str, key: str) -> NameValueTable:
    return NameValueTable(
        directory,
        (key, key.upper()),
        attribute_of=partial(L.attribute_name, directory),
        name_of=L.parameter_name,
    )


def warehouse_views() -> dict[str, View]:
    """The warehouse's tables as views of the catalogue bookkeeping's directories (absolute
    paths: they do not depend on the connection's base directory)."""
    attribute = {c.name: _REPLICA_ATTRIBUTES.get(c.name, c.name.upper()) for c in replicas.columns}
    replica_types = {"file_id": "bigint"}
    replica_types.update(
        (c.name, L.REPLICA_ATTRIBUTES[attribute[c.name]])
        for c in replicas.columns
        if attribute[c.name] in L.REPLICA_ATTRIBUTES and c.name != "file_id"
    )
    return {
        "jobs": _same_columns(jobs, L.JOBS),
        "files": _same_columns(files, L.FILES),
        "inputFiles": _same_columns(input_files, L.INPUT_FILES),
        "evtTypes": _same_columns(event_types, L.EVENT_TYPES),
        "fileParams": _parameters(L.FILE_PARAMS, "file_id"),
        "jobParams": _parameters(L.JOB_PARAMS, "job_id"),
        "typeParams": _parameters(L.TYPE_PARAMS, "type_id"),
        # One entry per (file, group): already name/value shaped, under other names.
        "qualityParams": RenamedTable(
            L.QUALITY_PARAMS, (("file_id", "FILE_ID"), ("name", "Group"), ("value", "Flag"))
        ),
        "replicas": PartitionedTable(
            L.REPLICAS,
            "site",
            tuple(
                (name, attribute.get(name, name.upper()), kind)
                for name, kind in replica_types.items()
            ),
            not_null=tuple(c.name for c in replicas.columns if not c.nullable),
        ),
    }


# Warehouse replica columns whose catalogue attribute is not their name in capitals.
_REPLICA_ATTRIBUTES = {"se_path": "SEPATH"}


class StatementConnection:
    """What the warehouse reader asks of a SQLAlchemy ``Connection`` (``execute``,
    ``scalar``, ``scalars``, ``execution_options``), answered by a jdbc_compat connection:
    each statement is compiled to SQLite-dialect SQL with ``?`` parameters and executed by
    a cursor; rows come back as SQLAlchemy rows (``row.name``, ``row._mapping``)."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self._cursors: list[Cursor] = []

    def execution_options(self, **_options: Any) -> StatementConnection:
        # yield_per and friends: a jdbc_compat cursor streams anyway.
        return self

    def execute(
        self, statement: sa.Executable, parameters: Mapping[str, Any] | None = None
    ) -> Result[Any]:
        sql, values = compile_statement(statement, parameters)
        cursor = self.connection.cursor()
        self._cursors.append(cursor)
        cursor.execute(sql, values)
        if cursor.description is None:
            raise ProgrammingError("the warehouse reader ran a statement that returns no rows")
        keys = [column[0] for column in cursor.description]
        return IteratorResult(SimpleResultMetaData(keys), _rows(cursor))

    def scalar(self, statement: sa.Executable, parameters: Mapping[str, Any] | None = None) -> Any:
        return self.execute(statement, parameters).scalar()

    def scalars(
        self, statement: sa.Executable, parameters: Mapping[str, Any] | None = None
    ) -> sa.ScalarResult[Any]:
        return self.execute(statement, parameters).scalars()

    def close(self) -> None:
        for cursor in self._cursors:
            if not cursor.closed:
                cursor.close()
        self._cursors.clear()


def _rows(cursor: Cursor) -> Iterator[tuple[object, ...]]:
    while rows := cursor.fetchmany(500):
        yield from rows


def compile_statement(
    statement: sa.Executable, parameters: Mapping[str, Any] | None = None
) -> tuple[str, tuple[Any, ...]]:
    """SQL text with ``?`` parameters (expanding IN lists expanded) and their values."""
    compiled = statement.compile(dialect=_DIALECT)  # type: ignore[attr-defined]
    state = compiled.construct_expanded_state(dict(parameters) if parameters else None)
    return state.statement, tuple(state.positional_parameters or ())


class JdbcBookkeeping(WarehouseBookkeeping):
    """The warehouse implementation's statements executed through a jdbc_compat connection
    on the catalogue bookkeeping's directories (see the module docstring).

    Defines ``warehouse_views()`` on ``connection`` (a connection meant for this: its
    ``fileParams`` is then the warehouse's name/value table). Results are identical to
    ``WarehouseBookkeeping``'s on the same data (over ``amga://`` too, except that a
    parameter whose value is the empty string reads as missing: the wire carries NULL and
    "" alike, docs/jdbc_compat.md).
    """

    def __init__(self, connection: Connection) -> None:
        # No engine: nothing but _connect reaches the database. Strings are compared and
        # sorted by code point by jdbc_compat itself, so no COLLATE clause is needed.
        self.connection = connection
        self._collation = None
        connection.views.update(warehouse_views())

    @contextmanager
    def _connect(self) -> Iterator[StatementConnection]:  # type: ignore[override]
        statements = StatementConnection(self.connection)
        try:
            yield statements
        finally:
            statements.close()
