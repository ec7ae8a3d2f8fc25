"""The production writer, report by report (the real-time path), into an empty bookkeeping
each round, so the catalogue's first-use attribute creation is part of what is measured;
1, 4 and 16 concurrent writers, each recording its own chains of productions."""

from __future__ import annotations

import dataclasses
from contextlib import ExitStack
from typing import Any

import pytest

from bookkeeping.bench.data import bench_database
from bookkeeping.bench.settings import BenchSettings, from_environment
from bookkeeping.bench.writes import WriteOutcome, record_concurrently, split_by_chain
from bookkeeping.generator import generate_reports
from bookkeeping.writer.model import JobReport

SETTINGS = from_environment()


@pytest.fixture(scope="module")
def reports(settings: BenchSettings) -> list[JobReport]:
    return list(generate_reports(settings.write_files, settings.seed + 1))


@pytest.mark.parametrize("writers", SETTINGS.writer_counts)
@pytest.mark.parametrize("implementation", ["warehouse", "catalogue"])
def test_production_writer(
    benchmark: Any,
    implementation: str,
    writers: int,
    reports: list[JobReport],
    settings: BenchSettings,
    unavailable: dict[str, str],
) -> None:
    if implementation in unavailable:
        pytest.skip(f"not available: {unavailable[implementation]}")
    if settings.database_url:
        pytest.skip("not available: writes need an empty database per round; run without --db")
    shares = split_by_chain(reports, writers)
    fresh = dataclasses.replace(settings, database_url=None)
    with ExitStack() as stack:

        def setup() -> tuple[tuple[Any, ...], dict[str, Any]]:
            database = stack.enter_context(bench_database(fresh))
            return (database.engine, implementation, shares), {}

        outcome: WriteOutcome = benchmark.pedantic(
            record_concurrently, setup=setup, rounds=1 if settings.quick else 2, iterations=1
        )
    assert outcome.failed == 0, outcome.first_error
    seconds = benchmark.stats.stats.mean
    benchmark.extra_info.update(
        kind="writes",
        implementation=implementation,
        writers=writers,
        reports=outcome.reports,
        files=outcome.files,
        reports_per_s=outcome.reports / seconds,
        files_per_s=outcome.files / seconds,
    )
