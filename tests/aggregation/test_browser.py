"""The system Chromium (Playwright) on GraphiQL and on the search page, live server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from playwright.sync_api import expect

from tests.aggregation.conftest import close_app, empty_aggregation_tables, make_app
from tests.webui.browsing import CHROMIUM, CHROMIUM_ARGS, live_server

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def live_url(populated_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    # Generated files have real-looking nominal sizes (GB each): a cap that lets them through.
    app: Flask = make_app(
        populated_url, tmp_path_factory.mktemp("buffer"), AGGREGATION_MAX_BYTES=10**15
    )
    empty_aggregation_tables(app)
    try:
        with live_server(app) as url:
            yield url
    finally:
        close_app(app)


@pytest.fixture
def page(live_url: str) -> Iterator[object]:
    if not CHROMIUM.exists():
        pytest.skip("the system Chromium is missing: apt-get install -y chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = chromium.new_context(base_url=live_url)
        tab = context.new_page()
        tab.set_default_timeout(20_000)
        errors: list[str] = []
        tab.on("pageerror", lambda error: errors.append(str(error)))
        yield tab
        chromium.close()
        assert errors == [], errors


def test_graphiql_runs_a_search_in_the_browser(page) -> None:  # type: ignore[no-untyped-def]
    failed: list[str] = []
    page.on("requestfailed", lambda request: failed.append(request.url))
    page.goto("/graphql")
    run = page.locator(".graphiql-execute-button")
    expect(run).to_be_visible()
    run.click()
    expect(page.locator(".graphiql-response")).to_contain_text("queryId")
    assert failed == []  # every asset came from this site


def test_the_search_page_gives_the_quick_answer(page) -> None:  # type: ignore[no-untyped-def]
    page.goto("/aggregation/")
    page.fill("#f-configName", "LHCb")
    page.click("#aggregated-search")
    expect(page.locator("#cache-status")).to_have_text("miss")
    query = page.locator("#query-id").inner_text()
    assert len(query) == 32
    page.reload()
    expect(page.locator("#cache-status")).to_have_text("hit")
    page.click("#prepare")  # deliveries belong to a user: nobody is signed in here
    expect(page.get_by_role("alert")).to_contain_text("log in to prepare a delivery")
