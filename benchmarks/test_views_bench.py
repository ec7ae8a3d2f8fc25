"""Dataset selection through the views vs the warehouse, and writer throughput with
parallel writers keeping the views.

Run: ``.venv/bin/pytest benchmarks/test_views_bench.py --benchmark-only``
- ``BK_BENCH_VIEW_SIZES`` (default ``10000,100000``): database sizes in files; add
  ``1000000`` for the 10^6 run. SQLite always, PostgreSQL when ``BK_TEST_POSTGRES_URL``
  is set. ``extra_info`` records the size and the statements one selection took.
- ``BK_BENCH_WRITER_FILES`` (default 4000): files written per writer-count round
  (PostgreSQL only); ``extra_info["files_per_second"]``.
"""

from __future__ import annotations

import dataclasses
import os
import threading
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bookkeeping.amga_adapter.bookkeeping import CatalogueBookkeeping, CatalogueWriter
from bookkeeping.amga_adapter.system_tables import users
from bookkeeping.engines import create_engine
from bookkeeping.generator import generate_reports
from bookkeeping.interface import Bookkeeping, DatasetPath, Level
from bookkeeping.schema import metadata
from bookkeeping.scratch import scratch_database, server_url
from bookkeeping.warehouse.reader import WarehouseBookkeeping
from bookkeeping.warehouse.store import WarehouseWriter
from bookkeeping.writer.model import JobReport
from bookkeeping.writer.service import record_reports

SIZES = [int(s) for s in os.environ.get("BK_BENCH_VIEW_SIZES", "10000,100000").split(",")]
WRITER_FILES = int(os.environ.get("BK_BENCH_WRITER_FILES", "4000"))
DATABASES = ["sqlite"] + (["postgresql"] if server_url("postgresql") else [])
PATH = DatasetPath(
    config_name="LHCb",
    config_version="Collision12",
    conditions="Beam4000GeV-VeloClosed-MagDown",
    processing_pass="Real Data/Reco14/Stripping20",
    file_type="DST",
)


def _prepared(url: str) -> Engine:
    engine = create_engine(url)
    metadata.create_all(engine)
    with engine.begin() as connection:
        connection.execute(users.insert().values(name="root", password_hash=None))
    return engine


@pytest.fixture(scope="module", params=[(db, n) for db in DATABASES for n in SIZES])
def populated(request: pytest.FixtureRequest) -> Iterator[tuple[Engine, int]]:
    database, files = request.param
    with scratch_database(database, server_url(database)) as scratch:
        engine = _prepared(scratch.url)
        reports = generate_reports(files, seed=1)
        for _ in record_reports(WarehouseWriter(engine), reports, batch_size=2000):
            pass
        for _ in record_reports(CatalogueWriter(engine), generate_reports(files, seed=1)):
            pass
        try:
            yield engine, files
        finally:
            engine.dispose()


def _select(bookkeeping: Bookkeeping) -> None:
    bookkeeping.files(PATH, limit=100, order_by="size", descending=True)
    bookkeeping.level_values(Level.PRODUCTION, DatasetPath(config_name="LHCb"))


@pytest.mark.parametrize("implementation", ["catalogue-views", "warehouse"])
def test_selection_latency(benchmark, populated, implementation: str) -> None:  # type: ignore[no-untyped-def]
    engine, files = populated
    bookkeeping: Bookkeeping = (
        CatalogueBookkeeping(engine)
        if implementation != "warehouse"
        else WarehouseBookkeeping(engine)
    )
    _select(bookkeeping)  # warm caches
    count = 0

    def counter(*_: object) -> None:
        nonlocal count
        count += 1

    sa.event.listen(engine, "before_cursor_execute", counter)
    _select(bookkeeping)
    sa.event.remove(engine, "before_cursor_execute", counter)
    benchmark.extra_info.update(files=files, statements=count, database=engine.dialect.name)
    benchmark.pedantic(_select, args=(bookkeeping,), rounds=5, iterations=1)


def _shifted(reports: list[JobReport], writer: int) -> list[JobReport]:
    def lfn(name: str) -> str:
        return name.replace("/lhcb/", f"/lhcb/w{writer}/", 1)

    return [
        dataclasses.replace(
            r,
            dirac_job_id=r.dirac_job_id + writer * 10_000_000,
            input_files=tuple(lfn(x) for x in r.input_files),
            output_files=tuple(dataclasses.replace(f, lfn=lfn(f.lfn)) for f in r.output_files),
        )
        for r in reports
    ]


@pytest.mark.skipif(not server_url("postgresql"), reason="needs BK_TEST_POSTGRES_URL")
@pytest.mark.parametrize("writers", [1, 4, 16])
def test_parallel_writer_throughput_postgresql(benchmark, writers: int) -> None:  # type: ignore[no-untyped-def]
    per_writer = max(1, WRITER_FILES // writers)
    streams = [_shifted(list(generate_reports(per_writer, seed=w)), w) for w in range(writers)]
    # Every combination exists before the clock starts: the run measures steady state.
    warm = list(generate_reports(400, seed=99))

    with scratch_database("postgresql", server_url("postgresql")) as scratch:
        engine = _prepared(scratch.url)
        CatalogueWriter(engine).record_batch(_shifted(warm, 99))
        failed: list[int] = []

        def run(reports: list[JobReport]) -> None:
            results = list(record_reports(CatalogueWriter(engine), reports, batch_size=100))
            failed.append(sum(1 for r in results if not r.ok))

        def write_all() -> None:
            threads = [threading.Thread(target=run, args=(s,)) for s in streams]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()

        benchmark.pedantic(write_all, rounds=1, iterations=1)
        engine.dispose()
    mean = benchmark.stats.stats.mean
    benchmark.extra_info.update(
        writers=writers,
        files=per_writer * writers,
        files_per_second=round(per_writer * writers / mean),
        failed_reports=sum(failed),
    )
