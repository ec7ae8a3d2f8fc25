"""Dataset selection (a page of a dataset's files, with its totals) at growing database
sizes: the warehouse's join against the catalogue's roottree + shards, and against the
catalogue's plain directories. Each size is a bookkeeping of its own, both implementations
holding the same generated productions."""

from __future__ import annotations

import dataclasses
import inspect
import itertools
from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from bookkeeping.bench.callmix import sample_pools
from bookkeeping.bench.data import bench_database, populate
from bookkeeping.bench.settings import BenchSettings, from_environment
from bookkeeping.interface import Bookkeeping, DatasetPath
from bookkeeping.warehouse.reader import WarehouseBookkeeping

SETTINGS = from_environment()
PATHS = {
    "warehouse": "warehouse join",
    "views": "catalogue roottree + shards",
    "directories": "catalogue directories (no views)",
}


@pytest.fixture(scope="module")
def bookkeepings(settings: BenchSettings) -> Iterator[dict[int, tuple[Engine, str | None]]]:
    """Per size: a populated engine, and why the catalogue is missing (or None)."""
    if settings.database_url:
        pytest.skip("not available: growing databases need scratch databases; run without --db")
    fresh = dataclasses.replace(settings, database_url=None)
    with ExitStack() as stack:
        built = {}
        for files in settings.selection_sizes:
            database = stack.enter_context(bench_database(fresh))
            missing = populate(database.engine, files, settings.seed)
            if "warehouse" in missing:
                pytest.fail(f"the warehouse could not be populated: {missing['warehouse']}")
            built[files] = (database.engine, missing.get("catalogue"))
        yield built


def _open(path: str, engine: Engine) -> Bookkeeping:
    if path == "warehouse":
        return WarehouseBookkeeping(engine)
    try:
        from bookkeeping.amga_adapter.bookkeeping import CatalogueBookkeeping
    except ImportError as exc:
        pytest.skip(f"not available: the catalogue bookkeeping is not in this build ({exc})")
    if "views" not in inspect.signature(CatalogueBookkeeping).parameters:
        if path == "views":
            pytest.skip("not available: the catalogue bookkeeping has no roottree/shard views")
        return CatalogueBookkeeping(engine)  # type: ignore[no-any-return]
    return CatalogueBookkeeping(engine, views=path == "views")  # type: ignore[no-any-return]


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


@pytest.mark.parametrize("files", SETTINGS.selection_sizes)
@pytest.mark.parametrize("path", list(PATHS))
def test_dataset_selection(
    benchmark: Any,
    path: str,
    files: int,
    bookkeepings: dict[int, tuple[Engine, str | None]],
    settings: BenchSettings,
) -> None:
    engine, catalogue_missing = bookkeepings[files]
    if path != "warehouse" and catalogue_missing:
        pytest.skip(f"not available: the catalogue holds no data ({catalogue_missing})")
    bookkeeping = _open(path, engine)
    datasets = itertools.cycle(_datasets(engine, settings.seed))
    first = bookkeeping.files(next(datasets), limit=50)
    assert first.total_files > 0
    benchmark(lambda: bookkeeping.files(next(datasets), limit=50))
    benchmark.extra_info.update(kind="selection", path=PATHS[path], files=files)
