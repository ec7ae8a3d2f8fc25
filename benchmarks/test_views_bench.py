"""Dataset selection through the views vs the warehouse as the database grows, and writer
throughput with parallel writers keeping the views.

Run: ``.venv/bin/pytest benchmarks/test_views_bench.py --benchmark-only``
- ``BK_BENCH_VIEW_SIZES`` (default ``10000,100000``): database sizes in files; the study
  in docs/views.md used ``10000,100000,1000000`` (10^7 on PostgreSQL is an optional run:
  add ``10000000``). SQLite always, PostgreSQL when ``BK_TEST_POSTGRES_URL`` is set.
  Databases come from ``benchmarks/views_data.py``: populated through both writers once
  and kept between runs (populate ahead with ``python -m benchmarks.views_data``).
- ``extra_info``: the database size, the files in the selected dataset, the statements
  one selection sent (SQLite's emulated BEGIN not counted) and the back-end.
- ``BK_BENCH_WRITER_FILES`` (default 4000): files written per writer-count round
  (PostgreSQL only); ``extra_info["files_per_second"]``.
"""

from __future__ import annotations

import dataclasses
import os
import threading
from collections.abc import Callable, Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from benchmarks.views_data import populated_database
from bookkeeping.amga_adapter.bookkeeping import CatalogueBookkeeping, CatalogueWriter
from bookkeeping.amga_adapter.engine.system_tables import users
from bookkeeping.engines import create_engine
from bookkeeping.generator import generate_reports
from bookkeeping.interface import Bookkeeping, DatasetPath, Level
from bookkeeping.schema import metadata
from bookkeeping.scratch import scratch_database, server_url
from bookkeeping.warehouse.reader import WarehouseBookkeeping
from bookkeeping.writer.model import JobReport
from bookkeeping.writer.service import record_reports

# Population of the largest sizes happens in the fixture when not done ahead.
pytestmark = pytest.mark.timeout(6 * 3600)

SIZES = [int(s) for s in os.environ.get("BK_BENCH_VIEW_SIZES", "10000,100000").split(",")]
WRITER_FILES = int(os.environ.get("BK_BENCH_WRITER_FILES", "4000"))
DATABASES = ["sqlite"] + (["postgresql"] if server_url("postgresql") else [])
# A physicist's dataset: one configuration, conditions, processing pass and file type
# (about 2.6% of all files, whatever the size of the bookkeeping).
PATH = DatasetPath(
    config_name="LHCb",
    config_version="Collision12",
    conditions="Beam4000GeV-VeloClosed-MagDown",
    processing_pass="Real Data/Reco14/Stripping20",
    file_type="DST",
)
CONFIGURATION = DatasetPath(config_name="LHCb")


def _page(bookkeeping: Bookkeeping) -> object:
    """The first 100 files of the dataset, largest first, with its totals."""
    return bookkeeping.files(PATH, limit=100, order_by="size", descending=True)


def _productions(bookkeeping: Bookkeeping) -> object:
    """The production level of a whole configuration (files, events, bytes each)."""
    return bookkeeping.level_values(Level.PRODUCTION, CONFIGURATION)


def _filtered_page(bookkeeping: Bookkeeping) -> object:
    """A page of the configuration within a production range (totals need counting)."""
    return bookkeeping.files(
        dataclasses.replace(CONFIGURATION, production_range=(0, 10**8)), limit=100
    )


SELECTIONS: dict[str, Callable[[Bookkeeping], object]] = {
    "page": _page,
    "productions": _productions,
    "filtered-page": _filtered_page,
}


@pytest.fixture(
    scope="module",
    params=[(db, n) for db in DATABASES for n in SIZES],
    ids=lambda param: f"{param[0]}-{param[1]}",
)
def populated(request: pytest.FixtureRequest) -> Iterator[tuple[Engine, int]]:
    database, files = request.param
    with populated_database(database, files) as url:
        engine = create_engine(url)
        try:
            yield engine, files
        finally:
            engine.dispose()


def statements(engine: Engine, call: Callable[[], object]) -> int:
    """Statements ``call`` sends (SQLite's emulated BEGIN, engines.py, not counted)."""
    seen = 0

    def counter(*arguments: object) -> None:
        nonlocal seen
        if not str(arguments[2]).startswith("BEGIN"):
            seen += 1

    sa.event.listen(engine, "before_cursor_execute", counter)
    try:
        call()
    finally:
        sa.event.remove(engine, "before_cursor_execute", counter)
    return seen


@pytest.mark.parametrize("selection", list(SELECTIONS))
@pytest.mark.parametrize("implementation", ["catalogue-views", "warehouse"])
def test_selection_latency(  # type: ignore[no-untyped-def]
    benchmark, populated: tuple[Engine, int], implementation: str, selection: str
) -> None:
    engine, files = populated
    bookkeeping: Bookkeeping = (
        CatalogueBookkeeping(engine)
        if implementation != "warehouse"
        else WarehouseBookkeeping(engine)
    )
    select = SELECTIONS[selection]
    answer = select(bookkeeping)  # warm the caches (directory cache, database buffers)
    counted = statements(engine, lambda: select(bookkeeping))
    dataset = getattr(answer, "total_files", None)
    benchmark.extra_info.update(
        files=files, dataset_files=dataset, statements=counted, database=engine.dialect.name
    )
    benchmark.pedantic(select, args=(bookkeeping,), rounds=5, iterations=1, warmup_rounds=0)


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


def _prepared(url: str) -> Engine:
    engine = create_engine(url)
    metadata.create_all(engine)
    with engine.begin() as connection:
        connection.execute(users.insert().values(name="root", password_hash=None))
    return engine


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
