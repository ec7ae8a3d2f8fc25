"""Dumping a files-shaped table of 10^3..10^6 rows through each access path (seed 001,
Figure 9). The report fits each path's slope in microseconds per row."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from bookkeeping.bench.data import BenchDatabase, build_dump_table
from bookkeeping.bench.dump import DUMP_PATHS, DUMPERS, DumpPath
from bookkeeping.bench.settings import from_environment

SETTINGS = from_environment()


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
    return reason


def _target(path: DumpPath, database: BenchDatabase, request: pytest.FixtureRequest) -> Any:
    fixture = {"catalogue": "catalogue", "client": "client", "jdbc": "dump_jdbc"}
    if path.needs == "engine":
        return database.engine
    return request.getfixturevalue(fixture[path.needs])


@pytest.mark.parametrize("rows", SETTINGS.dump_sizes)
@pytest.mark.parametrize("path", DUMP_PATHS, ids=[p.name for p in DUMP_PATHS])
def test_table_dump(
    benchmark: Any,
    path: DumpPath,
    rows: int,
    database: BenchDatabase,
    dump_tables: str | None,
    request: pytest.FixtureRequest,
) -> None:
    if path.needs != "engine" and dump_tables is not None:
        pytest.skip(f"not available: {dump_tables}")
    target = _target(path, database, request)
    dump: Callable[[Any, int], int] = DUMPERS[path.name]
    rounds = max(1, min(5, 200_000 // rows))
    read = benchmark.pedantic(
        dump, args=(target, rows), rounds=rounds, iterations=1, warmup_rounds=1
    )
    assert read == rows
    benchmark.extra_info.update(kind="dump", path=path.name, label=path.label, rows=rows)
