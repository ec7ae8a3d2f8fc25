"""Dataset selection (a page of a dataset's files, with its totals) at growing database
sizes: the warehouse's join against the catalogue's roottree + shards, and against the
catalogue's plain directories. Each size is a bookkeeping of its own, both implementations
holding the same generated productions.

In full mode on SQLite and PostgreSQL the bookkeepings are the kept databases of
``benchmarks/views_data.py`` (10^3..10^6 files, written once through both writers, the
catalogue writer keeping the views in real time): populating 10^6 files takes tens of
minutes, far longer than the measurement. Otherwise (quick mode, MariaDB,
``BK_BENCH_SELECTION_CACHE=0``) each size is a scratch database populated in the run.
"""

from __future__ import annotations

import dataclasses
import itertools
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bookkeeping.amga_adapter.bookkeeping import CatalogueBookkeeping
from bookkeeping.bench.callmix import sample_pools
from bookkeeping.bench.data import bench_database, populate
from bookkeeping.bench.settings import BenchSettings, from_environment
from bookkeeping.engines import create_engine
from bookkeeping.interface import Bookkeeping, DatasetPath
from bookkeeping.warehouse.reader import WarehouseBookkeeping

SETTINGS = from_environment()
# A path whose first selection takes longer than this is not measured at that size (five
# rounds would take minutes): the plain directories read every file of the dataset.
CALL_BUDGET = 20.0
PATHS = {
    "warehouse": "warehouse join",
    "views": "catalogue roottree + shards",
    "directories": "catalogue directories (no views)",
}


@dataclasses.dataclass(frozen=True)
class Populated:
    engine: Engine
    files: int
    how: str  # how the bookkeeping was populated, for the report
    ready_s: float  # seconds to get it ready in this run (population or cache refresh)
    catalogue_missing: str | None = None


@contextmanager
def _cached(settings: BenchSettings, files: int) -> Iterator[Populated]:
    from benchmarks import views_data

    started = time.monotonic()
    with views_data.populated_database(settings.backend, files) as url:
        engine = create_engine(url)
        try:
            name = sa.engine.make_url(url).database or url
            how = (
                f"kept database `{name.rsplit('/', 1)[-1]}` (benchmarks/views_data.py: "
                f"generator seed {views_data.SEED}, written through both writers)"
            )
            yield Populated(engine, files, how, time.monotonic() - started)
        finally:
            engine.dispose()


@contextmanager
def _scratch(settings: BenchSettings, files: int) -> Iterator[Populated]:
    if settings.database_url:
        pytest.skip("not available: growing databases need scratch databases; run without --db")
    started = time.monotonic()
    with bench_database(dataclasses.replace(settings, database_url=None)) as database:
        missing = populate(database.engine, files, settings.seed)
        if "warehouse" in missing:
            pytest.fail(f"the warehouse could not be populated: {missing['warehouse']}")
        how = f"scratch database populated in this run (generator seed {settings.seed})"
        yield Populated(
            database.engine, files, how, time.monotonic() - started, missing.get("catalogue")
        )


@pytest.fixture(scope="module", params=SETTINGS.selection_sizes, ids=str)
def populated(request: pytest.FixtureRequest, settings: BenchSettings) -> Iterator[Populated]:
    """One size at a time (pytest groups the tests by this parameter)."""
    source = _cached if settings.selection_cached else _scratch
    with source(settings, request.param) as bookkeeping:
        yield bookkeeping


@pytest.fixture(scope="module")
def datasets(populated: Populated, settings: BenchSettings) -> list[DatasetPath]:
    """The full bookkeeping paths of 50 sampled files (the same for every path)."""
    return _datasets(populated.engine, settings.seed)


def _open(path: str, engine: Engine) -> Bookkeeping:
    if path == "warehouse":
        return WarehouseBookkeeping(engine)
    return CatalogueBookkeeping(engine, views=path == "views")


def _datasets(engine: Engine, seed: int) -> list[DatasetPath]:
    pools = sample_pools(engine, seed, size=50)
    paths = []
    for record in pools.files:
        job = pools.jobs[record.job_id]
        paths.append(
            DatasetPath(
                job.config_name,
                job.config_version,
                job.conditions,
                job.processing_pass,
                record.event_type,
                record.file_type,
            )
        )
    return paths


def _statements(engine: Engine, call: Callable[[], Any]) -> int:
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


@pytest.mark.parametrize("path", list(PATHS))
def test_dataset_selection(
    benchmark: Any, path: str, populated: Populated, datasets: list[DatasetPath]
) -> None:
    if path != "warehouse" and populated.catalogue_missing:
        pytest.skip(f"not available: the catalogue holds no data ({populated.catalogue_missing})")
    bookkeeping = _open(path, populated.engine)
    started = time.perf_counter()
    first = bookkeeping.files(datasets[0], limit=50)  # warm-up: caches, buffers
    took = time.perf_counter() - started
    assert first.total_files > 0
    if took > CALL_BUDGET:
        pytest.skip(
            f"not measured at {populated.files:,} files: one selection took {took:.0f} s "
            f"through the {PATHS[path]} (budget {CALL_BUDGET:.0f} s a call)"
        )
    statements = _statements(populated.engine, lambda: bookkeeping.files(datasets[0], limit=50))
    cycle = itertools.cycle(datasets)
    benchmark(lambda: bookkeeping.files(next(cycle), limit=50))
    benchmark.extra_info.update(
        kind="selection",
        path=PATHS[path],
        files=populated.files,
        populated=populated.how,
        ready_s=round(populated.ready_s, 1),
        statements=statements,
        dataset_files=first.total_files,
    )
