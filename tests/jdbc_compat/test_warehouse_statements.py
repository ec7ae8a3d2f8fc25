"""The SQL the warehouse implementation issues, replayed unchanged through jdbc_compat over the
same data held in the catalogue: every statement returns the warehouse's rows (the listing's
correlated EXISTS included, as a semi-join), on every back-end, in-process and over amga://.

Statements are captured from a warehouse on the catalogue's own back-end, with a
``before_execute`` hook while the reader answers a fixed set of calls: the reader builds
SQLAlchemy Core statements, and on PostgreSQL and MariaDB they differ from SQLite's (the
string orderings carry ``COLLATE "C"`` / ``COLLATE utf8mb4_bin``). Each is compiled with the
SQLite dialect jdbc_compat parses, exactly as ``JdbcBookkeeping`` compiles it (on SQLite that
text is byte for byte what the warehouse sent its driver), and its rows are compared with
the rows the warehouse's database returns for the same statement. The catalogue holds one
directory per warehouse table, loaded through jdbc_compat itself.

The comparison is exact: values are compared with ``==`` (an integer SUM that PostgreSQL
returns as a Decimal equals the catalogue's int; no value is rounded, no microsecond
dropped), unordered results as multisets, and ordered results in order - except that rows
whose ORDER BY keys are equal (ties, which SQL leaves unordered) may come in any order among
themselves: the keys are read from the warehouse, never guessed. Over amga:// an empty
string travels as NULL (the protocol's limit, docs/jdbc_compat.md), so there the
warehouse's empty strings are expected as NULL.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from bookkeeping import jdbc_compat
from bookkeeping.amga_adapter.engine.catalogue import Catalogue
from bookkeeping.engines import backend_name, create_engine
from bookkeeping.generator import generate_reports
from bookkeeping.interface import DatasetPath, Level, ListingQuery
from bookkeeping.jdbc_bookkeeping import compile_statement
from bookkeeping.jdbc_compat.remote import RemoteBackend
from bookkeeping.schema import metadata
from bookkeeping.scratch import scratch_database, server_url
from bookkeeping.warehouse.reader import WarehouseBookkeeping
from bookkeeping.warehouse.store import WarehouseWriter
from bookkeeping.warehouse.tables import WAREHOUSE_TABLES
from tests.jdbc_compat.conftest import Connect

GENERATED_FILES = 30
# What the engine itself sends around the reader's statements.
_TRANSACTION_CONTROL = re.compile(r"^\s*(BEGIN|COMMIT|ROLLBACK|PRAGMA|SAVEPOINT|RELEASE)", re.I)


@dataclass(frozen=True)
class Statement:
    statement: sa.Executable  # what the reader executed
    parameters: dict[str, Any] | None
    sql: str  # compiled as JdbcBookkeeping compiles it
    values: tuple[Any, ...]


@dataclass(frozen=True)
class Warehouse:
    engine: sa.Engine
    statements: list[Statement]
    driver_sql: list[tuple[str, tuple[Any, ...]]]  # what reached the database's driver


def _calls(bookkeeping: WarehouseBookkeeping, engine: sa.Engine) -> Callable[[], None]:
    with engine.connect() as connection:
        file_id, lfn = connection.execute(sa.text("SELECT file_id, logname FROM files")).first()
        job_id = connection.scalar(sa.text("SELECT job_id FROM jobs"))
        parameter = connection.execute(
            sa.select(sa.column("name"), sa.column("value")).select_from(sa.table("fileParams"))
        ).first()
        config = connection.scalar(sa.text("SELECT configname FROM jobs"))
        file_type = connection.scalar(
            sa.select(sa.column("value"))
            .select_from(sa.table("typeParams"))
            .where(sa.column("name") == "Name")
        )
    name, value = parameter

    def run() -> None:
        bookkeeping.file_by_id(file_id)
        bookkeeping.file_by_lfn(lfn)
        bookkeeping.file_parameter(file_id, name)
        bookkeeping.file_parameters(file_id)
        bookkeeping.parameter_where("Size", name, value)
        bookkeeping.job(job_id)
        bookkeeping.job_parameters(job_id)
        bookkeeping.ancestors(file_id)
        bookkeeping.descendants(file_id)
        bookkeeping.replicas(file_id)
        bookkeeping.quality_flags(file_id)
        for level in Level:
            bookkeeping.level_values(level)
        bookkeeping.files(DatasetPath(), limit=5)
        bookkeeping.files(
            DatasetPath(config_name=config, production_range=(1, 10**9)),
            order_by="size",
            descending=True,
            offset=1,
            limit=3,
        )
        list(bookkeeping.iter_files(DatasetPath(file_type=file_type)))
        bookkeeping.files_metadata([lfn, "no-such-lfn"])
        bookkeeping.search(lfn=lfn[3:9])
        bookkeeping.search(production=1, run=2)
        bookkeeping.count_listing(ListingQuery(file_type=file_type))
        list(bookkeeping.iter_listing(ListingQuery(file_type=file_type, disk_only=True)))

    return run


def _capture(engine: sa.Engine) -> Warehouse:
    run = _calls(WarehouseBookkeeping(engine), engine)
    statements: list[Statement] = []
    driver_sql: list[tuple[str, tuple[Any, ...]]] = []

    def before_execute(_conn: Any, clause: Any, multi: Any, params: Any, _options: Any) -> None:
        assert isinstance(clause, sa.Select), f"the reader executed {clause!r}"
        parameters = dict(params or (multi[0] if multi else {})) or None
        sql, values = compile_statement(clause, parameters)
        statements.append(Statement(clause, parameters, sql, values))

    def before_cursor(_conn: Any, _cursor: Any, sql: str, params: Any, _ctx: Any, many: bool):
        if not many and not _TRANSACTION_CONTROL.match(sql):
            driver_sql.append((sql, tuple(params)))

    event.listen(engine, "before_execute", before_execute)
    event.listen(engine, "before_cursor_execute", before_cursor)
    try:
        run()
    finally:
        event.remove(engine, "before_execute", before_execute)
        event.remove(engine, "before_cursor_execute", before_cursor)
    return Warehouse(engine, statements, driver_sql)


@pytest.fixture(scope="module")
def warehouses() -> Iterator[Callable[[str], Warehouse]]:
    """The warehouse on a back-end, populated and with its statements captured (made once
    per back-end the module's tests ask for)."""
    made: dict[str, Warehouse] = {}
    with ExitStack() as stack:

        def warehouse(backend: str) -> Warehouse:
            if backend not in made:
                database = stack.enter_context(scratch_database(backend, server_url(backend)))
                engine = create_engine(database.url)
                stack.callback(engine.dispose)
                metadata.create_all(engine)
                WarehouseWriter(engine).record_batch(
                    list(generate_reports(GENERATED_FILES, seed=11))
                )
                made[backend] = _capture(engine)
            return made[backend]

        yield warehouse


def _sql_type(column: sa.Column[Any]) -> str:
    kind = column.type
    if isinstance(kind, sa.Boolean):
        text = "SMALLINT"
    elif isinstance(kind, sa.BigInteger):
        text = "BIGINT"
    elif isinstance(kind, sa.Integer):
        text = "INT"
    elif isinstance(kind, sa.DateTime):
        text = "TIMESTAMP"
    elif isinstance(kind, sa.String):
        text = f"VARCHAR({kind.length})"
    else:
        raise AssertionError(f"no mapping for {kind!r}")
    return text if column.nullable else text + " NOT NULL"


def _load(connection: jdbc_compat.Connection, warehouse: sa.Engine) -> None:
    cursor = connection.cursor()
    for table in WAREHOUSE_TABLES:
        columns = ", ".join(f'"{c.name}" {_sql_type(c)}' for c in table.columns)
        cursor.execute(f'CREATE TABLE "{table.name}" ({columns})')
        with warehouse.connect() as source:
            rows = [tuple(row) for row in source.execute(sa.select(table))]
        marks = ", ".join("?" for _ in table.columns)
        if rows:
            cursor.executemany(f'INSERT INTO "{table.name}" VALUES ({marks})', rows)
    connection.commit()


def _order_keys(statement: sa.Select) -> list[sa.ColumnElement[Any]]:
    """The ORDER BY expressions of ``statement`` (without ASC/DESC)."""
    keys = []
    for clause in statement._order_by_clauses:  # SQLAlchemy keeps no public accessor
        element = getattr(clause, "element", None)
        keys.append(element if isinstance(clause, sa.UnaryExpression) else clause)
    return keys


def _expected(warehouse: sa.Engine, item: Statement) -> list[list[tuple[Any, ...]]]:
    """The warehouse's rows as runs that may come in any order within themselves: one run
    for an unordered statement, else one per tie (equal ORDER BY keys)."""
    statement = item.statement
    assert isinstance(statement, sa.Select)
    keys = _order_keys(statement)
    with warehouse.connect() as source:
        if not keys:
            return [[tuple(row) for row in source.execute(statement, item.parameters)]]
        width = len(statement.selected_columns)
        keyed = statement.add_columns(*(k.label(f"order_key_{i}") for i, k in enumerate(keys)))
        rows = [tuple(row) for row in source.execute(keyed, item.parameters)]
    runs: list[list[tuple[Any, ...]]] = []
    previous: object = object()
    for row in rows:
        if row[width:] != previous:
            runs.append([])
            previous = row[width:]
        runs[-1].append(row[:width])
    return runs


def _same(got: list[tuple[Any, ...]], runs: list[list[tuple[Any, ...]]], amga: bool) -> bool:
    def normal(rows: list[tuple[Any, ...]]) -> Counter[tuple[Any, ...]]:
        # Equal numbers hash alike whatever their type (Decimal("3") == 3 == 3.0).
        return Counter(tuple(None if amga and v == "" else v for v in row) for row in rows)

    start = 0
    for run in runs:
        if normal(got[start : start + len(run)]) != normal(run):
            return False
        start += len(run)
    return start == len(got)


def test_warehouse_statements_return_the_warehouse_rows(
    warehouses: Callable[[str], Warehouse], catalogue: Catalogue, connect: Connect
) -> None:
    warehouse = warehouses(backend_name(catalogue.engine))
    statements = warehouse.statements
    assert statements
    if backend_name(warehouse.engine) == "sqlite":
        # What jdbc_compat runs is what the SQLite warehouse sent: unchanged.
        assert [(s.sql, s.values) for s in statements] == warehouse.driver_sql
    connection = connect()
    amga = isinstance(connection._backend, RemoteBackend)
    _load(connection, warehouse.engine)
    cursor = connection.cursor()
    for item in statements:
        runs = _expected(warehouse.engine, item)
        cursor.execute(item.sql, item.values)
        assert _same(cursor.fetchall(), runs, amga), item.sql
    assert any(re.search(r"\bEXISTS\b", s.sql) for s in statements)  # the listing's
    assert any("COLLATE" in s.sql for s in statements) == (
        backend_name(warehouse.engine) != "sqlite"
    )
