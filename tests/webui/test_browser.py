"""Playwright drives the system Chromium through the physicists' flows on a live server.

Chromium is the Debian package (``apt-get install chromium``; .ci/run installs it), never a
``playwright install`` download. Screenshots of the main pages go to
``test-artifacts/screenshots/``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import expect

from tests.webui.browsing import DESKTOP, browser_page, live_server
from tests.webui.conftest import ALICE_PASSWORD

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


@pytest.fixture(scope="module")
def live_url(catalogue_app: Flask) -> Iterator[str]:
    with live_server(catalogue_app) as url:
        yield url


@pytest.fixture
def page(browser, live_url: str) -> Iterator[object]:  # type: ignore[no-untyped-def]
    with browser_page(browser, live_url, DESKTOP) as tab:
        yield tab


PHONE = {"width": 390, "height": 844}


LOADED = "() => [...document.images].every(i => i.complete && i.naturalWidth > 0)"


def _shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    """``name.png`` at desktop width and ``name-phone.png`` at phone width, where the page
    must not be wider than the screen (wide tables scroll inside their box)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.wait_for_function(LOADED)  # a broken image fails here (timeout)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
    page.set_viewport_size(PHONE)
    page.wait_for_function(LOADED)  # <picture> fetches the narrow charts
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{name}: {width} px wide on a {PHONE['width']} px phone"
    page.screenshot(path=str(SCREENSHOTS / f"{name}-phone.png"), full_page=True)
    page.set_viewport_size(DESKTOP)


_FIRST_CHART_SOURCE = "document.querySelector('.charts img').currentSrc"


def _chosen_source(page) -> str:  # type: ignore[no-untyped-def]
    """The source the browser picked for the first chart; it picks it asynchronously (after
    a load or a resize ``currentSrc`` can still be empty), so wait until it has."""
    page.wait_for_function(f"() => ({_FIRST_CHART_SOURCE}) !== ''")
    return str(page.evaluate(f"() => {_FIRST_CHART_SOURCE}"))


def test_browse_to_a_dataset_page_through_download_and_open_a_file(page, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    page.goto("/")
    _shot(page, "01-configurations")
    # Walk the path: the first value of each level, down to the MC simulation's datasets.
    page.get_by_role("link", name="MC", exact=True).click()
    for _level in range(4):
        page.locator("table.levels tbody tr").last.locator("a").click()
    expect(page.locator("h1")).to_have_text("File type")
    charts = page.locator(".charts img")
    expect(charts).to_have_count(2)
    assert "narrow" not in _chosen_source(page)
    _shot(page, "09-file-types")
    page.set_viewport_size(PHONE)
    page.wait_for_function(f"() => ({_FIRST_CHART_SOURCE}).includes('layout=narrow')")
    assert "layout=narrow" in _chosen_source(page)  # readable on a phone
    page.set_viewport_size(DESKTOP)
    page.locator("table.levels tbody tr").last.locator("a").click()
    expect(page.locator("h1")).to_have_text(re.compile(r"^Dataset"))
    expect(page.get_by_role("heading", name="At each site")).to_be_visible()
    _shot(page, "02-dataset")
    page.get_by_label("Per page").fill("5")
    page.get_by_role("button", name="Show").click()
    pager = page.locator("nav.pager .position")
    assert pager.inner_text().startswith("Page 1 of ")
    total_pages = int(pager.inner_text().rsplit(" ", 1)[1])
    assert total_pages > 1
    page.get_by_role("link", name="Next →").click()
    expect(pager).to_have_text(f"Page 2 of {total_pages}")
    expect(page.locator("td.lfn")).to_have_count(5)
    page.get_by_role("link", name="← Previous").click()
    expect(pager).to_have_text(f"Page 1 of {total_pages}")

    with page.expect_download() as download_info:
        page.get_by_role("link", name="LFNs (txt)").click()
    target = tmp_path / "lfns.txt"
    download_info.value.save_as(target)
    lfns = target.read_text().splitlines()
    files_total = int(page.locator(".totals dd").first.inner_text().replace("\u202f", ""))
    assert len(lfns) == files_total and all(lfn.startswith("/lhcb/MC/") for lfn in lfns)

    first_lfn = page.locator("td.lfn a").first
    lfn = first_lfn.inner_text()
    first_lfn.click()
    expect(page.locator("h1")).to_have_text(lfn)
    expect(page.get_by_role("heading", name="Replicas")).to_be_visible()
    _shot(page, "03-file")


def test_search_from_the_header(page) -> None:  # type: ignore[no-untyped-def]
    page.goto("/browse")
    page.get_by_label("Search files").fill("ALLSTREAMS")
    page.get_by_role("button", name="Search").first.click()
    expect(page.locator(".summary")).to_contain_text("file")
    _shot(page, "04-search")


def test_log_in_query_the_catalogue_and_the_secret_stays_hidden(page) -> None:  # type: ignore[no-untyped-def]
    page.goto("/catalogue/?path=/data")
    page.get_by_role("link", name="Log in", exact=True).click()
    _shot(page, "10-login")
    page.get_by_label("User").fill("alice")
    page.get_by_label("Password").fill(ALICE_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_text("Logged in as alice.")).to_be_visible()
    assert page.url.endswith("/catalogue/?path=/data")
    _shot(page, "05-catalogue")
    expect(page.get_by_role("heading", name="Add an attribute")).to_be_visible()  # alice may write
    body = page.locator("main").inner_text()
    assert "file000" in body and "secret" not in body
    page.get_by_role("link", name="Next →").click()
    page.wait_for_url(re.compile(r"[?&]page=2(&|$)"))  # else the check below reads page 1
    assert "secret" not in page.locator("main").inner_text()

    page.goto("/catalogue/?path=/data")
    page.get_by_label("Condition (AMGA query language)").fill("Size >= 570 or Size > 900000")
    page.get_by_role("button", name="Run query").click()
    expect(page.locator("table tbody tr")).to_have_count(3)
    assert "secret" not in page.locator("main").inner_text()
    _shot(page, "06-query")

    page.get_by_label("Condition").fill("Size > > 10")
    page.get_by_role("button", name="Run query").click()
    expect(page.locator("pre.syntax mark")).to_have_text(">")
    expect(page.get_by_role("alert")).to_be_visible()
    _shot(page, "07-query-error")

    page.goto("/catalogue/entry?path=/data/mine")
    expect(page.get_by_role("button", name="Save")).to_be_visible()
    expect(page.get_by_role("button", name="Delete entry")).to_be_visible()
    _shot(page, "11-entry-editable")
    page.goto("/catalogue/entry?path=/data/file007")  # root's: alice may only read it
    assert page.get_by_role("button", name="Save").count() == 0
    assert "You may read this entry but not change it" in page.locator("main").inner_text()
    _shot(page, "12-entry-read-only")


def test_wide_tables_scroll_inside_their_box_on_a_phone(page) -> None:  # type: ignore[no-untyped-def]
    page.set_viewport_size(PHONE)
    page.goto("/browse?configname=MC")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.goto("/search?q=ALLSTREAMS")
    box = page.locator("div.scroll").first
    assert box.evaluate("b => b.scrollWidth > b.clientWidth")  # more columns to the right
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    lfn = page.locator("td.lfn a").first
    # The LFN wraps at its slashes where there is room, not anywhere in a word.
    assert lfn.evaluate("a => getComputedStyle(a.parentElement).overflowWrap") == "anywhere"
