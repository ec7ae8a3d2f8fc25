"""The catalogue writer against the warehouse writer (issue 19: catalogue ÷ warehouse files/s
≥ 0.8): the same generated reports recorded one report at a time (the real-time path) into
an empty bookkeeping, by 1 and 4 writer threads (``bench.writes.record_concurrently``), on
SQLite and, with ``BK_TEST_POSTGRES_URL``, PostgreSQL. Every round starts from a new
database, so the catalogue's first-use layout is part of what is measured, as it is for an
operator's first ``bk generate``.

Run: ``.venv/bin/pytest benchmarks/test_writer_ratio_bench.py --benchmark-only -n 0 -s``
(about a minute with both back-ends). ``BK_BENCH_RATIO_FILES`` sets the number of files
(default 300), ``BK_BENCH_RATIO_ROUNDS`` the rounds (default 2). ``extra_info`` holds
files/s and statements per report (counted on the engine: every cursor execution, COPY
included); the module prints a table of the ratios at the end.

``python -m benchmarks.test_writer_ratio_bench [sqlite|postgresql] [writers] [impl]``
records once and prints the figures, for profiling without pytest.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bookkeeping.bench.writes import WriteOutcome, record_concurrently, split_by_chain
from bookkeeping.bootstrap import initialise
from bookkeeping.engines import create_engine
from bookkeeping.generator import generate_reports
from bookkeeping.scratch import scratch_database, server_url
from bookkeeping.writer.model import JobReport

FILES = int(os.environ.get("BK_BENCH_RATIO_FILES", "300"))
ROUNDS = int(os.environ.get("BK_BENCH_RATIO_ROUNDS", "2"))
DATABASES = ["sqlite"] + (["postgresql"] if server_url("postgresql") else [])
WRITERS = [1, 4]
IMPLEMENTATIONS = ["warehouse", "catalogue"]


@dataclass
class Figures:
    files_per_second: float
    statements_per_report: float


_RESULTS: dict[tuple[str, int, str], Figures] = {}


@contextmanager
def empty_bookkeeping(database: str, writers: int) -> Iterator[Engine]:
    with scratch_database(database, server_url(database)) as scratch:
        engine = create_engine(scratch.url, pool_size=writers + 2)
        try:
            initialise(engine, root_password="bench")
            yield engine
        finally:
            engine.dispose()


class StatementCounter:
    """Cursor executions on an engine (statements and COPYs, each one round trip or more)."""

    def __init__(self, engine: Engine) -> None:
        self.count = 0
        sa.event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, *_: Any) -> None:
        self.count += 1  # one writer thread at a time holds the GIL: += is enough here


def record_once(
    engine: Engine, implementation: str, shares: list[list[JobReport]]
) -> tuple[WriteOutcome, int]:
    counter = StatementCounter(engine)
    outcome = record_concurrently(engine, implementation, shares)
    return outcome, counter.count


@pytest.fixture(scope="module")
def reports() -> list[JobReport]:
    return list(generate_reports(FILES, seed=1))


@pytest.fixture(scope="module", autouse=True)
def ratio_table() -> Iterator[None]:
    yield
    if not _RESULTS:
        return
    print("\nwriter files/s, catalogue / warehouse (statements per report):")
    for (database, writers, implementation), figures in sorted(_RESULTS.items()):
        if implementation != "catalogue" or (database, writers, "warehouse") not in _RESULTS:
            continue
        warehouse = _RESULTS[(database, writers, "warehouse")]
        ratio = figures.files_per_second / warehouse.files_per_second
        print(
            f"  {database:10} {writers} writer(s): {figures.files_per_second:6.1f} / "
            f"{warehouse.files_per_second:6.1f} = {ratio:.2f}"
            f"  ({figures.statements_per_report:.1f} / {warehouse.statements_per_report:.1f})"
        )


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
@pytest.mark.parametrize("writers", WRITERS)
@pytest.mark.parametrize("database", DATABASES)
def test_writer_files_per_second(
    benchmark: Any, reports: list[JobReport], database: str, writers: int, implementation: str
) -> None:
    shares = split_by_chain(reports, writers)
    statements: list[int] = []
    with ExitStack() as stack:

        def setup() -> tuple[tuple[Any, ...], dict[str, Any]]:
            stack.close()
            engine = stack.enter_context(empty_bookkeeping(database, writers))
            return (engine, implementation, shares), {}

        def run(engine: Engine, implementation: str, shares: list[list[JobReport]]) -> WriteOutcome:
            outcome, count = record_once(engine, implementation, shares)
            statements.append(count)
            return outcome

        outcome: WriteOutcome = benchmark.pedantic(run, setup=setup, rounds=ROUNDS, iterations=1)
    assert outcome.failed == 0, outcome.first_error
    seconds = statistics.median(benchmark.stats.stats.data)
    figures = Figures(outcome.files / seconds, statistics.median(statements) / outcome.reports)
    _RESULTS[(database, writers, implementation)] = figures
    benchmark.extra_info.update(
        database=database,
        writers=writers,
        implementation=implementation,
        files=outcome.files,
        reports=outcome.reports,
        files_per_s=round(figures.files_per_second, 1),
        statements_per_report=round(figures.statements_per_report, 1),
    )


def main(argv: list[str]) -> None:
    database = argv[0] if argv else "sqlite"
    writers = int(argv[1]) if len(argv) > 1 else 1
    chosen = argv[2:] or IMPLEMENTATIONS
    shares = split_by_chain(list(generate_reports(FILES, seed=1)), writers)
    for implementation in chosen:
        with empty_bookkeeping(database, writers) as engine:
            cpu = time.process_time()
            outcome, count = record_once(engine, implementation, shares)
            cpu = time.process_time() - cpu
        print(
            f"{database} {writers} {implementation}: {outcome.files_per_second:.1f} files/s, "
            f"{count / outcome.reports:.1f} statements/report, "
            f"{cpu / outcome.files * 1000:.1f} ms CPU/file here, {outcome.failed} failed"
        )


if __name__ == "__main__":
    main(sys.argv[1:])
