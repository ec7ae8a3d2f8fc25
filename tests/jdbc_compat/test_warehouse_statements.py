"""The SQL the warehouse implementation issues, replayed unchanged through jdbc_compat over the
same data held in the catalogue: every statement returns the warehouse's rows (the listing's
correlated EXISTS included, as a semi-join).

Statements are captured on a SQLite warehouse (our SQL dialect is SQLite's) with a
``before_cursor_execute`` hook while the reader answers a fixed set of calls; the catalogue
holds one directory per warehouse table, loaded through jdbc_compat itself.
"""

from __future__ import annotations

import datetime
import decimal
import itertools
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from bookkeeping import jdbc_compat
from bookkeeping.amga_adapter.catalogue import Catalogue
from bookkeeping.engines import create_engine
from bookkeeping.generator import generate_reports
from bookkeeping.interface import DatasetPath, Level, ListingQuery
from bookkeeping.schema import metadata
from bookkeeping.warehouse.reader import WarehouseBookkeeping
from bookkeeping.warehouse.store import WarehouseWriter
from bookkeeping.warehouse.tables import WAREHOUSE_TABLES

GENERATED_FILES = 30
_TRANSACTION_CONTROL = re.compile(r"^\s*(BEGIN|COMMIT|ROLLBACK|PRAGMA|SAVEPOINT|RELEASE)", re.I)

Statement = tuple[str, tuple[Any, ...]]


def _capture(bookkeeping: WarehouseBookkeeping, engine: sa.Engine) -> list[Statement]:
    with engine.connect() as connection:
        file_id, lfn = connection.execute(sa.text("SELECT file_id, logname FROM files")).first()
        job_id = connection.scalar(sa.text("SELECT job_id FROM jobs"))
        name, value = connection.execute(sa.text('SELECT name, value FROM "fileParams"')).first()
        config = connection.scalar(sa.text("SELECT configname FROM jobs"))
        file_type = connection.scalar(
            sa.text("""SELECT value FROM "typeParams" WHERE name='Name'""")
        )
    captured: list[Statement] = []

    def record(_conn: Any, _cursor: Any, sql: str, params: Any, _ctx: Any, many: bool) -> None:
        if not many and not _TRANSACTION_CONTROL.match(sql):
            captured.append((sql, tuple(params)))

    event.listen(engine, "before_cursor_execute", record)
    try:
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
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return captured


@pytest.fixture(scope="module")
def warehouse() -> Iterator[tuple[sa.Engine, list[Statement]]]:
    with tempfile.TemporaryDirectory() as directory:
        engine = create_engine(f"sqlite:///{Path(directory) / 'warehouse.sqlite'}")
        metadata.create_all(engine)
        WarehouseWriter(engine).record_batch(list(generate_reports(GENERATED_FILES, seed=11)))
        try:
            yield engine, _capture(WarehouseBookkeeping(engine), engine)
        finally:
            engine.dispose()


def _sql_type(column: sa.Column[Any]) -> str:
    kind = column.type
    if isinstance(kind, sa.Boolean):
        return "SMALLINT"
    if isinstance(kind, sa.BigInteger):
        return "BIGINT"
    if isinstance(kind, sa.Integer):
        return "INT"
    if isinstance(kind, sa.DateTime):
        return "TIMESTAMP"
    if isinstance(kind, sa.String):
        return f"VARCHAR({kind.length})"
    raise AssertionError(f"no mapping for {kind!r}")


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


def _normal(value: Any) -> Any:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)?", value):
        value = datetime.datetime.fromisoformat(value)
    if isinstance(value, datetime.datetime):
        return value.replace(microsecond=0)
    if isinstance(value, decimal.Decimal | float):
        return float(value)
    return value


def _rows(rows: Any, ordered: bool) -> list[Any]:
    """Comparable rows. Ordered statements keep their order, except that consecutive rows
    with the same first column (one file's copies in the listing, which orders by file) may
    come in any order: SQL leaves ties unordered."""
    normal = [tuple(_normal(v) for v in row) for row in rows]
    if not ordered:
        return sorted(normal, key=repr)
    return [sorted(group, key=repr) for _, group in itertools.groupby(normal, lambda r: r[0])]


def test_warehouse_statements_return_the_warehouse_rows(
    warehouse: tuple[sa.Engine, list[Statement]], catalogue: Catalogue
) -> None:
    engine, statements = warehouse
    assert statements
    connection = jdbc_compat.connect(catalogue)
    try:
        _load(connection, engine)
        answered = _replay(connection.cursor(), engine, statements)
    finally:
        connection.close()
    assert answered == len(statements)
    assert any(re.search(r"\bEXISTS\b", sql) for sql, _ in statements)  # the listing's


def _replay(cursor: jdbc_compat.Cursor, engine: sa.Engine, statements: list[Statement]) -> int:
    answered = 0
    for sql, params in statements:
        with engine.connect() as source:
            expected = source.exec_driver_sql(sql, params).all()
        cursor.execute(sql, params)
        ordered = re.search(r"\bORDER\s+BY\b", sql, re.I) is not None
        assert _rows(cursor.fetchall(), ordered) == _rows(expected, ordered), sql
        answered += 1
    return answered
