"""The physicist's walk of issue 23 in Chromium, on a live server: search an event type by a
word of its decay → open its dataset → filter by run range and DQ flag → the totals agree
with the file list → download the list (its name encodes the filters) → open a file → its
job → an ancestor → back to the dataset.

The data: the generated productions (real-data chains RAW → SDST → DST, so a DST has
ancestors; runs and DQ flags vary within a dataset), with the express stream's decay
written as a text whose words are not in its description, so the search can only find it
through the decay."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import expect

from bookkeeping.engines import create_engine
from bookkeeping.generator import generate_reports
from bookkeeping.schema import metadata
from bookkeeping.scratch import scratch_database
from bookkeeping.warehouse.store import WarehouseWriter
from bookkeeping.writer.model import JobReport, RecordStatus
from tests.webui.browsing import DESKTOP, browser_page, live_server
from tests.webui.conftest import SEED, make_app

pytestmark = pytest.mark.browser

EXPRESS = 91000000
DECAY = "prompt dimuon and D0 -> K- pi+ candidates for calibration"
WORD = "dimuon"
PASS = "Real Data/Reco14/Stripping20"


def _with_decay(report: JobReport) -> JobReport:
    specs = tuple(
        dataclasses.replace(spec, decay=DECAY) if spec.event_type == EXPRESS else spec
        for spec in report.event_types
    )
    return dataclasses.replace(report, event_types=specs)


@pytest.fixture(scope="module")
def walk_app() -> Iterator[Flask]:
    with scratch_database("sqlite", None) as database:
        engine = create_engine(database.url)
        try:
            metadata.create_all(engine)
            reports = [_with_decay(r) for r in generate_reports(300, seed=SEED)]
            results = WarehouseWriter(engine).record_batch(reports)
            assert {result.status for result in results} == {RecordStatus.RECORDED}
        finally:
            engine.dispose()
        application = make_app(database.url)
        try:
            yield application
        finally:
            application.extensions["bookkeeping"].engine.dispose()


@pytest.fixture
def page(browser: Any, walk_app: Flask) -> Iterator[Any]:
    with live_server(walk_app) as url, browser_page(browser, url, DESKTOP) as tab:
        yield tab


def _whole_dataset(app: Flask, query: dict[str, str]) -> list[dict[str, Any]]:
    data = app.test_client().get("/api/v1/dataset", query_string={**query, "per_page": 1000})
    files: list[dict[str, Any]] = data.get_json()["files"]
    assert len(files) == data.get_json()["totals"]["files"]  # one page holds them all
    return files


def _number(text: str) -> int:
    return int(re.sub(r"\D", "", text))


def test_search_by_decay_to_a_filtered_dataset_its_files_job_and_ancestor(
    page: Any, walk_app: Flask, tmp_path: Path
) -> None:
    # 1. Search an event type by a word of its decay (not of its description).
    page.goto("/search")
    page.get_by_label(re.compile(r"^Event type \(number")).fill(WORD)
    page.locator("form.wide-search").get_by_role("button", name="Search").click()
    found = page.locator("#event_types ul.found > li").filter(has_text=str(EXPRESS))
    expect(found).to_have_count(1)
    description = walk_app.test_client().get("/api/v1/search", query_string={"q": WORD})
    hits = next(g for g in description.get_json()["groups"] if g["kind"] == "event_types")
    assert [h["value"] for h in hits["results"]] == [EXPRESS]
    assert WORD not in hits["results"][0]["description"].lower()

    # 2. Open its dataset: the stripping pass, then the DST file type.
    found.locator("ul.places a").filter(has_text=PASS).click()
    expect(page.locator("h1")).to_have_text("File type")
    page.locator("table.levels tbody tr").filter(has_text="DST").filter(
        has_not_text="MDST"
    ).get_by_role("link").first.click()
    expect(page.locator("h1")).to_have_text(re.compile(r"^Dataset"))
    dataset_url = page.url
    query = dict(re.findall(r"[?&]([^=&]+)=([^&]*)", dataset_url))
    query = {k: v.replace("+", " ").replace("%2F", "/") for k, v in query.items()}
    everything = _whole_dataset(walk_app, query)
    files_before = _number(page.locator(".totals dd").first.inner_text())
    assert files_before == len(everything)

    # 3. Filter by run range and DQ flag: a range that leaves out the first run, flag OK.
    runs = sorted({f["run"] for f in everything})
    low, high = runs[1], runs[-1]
    expected = [f for f in everything if low <= f["run"] <= high and f["quality"] == "OK"]
    assert 0 < len(expected) < len(everything)  # the filter matters here
    run = page.get_by_role("group", name="Run")
    run.get_by_label("from").fill(str(low))
    run.get_by_label("to").fill(str(high))
    page.get_by_label("Flag", exact=True).select_option("OK")
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_url(re.compile(r"quality=OK"))
    assert f"run_min={low}" in page.url and f"run_max={high}" in page.url

    # 4. The totals agree with the file list, and with what the filter should leave.
    totals = page.locator(".totals dd")
    assert _number(totals.first.inner_text()) == len(expected)
    rows = page.get_by_role("region", name="Files table").locator("tbody tr")
    expect(rows).to_have_count(len(expected))
    listed = rows.locator("td.lfn").all_inner_texts()
    assert sorted(t.replace("\u200b", "") for t in listed) == sorted(f["lfn"] for f in expected)
    for row_run, flag in zip(
        rows.locator("td:nth-child(5)").all_inner_texts(),
        rows.locator("td:nth-child(6)").all_inner_texts(),
        strict=True,
    ):
        assert low <= int(row_run) <= high and flag == "OK"
    events = sum(f["events"] for f in expected)
    assert _number(totals.nth(1).inner_text()) == events  # the second figure: events

    # 5. Download the list: its name encodes the path and the filters.
    with page.expect_download() as download_info:
        page.get_by_role("link", name="LFNs (txt)").click()
    download = download_info.value
    name = download.suggested_filename
    assert f"run{low}-{high}" in name and "DQ-OK" in name and str(EXPRESS) in name, name
    target = tmp_path / name
    download.save_as(target)
    assert sorted(target.read_text().splitlines()) == sorted(f["lfn"] for f in expected)

    # 6. Open a file: it is one the filter kept.
    first = rows.first.locator("td.lfn a")
    lfn = first.inner_text().replace("\u200b", "")
    first.click()
    expect(page.locator("h1")).to_have_text(lfn)
    record = next(f for f in expected if f["lfn"] == lfn)
    meta = page.locator("dl.meta")
    expect(meta).to_contain_text(str(record["run"]))

    # 7. Jump to its job, which lists this file among its outputs; back to the file.
    page.locator("dl.meta").get_by_role("link", name=str(record["job_id"]), exact=True).click()
    expect(page.locator("h1")).to_have_text(f"Job {record['job_id']}")
    page.get_by_role("link", name=lfn).click()
    expect(page.locator("h1")).to_have_text(lfn)

    # 8. To an ancestor (the SDST it was stripped from), whose descendants include it.
    ancestors = page.get_by_role("region", name="Ancestors").get_by_role("link")
    assert ancestors.count() >= 1
    ancestor_lfn = ancestors.first.inner_text()
    ancestors.first.click()
    expect(page.locator("h1")).to_have_text(ancestor_lfn)
    descendants = page.get_by_role("region", name="Descendants")
    expect(descendants.get_by_role("link", name=lfn)).to_have_count(1)

    # 9. Back to the dataset, through the descendant's own dataset link.
    descendants.get_by_role("link", name=lfn).click()
    page.locator("dl.meta a").filter(has_text=re.compile(r"Stripping20.*DST$")).click()
    expect(page.locator("h1")).to_have_text(re.compile(r"^Dataset"))
    assert _number(page.locator(".totals dd").first.inner_text()) == files_before
    assert "quality" not in page.url  # the dataset itself, unfiltered
