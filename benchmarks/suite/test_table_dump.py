"""Dumping a files-shaped table of 10^3..10^6 rows through each access path (seed 001,
Figure 9). The report fits each path's slope in microseconds per row.

A path is measured at a size only if its estimated time there fits ``BK_BENCH_DUMP_BUDGET``
seconds (``bookkeeping.bench.dump.DumpBudget``); otherwise the test is skipped with a reason
starting ``LIMITED`` and the report's dump section (not "Not available") says at which
sizes that path was measured and why.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from bookkeeping.bench.data import BenchDatabase, analyse, build_dump_table
from bookkeeping.bench.dump import (
    DUMP_PATHS,
    DUMPERS,
    WARMUP_ROUNDS,
    DumpBudget,
    DumpPath,
    dump_rounds,
)
from bookkeeping.bench.settings import BenchSettings, from_environment

SETTINGS = from_environment()
# path -> rows -> median seconds of this run's dumps (conftest prints the slopes at the end)
DUMP_MEDIANS: dict[str, dict[int, float]] = {}


@pytest.fixture(scope="module")
def budget(settings: BenchSettings) -> DumpBudget:
    return DumpBudget(settings.dump_budget)


@pytest.fixture(scope="module")
def dump_tables(database: BenchDatabase, request: pytest.FixtureRequest) -> str | None:
    """Builds every size in both layouts; the reason the catalogue side is missing, if it is."""
    try:
        catalogue = request.getfixturevalue("catalogue")
    except pytest.skip.Exception as exc:
        catalogue, reason = None, str(exc)
    else:
        reason = None
    for rows in SETTINGS.dump_sizes:
        build_dump_table(database.engine, catalogue, rows)
    analyse(database.engine)
    return reason


def _target(path: DumpPath, database: BenchDatabase, request: pytest.FixtureRequest) -> Any:
    fixture = {"catalogue": "catalogue", "client": "client", "jdbc": "dump_jdbc"}
    if path.needs == "engine":
        return database.engine
    return request.getfixturevalue(fixture[path.needs])


# Ascending sizes within each path (the collection order of these parameters): the budget
# estimates a size from the one before.
@pytest.mark.parametrize("rows", sorted(SETTINGS.dump_sizes))
@pytest.mark.parametrize("path", DUMP_PATHS, ids=[p.name for p in DUMP_PATHS])
def test_table_dump(
    benchmark: Any,
    path: DumpPath,
    rows: int,
    database: BenchDatabase,
    dump_tables: str | None,
    budget: DumpBudget,
    request: pytest.FixtureRequest,
) -> None:
    if path.needs != "engine" and dump_tables is not None:
        pytest.skip(f"not available: {dump_tables}")
    if (refusal := budget.refusal(path.name, rows)) is not None:
        pytest.skip(refusal)
    target = _target(path, database, request)
    dump: Callable[[Any, int], int] = DUMPERS[path.name]
    read = benchmark.pedantic(
        dump,
        args=(target, rows),
        rounds=dump_rounds(rows),
        iterations=1,
        warmup_rounds=WARMUP_ROUNDS,
    )
    assert read == rows
    budget.record(path.name, rows, benchmark.stats.stats.mean)
    DUMP_MEDIANS.setdefault(path.name, {})[rows] = benchmark.stats.stats.median
    benchmark.extra_info.update(kind="dump", path=path.name, label=path.label, rows=rows)
