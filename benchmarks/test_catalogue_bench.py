"""Catalogue engine: bulk addentries rate and the memory of a streamed 10^6-row selectattr.

Run: ``.venv/bin/pytest benchmarks/test_catalogue_bench.py --benchmark-only``
SQLite always; PostgreSQL and MariaDB when ``BK_TEST_POSTGRES_URL`` / ``BK_TEST_MARIADB_URL``
are set (both figures on every back-end; PyMySQL streams through an unbuffered cursor).
``BK_BENCH_ROWS`` changes the size of the streamed directory (default 10^6).
The figures land in the benchmark table and in ``extra_info`` (entries/s, peak MiB).
"""

from __future__ import annotations

import itertools
import os
import threading
import tracemalloc
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from pytest_benchmark.fixture import BenchmarkFixture

from bookkeeping.amga_adapter.engine.catalogue import Catalogue, CatalogueSession
from bookkeeping.amga_adapter.engine.system_tables import users
from bookkeeping.engines import create_engine, write_transaction
from bookkeeping.schema import metadata
from bookkeeping.scratch import scratch_database, server_url
from tests.conftest import BACKENDS

BULK_ENTRIES = 10_000
STREAM_ROWS = int(os.environ.get("BK_BENCH_ROWS", 1_000_000))
# A streamed result holds one fetch batch, not the result: far below what 10^6 rows take.
STREAM_PEAK_LIMIT_MIB = 32


@pytest.fixture(scope="module", params=BACKENDS)
def session(request: pytest.FixtureRequest) -> Iterator[CatalogueSession]:
    with scratch_database(request.param, server_url(request.param)) as scratch:
        engine = create_engine(scratch.url)
        metadata.create_all(engine)
        with write_transaction(engine) as connection:
            connection.execute(users.insert(), {"name": "root", "password_hash": None})
        session = Catalogue(engine).session("root")
        try:
            yield session
        finally:
            session.close()
            engine.dispose()


class _RssSampler:
    """The largest growth of the resident set size while running, sampled every 5 ms."""

    def __init__(self) -> None:
        self.growth = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @staticmethod
    def _rss() -> int:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

    def _run(self) -> None:
        start = self._rss()
        while not self._stop.wait(0.005):
            self.growth = max(self.growth, self._rss() - start)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def _rows(count: int) -> Iterator[tuple[str, dict[str, object]]]:
    for i in range(count):
        yield (
            f"f{i:07d}",
            {"Size": i, "GUID": f"{i:08x}-0000-4000-8000-000000000000", "Group": "ab"[i % 2]},
        )


def _new_directory(session: CatalogueSession, counter: itertools.count[int]) -> str:
    path = f"/bulk{next(counter)}"
    session.createdir(path)
    session.addattr(path, "Size", "bigint")
    session.addattr(path, "GUID", "varchar(36)")
    session.addattr(path, "Group", "varchar(8)")
    return path


def test_bulk_addentries_rate(benchmark: BenchmarkFixture, session: CatalogueSession) -> None:
    counter = itertools.count()

    def setup() -> tuple[tuple[str], dict[str, object]]:
        return (_new_directory(session, counter),), {}

    def add(path: str) -> int:
        return session.addentries(path, _rows(BULK_ENTRIES))

    added = benchmark.pedantic(add, setup=setup, rounds=3, iterations=1)
    assert added == BULK_ENTRIES
    benchmark.extra_info["entries_per_call"] = BULK_ENTRIES
    benchmark.extra_info["entries_per_second"] = round(BULK_ENTRIES / benchmark.stats["mean"])


def test_streamed_selectattr_peak_memory(
    benchmark: BenchmarkFixture, session: CatalogueSession
) -> None:
    session.createdir("/big")
    session.addattr("/big", "Size", "bigint")
    session.addattr("/big", "GUID", "varchar(36)")
    session.addattr("/big", "Group", "varchar(8)")
    session.addentries("/big", _rows(STREAM_ROWS))
    peaks: list[int] = []
    sampler = _RssSampler()

    def stream_all() -> int:
        tracemalloc.start()
        sampler.start()
        try:
            count = 0
            for _row in session.selectattr(["/big:FILE", "/big:Size", "/big:GUID"], ""):
                count += 1
            peaks.append(tracemalloc.get_traced_memory()[1])
            return count
        finally:
            sampler.stop()
            tracemalloc.stop()

    assert benchmark.pedantic(stream_all, rounds=1, iterations=1) == STREAM_ROWS
    peak_mib = peaks[0] / 2**20
    benchmark.extra_info["rows"] = STREAM_ROWS
    benchmark.extra_info["python_peak_mib"] = round(peak_mib, 2)
    # Driver buffers (libpq, sqlite) are outside tracemalloc's view: the process RSS is not.
    benchmark.extra_info["rss_growth_mib"] = round(sampler.growth / 2**20, 2)
    assert peak_mib < STREAM_PEAK_LIMIT_MIB
    assert sampler.growth / 2**20 < STREAM_PEAK_LIMIT_MIB
    with session.catalogue.engine.connect() as connection:  # the table really holds them
        table = session.core.run(lambda c: session.core.directory(c, "/big").table, write=False)
        assert connection.scalar(sa.select(sa.func.count()).select_from(table)) == STREAM_ROWS
