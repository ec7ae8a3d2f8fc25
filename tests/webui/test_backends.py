"""The same pages on every database back-end, and from both bookkeeping implementations."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from bookkeeping.backends import open_writers
from bookkeeping.bootstrap import initialise
from bookkeeping.engines import create_engine
from bookkeeping.generator import generate_reports
from bookkeeping.scratch import scratch_database
from tests.webui.conftest import (
    ALICE_PASSWORD,
    GENERATED_FILES,
    SEED,
    first_dataset,
    login,
    make_app,
    seed_catalogue,
)
from webui.svg import LAYOUTS


def _pages(app: Flask) -> dict[str, Any]:
    """A representative walk: every level down to the file types, a dataset (two pages,
    sorted), a file, a search, every chart and every download."""
    client = app.test_client()
    seen: dict[str, Any] = {}
    query = first_dataset(client, index=1)
    file_types = {key: value for key, value in query.items() if key != "filetype"}
    for name, url, args in [
        ("top", "/browse", {}),
        ("level", "/browse", {"configname": query["configname"]}),
        ("filetypes", "/browse", file_types),
        ("dataset", "/dataset", {**query, "per_page": 5, "sort": "size", "order": "desc"}),
        ("dataset-p2", "/dataset", {**query, "per_page": 5, "page": 2}),
        ("search", "/search", {"q": "RAW"}),
    ]:
        seen[name] = client.get("/api/v1" + url, query_string=args).get_json()
        seen[name + ".html"] = client.get(url, query_string=args).get_data(as_text=True)
    assert seen["filetypes"]["level"]["name"] == "filetype"
    file_id = seen["dataset"]["files"][0]["file_id"]
    seen["file"] = client.get(f"/api/v1/file/{file_id}").get_json()
    seen["file.html"] = client.get(f"/file/{file_id}").get_data(as_text=True)
    job_id = seen["file"]["file"]["job_id"]
    seen["job"] = client.get(f"/api/v1/job/{job_id}").get_json()
    seen["job.html"] = client.get(f"/job/{job_id}").get_data(as_text=True)
    for suffix in ("lfns.txt", "files.csv", "files.json", "files.py"):
        seen[suffix] = client.get(f"/dataset/{suffix}", query_string=query).get_data(as_text=True)
    for by, metric, layout in itertools.product(("filetype", "production"),
                                                ("events", "bytes", "files"), LAYOUTS):  # fmt: skip
        args = {**query, "by": by, "metric": metric, "layout": layout}
        seen[f"chart-{by}-{metric}-{layout}"] = client.get("/chart.svg", query_string=args).text
    return seen


def test_pages_answer_alike_on_every_database(server_app: Flask, app: Flask) -> None:
    """The same generated productions give the same pages on SQLite, PostgreSQL, MariaDB."""
    assert _pages(server_app) == _pages(app)


def test_catalogue_browser_on_every_database(server_app: Flask) -> None:
    seed_catalogue(server_app)
    client = server_app.test_client()
    data = client.get("/api/v1/catalogue/", query_string={"path": "/data"}).get_json()
    assert "secret" not in [entry["name"] for entry in data["entries"]]
    login(client, "alice", ALICE_PASSWORD)
    query = {"dir": "/data", "items": "FILE Size", "where": "Size >= 580 or Owner = 'root'"}
    rows = client.get("/api/v1/catalogue/query", query_string=query).get_json()["rows"]
    assert rows == [["file058", 580], ["file059", 590]]
    broken = client.get("/api/v1/catalogue/query", query_string={**query, "where": "Size >"})
    assert broken.status_code == 400 and broken.get_json()["details"]["position"] == 6


@pytest.fixture
def both_backends() -> Iterator[tuple[Flask, Flask]]:
    with scratch_database("sqlite", None) as database:
        engine = create_engine(database.url)
        initialise(engine, root_password="root-pw")  # the catalogue writes as root
        writers = open_writers(engine, "both")
        reports = list(generate_reports(GENERATED_FILES, seed=SEED))
        for writer in writers.values():
            writer.record_batch(reports)
        engine.dispose()
        apps = (make_app(database.url), make_app(database.url, BOOKKEEPING_BACKEND="catalogue"))
        yield apps
        for application in apps:
            application.extensions["bookkeeping"].engine.dispose()


def test_switching_the_backend_changes_nothing_visible(
    both_backends: tuple[Flask, Flask],
) -> None:
    warehouse, catalogue = both_backends
    seen = _pages(warehouse)
    assert _pages(catalogue) == seen
    # What was compared is the real thing: charts with bars, downloads with every file.
    lfns = seen["lfns.txt"].splitlines()
    assert len(lfns) == seen["dataset"]["totals"]["files"] > 5
    assert seen["files.csv"].count("\n") == len(lfns) + 1
    assert seen["chart-production-bytes-narrow"].count("<rect") == len(
        seen["dataset"]["productions"]
    )
    assert seen["dataset"]["site_summary"]["computed"] and seen["dataset"]["site_summary"]["sites"]
