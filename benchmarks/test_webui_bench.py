"""Response times of the web UI's main pages on a generated bookkeeping (Flask test client,
so the figures are the application's own time, without network).

Run: ``.venv/bin/pytest benchmarks/test_webui_bench.py --benchmark-only``
``BK_BENCH_FILES`` sets the number of generated files (default 20000). SQLite always;
PostgreSQL when ``BK_TEST_POSTGRES_URL`` is set. The warehouse serves the pages.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient

from bookkeeping.engines import create_engine
from bookkeeping.generator import generate_reports
from bookkeeping.schema import metadata
from bookkeeping.scratch import scratch_database, server_url
from bookkeeping.warehouse.store import WarehouseWriter
from bookkeeping.writer.service import record_reports
from webui import create_app

FILES = int(os.environ.get("BK_BENCH_FILES", "20000"))
DATABASES = ["sqlite"] + (["postgresql"] if server_url("postgresql") else [])


@pytest.fixture(scope="module", params=DATABASES)
def client(request: pytest.FixtureRequest) -> Iterator[FlaskClient]:
    with scratch_database(request.param, server_url(request.param)) as database:
        engine = create_engine(database.url)
        metadata.create_all(engine)
        for _result in record_reports(WarehouseWriter(engine), generate_reports(FILES, seed=3)):
            pass
        engine.dispose()
        app = create_app({"DATABASE_URL": database.url, "SECRET_KEY": "bench"})
        yield app.test_client()
        app.extensions["bookkeeping"].engine.dispose()


@pytest.fixture(scope="module")
def largest(client: FlaskClient) -> dict[str, Any]:
    best: tuple[int, dict[str, Any]] = (0, {})

    def walk(query: dict[str, Any], depth: int) -> None:
        nonlocal best
        for item in client.get("/api/v1/browse", query_string=query).get_json()["values"]:
            if depth == 5:
                best = max(best, (item["files"], item["query"]), key=lambda pair: pair[0])
            else:
                walk(item["query"], depth + 1)

    walk({}, 0)
    return best[1]


def _get(client: FlaskClient, url: str, query: dict[str, Any] | None = None) -> int:
    response = client.get(url, query_string=query or {})
    assert response.status_code == 200
    return len(response.get_data())


def test_top_level_page(benchmark, client: FlaskClient) -> None:  # type: ignore[no-untyped-def]
    benchmark(_get, client, "/browse")


def test_dataset_page(benchmark, client: FlaskClient, largest: dict) -> None:  # type: ignore[no-untyped-def]
    benchmark.extra_info["dataset_files"] = client.get(
        "/api/v1/dataset", query_string=largest
    ).get_json()["totals"]["files"]
    benchmark(_get, client, "/dataset", {**largest, "page": 3, "sort": "size"})


def test_file_page(benchmark, client: FlaskClient, largest: dict) -> None:  # type: ignore[no-untyped-def]
    file_id = client.get("/api/v1/dataset", query_string=largest).get_json()["files"][0]["file_id"]
    benchmark(_get, client, f"/file/{file_id}")


def test_lfn_download_of_the_largest_dataset(benchmark, client: FlaskClient, largest: dict) -> None:  # type: ignore[no-untyped-def]
    size = benchmark(_get, client, "/dataset/lfns.txt", largest)
    benchmark.extra_info["bytes"] = size
