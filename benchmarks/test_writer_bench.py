"""Throughput of the production writer's bulk path and of the data generator (files/s).

Run: ``.venv/bin/pytest benchmarks/test_writer_bench.py --benchmark-only``
``BK_BENCH_FILES`` sets the number of files per round (default 20000; 100000 for the
"10^5 files under a minute" target). SQLite always; PostgreSQL when
``BK_TEST_POSTGRES_URL`` is set. Each implementation of the bookkeeping is measured; one
that is not available in this build is skipped. ``extra_info["files_per_second"]`` holds
the figure.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bookkeeping.backends import BACKENDS, open_writer
from bookkeeping.bootstrap import initialise
from bookkeeping.engines import create_engine
from bookkeeping.generator import generate_reports
from bookkeeping.scratch import scratch_database, server_url
from bookkeeping.writer.errors import BackendNotAvailable
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


def _writer(engine: Engine, backend: str):  # noqa: ANN202
    try:
        return open_writer(engine, backend)
    except BackendNotAvailable as exc:
        pytest.skip(str(exc))


def _record(engine: Engine, backend: str, reports: Iterator[JobReport] | list[JobReport]) -> None:
    results = record_reports(_writer(engine, backend), reports)
    assert all(result.status is RecordStatus.RECORDED for result in results)


@pytest.mark.parametrize("backend", BACKENDS)
def test_writer_bulk_path_files_per_second(
    benchmark: pytest.FixtureRequest, engine: Engine, reports: list[JobReport], backend: str
) -> None:
    """Recording pre-built reports (parsing excluded) into an empty bookkeeping."""
    _writer(engine, backend)
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
    _writer(engine, backend)
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
