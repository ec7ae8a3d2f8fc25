"""The catalogue browser's typed sorting and layout in Chromium, and an accessibility audit
of the main pages with axe-core.

axe-core is the copy bundled in the PyPI package ``axe-playwright-python`` (a test
dependency): nothing is fetched from a CDN. It is evaluated into each page through the
DevTools protocol, which the pages' Content-Security-Policy does not apply to."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from playwright.sync_api import expect

from tests.webui.browsing import DESKTOP, browser_page, live_server
from tests.webui.conftest import ALICE_PASSWORD

pytestmark = pytest.mark.browser

WIDTHS = (1280, 800)
# Every rule runs at 800 px, where the most tables scroll; at 1280 px only the rule that
# depends on the width (a box that scrolls must be reachable from the keyboard): each full
# run costs about a second.
WIDE_RULES = ("scrollable-region-focusable",)
# The wide tables' edge shadows are background gradients, through which axe cannot tell the
# colour behind the text (it reports such cells "incomplete", not checked). The audit
# paints the boxes their plain card colour, which is what the text sits on away from the
# 1 rem edges, so that the contrast of every cell is measured.
PLAIN_SCROLL_BOXES = ".scroll { background: var(--card) !important; }"
FAILING_IMPACTS = {"serious", "critical"}


@pytest.fixture(scope="module")
def live_url(catalogue_app: Flask) -> Iterator[str]:
    with live_server(catalogue_app) as url:
        yield url


@pytest.fixture
def page(browser: Any, live_url: str) -> Iterator[Any]:
    with browser_page(browser, live_url, DESKTOP) as tab:
        yield tab


def _page_width(page: Any) -> int:
    return int(page.evaluate("document.documentElement.scrollWidth"))


def test_catalogue_sorts_numbers_as_numbers_and_fits_1280_and_800(page: Any) -> None:
    page.goto("/catalogue/?path=/data")
    entries = page.get_by_role("region", name="Entries table")
    size = entries.get_by_role("columnheader", name="Size")
    expect(size).to_have_attribute("aria-sort", "none")
    size.get_by_role("link").click()
    expect(size).to_have_attribute("aria-sort", "ascending")
    size.get_by_role("link").click()  # the heading of the sorted column reverses it
    expect(size).to_have_attribute("aria-sort", "descending")
    column = list(page.evaluate("[...document.querySelectorAll('thead th')].map(t => t.innerText)"))
    index = next(i for i, text in enumerate(column[2:]) if text.startswith("Size"))
    cells = entries.locator(f"tbody tr td:nth-child({index + 1})").all_inner_texts()
    sizes = [int(text) for text in cells]
    # As numbers: 590, 580, ... (as text "90" would come first, and "100" after "10").
    assert sizes == sorted(sizes, reverse=True) and sizes[0] == 590 and len(sizes) > 10
    # The next page goes on in the same order.
    page.get_by_role("link", name="Next →").click()
    expect(size).to_have_attribute("aria-sort", "descending")
    following = [
        int(t) for t in entries.locator(f"tbody tr td:nth-child({index + 1})").all_inner_texts()
    ]
    assert following and max(following) <= sizes[-1]
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 800})
        assert _page_width(page) <= width, f"{_page_width(page)} px wide at {width}"


def test_long_values_are_elided_with_the_whole_value_on_hover(
    page: Any, catalogue_app: Flask
) -> None:
    root = catalogue_app.extensions["bookkeeping"].catalogue.session("root")
    try:
        root.createdir("/wide")
        root.addattr("/wide", "Comment", "varchar(400)")
        root.addattr("/wide", "Size", "int")
        text = " ".join(["a long comment that goes on"] * 12)
        root.addentries("/wide", [(f"n{i}", {"Comment": text, "Size": i}) for i in range(3)])
        root.acl_grant("/wide", "system:anyuser", "r-x")
    finally:
        root.close()
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 800})
        page.goto("/catalogue/?path=/wide")
        cell = page.get_by_role("region", name="Entries table").locator("td.cell").nth(1)
        expect(cell).to_have_attribute("title", text)
        assert cell.evaluate("c => c.scrollWidth > c.clientWidth")  # elided, not wrapped
        assert _page_width(page) <= width


def _audit(page: Any, axe_script: str, rules: tuple[str, ...] = ()) -> list[str]:
    """The serious and critical violations on the page as shown, one line each; every
    rule, or only ``rules``."""
    page.add_style_tag(content=PLAIN_SCROLL_BOXES)
    if not page.evaluate("typeof axe !== 'undefined'"):
        page.evaluate(axe_script)
    options: dict[str, Any] = {"resultTypes": ["violations", "incomplete"]}
    if rules:
        options["runOnly"] = {"type": "rule", "values": list(rules)}
    results = page.evaluate("options => axe.run(document, options)", options)
    found = [
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes'][:3]]}"
        for v in results["violations"]
        if v["impact"] in FAILING_IMPACTS
    ]
    # Contrast that axe could not measure is not a pass: only symbols hidden from
    # assistive technology (the sort arrows) may stay unmeasured.
    found += [
        f"unmeasured contrast: {node['target']}"
        for v in results["incomplete"]
        if v["id"] == "color-contrast"
        for node in v["nodes"]
        if "only non-text characters" not in str(node.get("any"))
    ]
    return found


def _audited_paths(client: FlaskClient) -> list[str]:
    """Home (a level of the path), a dataset with run and DQ filters, a file with
    ancestors, its job, a search, the catalogue's entry and query pages and the log-in
    form (the directory page is audited logged in, where it has the most controls)."""
    search = client.get("/api/v1/search", query_string={"q": "Express"}).get_json()
    group = next(g for g in search["groups"] if g["kind"] == "event_types")
    place = group["results"][0]["places"][-1]  # the deepest pass: its files have ancestors
    query = client.get("/api/v1/browse", query_string=place).get_json()["values"][0]["query"]
    files = client.get("/api/v1/dataset", query_string={**query, "per_page": 1000}).get_json()
    runs = sorted(f["run"] for f in files["files"])
    filtered = {**query, "run_min": runs[1], "run_max": runs[-1], "quality": "OK"}
    record = files["files"][0]
    assert client.get(f"/api/v1/file/{record['file_id']}").get_json()["ancestors"]
    dataset = "/dataset?" + "&".join(f"{k}={v}" for k, v in filtered.items())
    return [
        "/", dataset, f"/file/{record['file_id']}", f"/job/{record['job_id']}",
        "/search?q=Express", "/catalogue/entry?path=/data/file001",
        "/catalogue/query?dir=/data&where=Size>500", "/catalogue/login",
    ]  # fmt: skip


def test_main_pages_have_no_serious_or_critical_accessibility_violation(
    page: Any, catalogue_app: Flask
) -> None:
    from axe_playwright_python.sync_playwright import Axe

    axe_script = Axe().axe_script
    paths = _audited_paths(catalogue_app.test_client())
    problems: dict[str, list[str]] = {}
    for path in paths:
        page.set_viewport_size(DESKTOP)
        page.goto(path)
        for width, rules in ((1280, WIDE_RULES), (800, ())):
            page.set_viewport_size({"width": width, "height": 800})
            if found := _audit(page, axe_script, rules):
                problems[f"{path} at {width} px"] = found
    # Logged in, the catalogue shows its write forms: every control labelled there too.
    page.goto("/catalogue/login")
    page.get_by_label("User").fill("alice")
    page.get_by_label("Password").fill(ALICE_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    for path in ("/catalogue/?path=/data", "/catalogue/entry?path=/data/mine"):
        page.goto(path)
        expect(page.get_by_text("Logged in as alice.")).to_have_count(0)  # page loaded
        if found := _audit(page, axe_script):
            problems[f"{path} as alice"] = found
    assert not problems, problems


def test_the_filtered_dataset_page_fits_1280_and_800(page: Any, catalogue_app: Flask) -> None:
    """Issue 23: no horizontal overflow of the dataset page with run and DQ filters (its
    filter form, facets and wide tables fit or scroll inside their own boxes)."""
    dataset = _audited_paths(catalogue_app.test_client())[1]
    page.goto(dataset)
    expect(page.get_by_role("heading", level=1)).to_have_count(1)  # the page loaded
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 800})
        assert _page_width(page) <= width, f"{_page_width(page)} px wide at {width}"


def test_a_wide_table_scrolls_from_the_keyboard(page: Any) -> None:
    page.set_viewport_size({"width": 390, "height": 800})
    page.goto("/search?q=ALLSTREAMS")
    box = page.get_by_role("region", name="Files table")
    assert box.evaluate("b => b.scrollWidth > b.clientWidth")
    box.focus()  # reachable with Tab: it is focusable (tabindex 0) and named
    assert page.evaluate("document.activeElement.getAttribute('aria-label')") == "Files table"
    page.keyboard.press("ArrowRight")
    page.wait_for_function("() => document.activeElement.scrollLeft > 0")
