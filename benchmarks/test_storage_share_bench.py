"""The dataset page's storage share and copy filters (issue 23 / issue 16's web part):
``storage_share`` and a page of files filtered by storage and site, on the largest dataset
of a generated bookkeeping, from the warehouse and from the catalogue (views).

Run: ``.venv/bin/pytest benchmarks/test_storage_share_bench.py --benchmark-only -n 0``
``BK_BENCH_FILES`` sets the generated files (default 10000). SQLite always; PostgreSQL when
``BK_TEST_POSTGRES_URL`` is set. The catalogue reads the copies of every file its other
filters select (docs/webui.md), so its figures grow with the dataset.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import pytest

from bookkeeping.generator import generate_reports
from bookkeeping.interface import DatasetPath, Level
from bookkeeping.scratch import server_url
from tests.catalogue_bookkeeping.conftest import fresh_pair

FILES = int(os.environ.get("BK_BENCH_FILES", "10000"))
DATABASES = ["sqlite"] + (["postgresql"] if server_url("postgresql") else [])
LEVELS = (
    (Level.CONFIG_NAME, "config_name"),
    (Level.CONFIG_VERSION, "config_version"),
    (Level.CONDITIONS, "conditions"),
    (Level.PROCESSING_PASS, "processing_pass"),
    (Level.EVENT_TYPE, "event_type"),
    (Level.FILE_TYPE, "file_type"),
)


@pytest.fixture(scope="module", params=DATABASES)
def pair(request: pytest.FixtureRequest) -> Iterator[Any]:
    reports = list(generate_reports(FILES, 3))
    with fresh_pair(request.param) as made:
        made.warehouse_writer.record_batch(reports)
        made.catalogue_writer.record_batch(reports)
        yield made


@pytest.fixture(scope="module")
def dataset(pair: Any) -> DatasetPath:
    """The largest dataset: at each level, the value with the most files."""
    path = DatasetPath()
    for level, field in LEVELS:
        best = max(pair.warehouse.level_values(level, path), key=lambda value: value.files)
        path = replace(path, **{field: best.value})
    return path


CALLS: dict[str, Callable[[Any, DatasetPath], object]] = {
    "share": lambda reader, path: reader.storage_share(path),
    "tape-only-page": lambda reader, path: reader.files(replace(path, storage="tape"), limit=50),
    "cern-disk-page": lambda reader, path: reader.files(
        replace(path, site="CERN", storage="disk"), limit=50
    ),
    "unfiltered-page": lambda reader, path: reader.files(path, limit=50),
}


@pytest.mark.parametrize("implementation", ["warehouse", "catalogue"])
@pytest.mark.parametrize("call", sorted(CALLS))
def test_storage_share_and_copy_filters(  # type: ignore[no-untyped-def]
    benchmark, pair: Any, dataset: DatasetPath, implementation: str, call: str
) -> None:
    reader = pair.warehouse if implementation == "warehouse" else pair.catalogue
    benchmark.extra_info["dataset_files"] = pair.warehouse.files(dataset, limit=0).total_files
    benchmark.extra_info["files"] = FILES
    benchmark(CALLS[call], reader, dataset)
