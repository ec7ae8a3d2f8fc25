"""Throughput of the production writer's bulk path and of the data generator (files/s), and
of 1, 4 and 16 writers recording at the same time.

Run: ``.venv/bin/pytest benchmarks/test_writer_bench.py --benchmark-only``
``BK_BENCH_FILES`` sets the number of files per round (default 20000; 100000 for the
"10^5 files under a minute" target). SQLite always; PostgreSQL when
``BK_TEST_POSTGRES_URL`` is set. Each implementation of the bookkeeping is measured; one
that is not available in this build is skipped. ``extra_info["files_per_second"]`` holds
the figure.

Parallel writers (PostgreSQL only): ``BK_BENCH_PARALLEL_FILES`` files (default 6000) split
into independent shares (``bookkeeping.bench.writes.split_by_chain``), one writer per share,
as threads of one process and as separate processes; each records its share report by
report (batch 1, the real-time path) or in batches (``BK_BENCH_PARALLEL_BATCHES``, default
``1,100``). The bookkeeping holds a warm-up production first (layout, view combinations),
so the clock measures recording. ``extra_info`` has files/s and the reports that failed
(the benchmark fails if any did).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bookkeeping.backends import BACKENDS, open_writer
from bookkeeping.bench.writes import (
    WriteOutcome,
    record_concurrently,
    record_in_processes,
    split_by_chain,
)
from bookkeeping.bootstrap import initialise
from bookkeeping.engines import create_engine
from bookkeeping.generator import generate_reports
from bookkeeping.scratch import scratch_database, server_url
from bookkeeping.writer.model import JobReport, RecordStatus
from bookkeeping.writer.service import record_reports

FILES = int(os.environ.get("BK_BENCH_FILES", "20000"))
DATABASES = ["sqlite"] + (["postgresql"] if server_url("postgresql") else [])


@pytest.fixture(params=DATABASES)
def engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    with scratch_database(request.param, server_url(request.param)) as database:
        engine = create_engine(database.url)
        initialise(engine, root_password="bench")
        try:
            yield engine
        finally:
            engine.dispose()


@pytest.fixture(scope="module")
def reports() -> list[JobReport]:
    return list(generate_reports(FILES, seed=1))


def _fresh_schema(engine: Engine) -> None:
    """Every table dropped (the catalogue's run-time directory tables too), then ``bk init``'s
    work (schema at head, root user): each round starts from an empty bookkeeping."""
    existing = sa.MetaData()
    existing.reflect(engine)
    existing.drop_all(engine)
    initialise(engine, root_password="bench")


def _record(engine: Engine, backend: str, reports: Iterator[JobReport] | list[JobReport]) -> None:
    results = record_reports(open_writer(engine, backend), reports)
    assert all(result.status is RecordStatus.RECORDED for result in results)


@pytest.mark.parametrize("backend", BACKENDS)
def test_writer_bulk_path_files_per_second(
    benchmark: pytest.FixtureRequest, engine: Engine, reports: list[JobReport], backend: str
) -> None:
    """Recording pre-built reports (parsing excluded) into an empty bookkeeping."""
    open_writer(engine, backend)
    benchmark.pedantic(  # type: ignore[attr-defined]
        _record,
        args=(engine, backend, reports),
        setup=lambda: _fresh_schema(engine),
        rounds=2,
        iterations=1,
    )
    mean = benchmark.stats.stats.mean  # type: ignore[attr-defined]
    benchmark.extra_info["files_per_second"] = round(FILES / mean)  # type: ignore[attr-defined]


@pytest.mark.parametrize("backend", BACKENDS)
def test_generator_files_per_second(
    benchmark: pytest.FixtureRequest, engine: Engine, backend: str
) -> None:
    """``bk generate``'s work: generating the reports and recording them."""
    open_writer(engine, backend)
    benchmark.pedantic(  # type: ignore[attr-defined]
        lambda: _record(engine, backend, generate_reports(FILES, seed=2)),
        setup=lambda: _fresh_schema(engine),
        rounds=2,
        iterations=1,
    )
    mean = benchmark.stats.stats.mean  # type: ignore[attr-defined]
    benchmark.extra_info["files_per_second"] = round(FILES / mean)  # type: ignore[attr-defined]


def test_generation_alone_files_per_second(benchmark: pytest.FixtureRequest) -> None:
    """The generator without a database: the floor of ``bk generate``."""
    benchmark.pedantic(  # type: ignore[attr-defined]
        lambda: sum(len(r.output_files) for r in generate_reports(FILES, seed=2)),
        rounds=2,
        iterations=1,
    )
    mean = benchmark.stats.stats.mean  # type: ignore[attr-defined]
    benchmark.extra_info["files_per_second"] = round(FILES / mean)  # type: ignore[attr-defined]


PARALLEL_FILES = int(os.environ.get("BK_BENCH_PARALLEL_FILES", "6000"))
PARALLEL_BATCHES = [int(b) for b in os.environ.get("BK_BENCH_PARALLEL_BATCHES", "1,100").split(",")]
WARM_UP_SHIFT = 90_000_000  # DIRAC ids and LFNs of the warm-up production: its own


def _warm_up_reports() -> list[JobReport]:
    def lfn(name: str) -> str:
        return name.replace("/lhcb/", "/lhcb/warm-up/", 1)

    return [
        dataclasses.replace(
            r,
            dirac_job_id=r.dirac_job_id + WARM_UP_SHIFT,
            input_files=tuple(lfn(x) for x in r.input_files),
            output_files=tuple(dataclasses.replace(f, lfn=lfn(f.lfn)) for f in r.output_files),
        )
        for r in generate_reports(1000, seed=3)
    ]


@pytest.fixture(scope="module")
def parallel_reports() -> list[JobReport]:
    return list(generate_reports(PARALLEL_FILES, seed=3))


@pytest.mark.skipif(not server_url("postgresql"), reason="needs BK_TEST_POSTGRES_URL")
@pytest.mark.parametrize("batch_size", PARALLEL_BATCHES)
@pytest.mark.parametrize("mode", ["threads", "processes"])
@pytest.mark.parametrize("writers", [1, 4, 16])
@pytest.mark.parametrize("backend", BACKENDS)
def test_parallel_writers_postgresql(
    benchmark: pytest.FixtureRequest,
    parallel_reports: list[JobReport],
    backend: str,
    writers: int,
    mode: str,
    batch_size: int,
) -> None:
    shares = split_by_chain(parallel_reports, writers)
    with scratch_database("postgresql", server_url("postgresql")) as database:
        engine = create_engine(database.url, pool_size=writers + 2)
        try:
            initialise(engine, root_password="bench")
            open_writer(engine, backend)
            warm = open_writer(engine, backend).record_batch(_warm_up_reports())
            assert all(result.ok for result in warm)

            def run() -> WriteOutcome:
                if mode == "threads":
                    return record_concurrently(engine, backend, shares, batch_size=batch_size)
                return record_in_processes(database.url, backend, shares, batch_size=batch_size)

            outcome: WriteOutcome = benchmark.pedantic(run, rounds=1, iterations=1)  # type: ignore[attr-defined]
        finally:
            engine.dispose()
    benchmark.extra_info.update(  # type: ignore[attr-defined]
        writers=writers,
        mode=mode,
        batch_size=batch_size,
        files=outcome.files,
        reports=outcome.reports,
        failed_reports=outcome.failed,
        files_per_second=round(outcome.files_per_second),
        reports_per_second=round(outcome.reports / outcome.seconds) if outcome.seconds else 0,
    )
    assert outcome.failed == 0, outcome.first_error
