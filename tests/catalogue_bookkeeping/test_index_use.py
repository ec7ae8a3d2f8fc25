"""The seed's queries and file_by_id on the catalogue use the key-attribute indexes the
layout makes (``layout.KEY_INDEXES``), on PostgreSQL and MariaDB: the statements a call
sends are explained with the values it bound.

PostgreSQL is asked with sequential scans discouraged (``enable_seqscan = off``), so a
plan still scanning a directory table means no index could serve it, whatever the size of
the test's tables; in particular a string index in another collation than the comparison's
cannot (the engine builds them ``COLLATE "C"``, and compares in it). MariaDB has no such
switch and scans a table of a few dozen rows anyway: the table the call starts from (the
one it looks up by value) must have a key the optimizer can use (``possible_keys``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bookkeeping.generator import generate_reports
from bookkeeping.interface import DatasetPath, FileRecord
from tests.catalogue_bookkeeping.conftest import Pair


@contextmanager
def _statements(engine: Engine) -> Iterator[list[tuple[str, Any]]]:
    seen: list[tuple[str, Any]] = []

    def statement(conn: Any, cursor: Any, text: str, parameters: Any, *args: object) -> None:
        if not text.startswith("SELECT cat_schema_version.version"):  # read apart
            seen.append((text, parameters))

    sa.event.listen(engine, "before_cursor_execute", statement)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", statement)


def _plan(engine: Engine, text: str, parameters: Any) -> list[tuple[Any, ...]]:
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            connection.exec_driver_sql("SET enable_seqscan = off")
        rows = connection.exec_driver_sql("EXPLAIN " + text, parameters).all()
        connection.rollback()
    return [tuple(row) for row in rows]


CALLS: dict[str, Callable[[Pair, FileRecord], object]] = {
    "guid_by_file_id": lambda pair, f: pair.catalogue.file_parameter(f.file_id, "GUID"),
    "size_by_guid": lambda pair, f: pair.catalogue.parameter_where("Size", "GUID", f.guid),
    "file_by_id": lambda pair, f: pair.catalogue.file_by_id(f.file_id),
    "file_by_lfn": lambda pair, f: pair.catalogue.file_by_lfn(f.lfn),
}


@pytest.mark.parametrize("call", list(CALLS))
def test_point_look_ups_use_an_index(pair: Pair, call: str) -> None:
    backend = pair.engine.dialect.name
    if backend == "sqlite":
        pytest.skip("EXPLAIN is checked on PostgreSQL and MariaDB")
    assert all(r.ok for r in pair.catalogue_writer.record_batch(list(generate_reports(8, 5))))
    first = pair.catalogue.files(DatasetPath()).files[0]
    CALLS[call](pair, first)  # prepared, layout checked
    with _statements(pair.engine) as seen:
        assert CALLS[call](pair, first)
    assert len(seen) == 1, seen
    text, parameters = seen[0]
    plan = _plan(pair.engine, text, parameters)
    if backend == "postgresql":
        shown = "\n".join(str(row[0]) for row in plan)
        assert "Seq Scan on catd_" not in shown, shown
        assert "Index" in shown, shown
    else:  # MariaDB: id, select_type, table, type, possible_keys, key, ...
        assert plan[0][4] is not None, plan
