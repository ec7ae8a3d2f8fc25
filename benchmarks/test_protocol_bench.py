"""Per-call latency of a point selectattr: over the AMGA protocol, through the in-process
engine, and as raw SQL through the DB-API driver (the floor).

Run: ``.venv/bin/pytest benchmarks/test_protocol_bench.py --benchmark-only``. The database
is a scratch SQLite file by default; ``BK_BENCH_BACKEND=postgresql`` (or ``mariadb``) makes a
scratch database on the server named by ``BK_TEST_POSTGRES_URL`` (``BK_TEST_MARIADB_URL``),
dropped afterwards; ``BK_BENCH_DATABASE_URL`` names an existing, empty database to use as is.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from bookkeeping.amga_adapter.client.client import MDClient
from bookkeeping.amga_adapter.engine.directory_info import load_directory
from bookkeeping.amga_adapter.engine.passwords import hash_password
from bookkeeping.amga_adapter.engine.system_tables import users
from bookkeeping.engines import create_engine, write_transaction
from bookkeeping.schema import metadata
from bookkeeping.scratch import scratch_database, server_url
from tests.protocol.serving import RunningServer, running_server

ENTRIES = 10_000
PASSWORD = "bench-secret"
CONDITION = '/bench:FILE="e5000"'
ITEMS = ["/bench:FILE", "/bench:run", "/bench:size"]


@pytest.fixture(scope="module")
def catalogue() -> Iterator[Any]:
    from bookkeeping.amga_adapter.engine.catalogue import Catalogue

    url = os.environ.get("BK_BENCH_DATABASE_URL")
    backend = os.environ.get("BK_BENCH_BACKEND", "sqlite")
    with scratch_database(backend, server_url(backend)) as scratch:
        engine = create_engine(url or scratch.url)
        metadata.create_all(engine)
        with write_transaction(engine) as connection:
            connection.execute(
                users.insert(), {"name": "root", "password_hash": hash_password(PASSWORD)}
            )
        catalogue = Catalogue(engine)
        session = catalogue.session("root")
        session.createdir("/bench")
        session.addattr("/bench", "run", "int")
        session.addattr("/bench", "size", "int")
        rows = ((f"e{i}", {"run": i % 100, "size": i}) for i in range(ENTRIES))
        session.addentries("/bench", rows)
        session.close()
        try:
            yield catalogue
        finally:
            engine.dispose()


@pytest.fixture(scope="module")
def server(catalogue: Any) -> Iterator[RunningServer]:
    with running_server(catalogue) as running:
        yield running


@pytest.mark.benchmark(min_rounds=200)
def test_point_selectattr_over_the_protocol(benchmark: Any, server: RunningServer) -> None:
    with MDClient("127.0.0.1", server.port, "root", PASSWORD) as client:
        rows = benchmark(client.selectAttr, ITEMS, CONDITION, True)
    assert rows == [["e5000", "0", "5000"]]


@pytest.mark.benchmark(min_rounds=200)
def test_point_selectattr_in_process(benchmark: Any, catalogue: Any) -> None:
    session = catalogue.session("root")
    try:
        rows = benchmark(lambda: list(session.selectattr(ITEMS, CONDITION)))
    finally:
        session.close()
    assert [list(row) for row in rows] == [["e5000", 0, 5000]]


@pytest.mark.benchmark(min_rounds=200)
def test_point_select_raw_sql_through_the_driver(benchmark: Any, catalogue: Any) -> None:
    engine: sa.Engine = catalogue.engine
    with engine.connect() as connection:
        info = load_directory(connection, "/bench")
    preparer = engine.dialect.identifier_preparer
    marker = "?" if engine.dialect.paramstyle == "qmark" else "%s"
    columns = ", ".join(
        preparer.quote(name)
        for name in ("name", info.attribute("run").column, info.attribute("size").column)
    )
    sql = f"SELECT {columns} FROM {preparer.quote(info.table.name)} WHERE name = {marker}"
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()

        def query() -> list[tuple[Any, ...]]:
            cursor.execute(sql, ("e5000",))
            return list(cursor.fetchall())

        rows = benchmark(query)
        raw.rollback()
    finally:
        raw.close()
    assert [tuple(row) for row in rows] == [("e5000", 0, 5000)]
