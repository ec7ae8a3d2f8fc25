"""Recalls from the web UI, end to end: a real recall daemon (its own process, an emulated
tape library in a temporary folder) reached over real HTTP by the web application, which
acts for the user signed in there and never for a name the browser sends."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from bookkeeping.amga_adapter.engine.passwords import hash_password
from bookkeeping.amga_adapter.engine.system_tables import users
from bookkeeping.datahandling.tables import recall_requests
from bookkeeping.local_servers import free_port
from bookkeeping.scratch import ScratchDatabase, scratch_database
from tests.datahandling.conftest import World
from tests.datahandling.daemons import TEST_TOKEN, recall_daemon
from tests.waiting import wait_until
from tests.webui.conftest import make_app


@pytest.fixture
def backend() -> Iterator[ScratchDatabase]:
    """SQLite only: what is new here is the web UI's path to the daemon; the daemon and
    both bookkeeping implementations on the server back-ends are held by test_daemons.py,
    test_kills.py and the equivalence tests (and this file stays short on the CI path)."""
    with scratch_database("sqlite", None) as database:
        yield database


PASSWORDS = {"alice": "alice's secret", "bob": "bob-pw"}
DATASET = {
    "configname": "KLOE", "configversion": "v1", "conditions": "run2005",
    "processingpass": "pass1", "eventtype": 90000000, "filetype": "RAW",
}  # fmt: skip
TAPE = {"cartridges": 4, "capacity": 100_000, "mount": 0.01, "throughput": 5_000_000}


def _users(world: World) -> None:
    with world.engine.begin() as connection:
        connection.execute(
            users.insert(),
            [{"name": name, "password_hash": hash_password(pw)} for name, pw in PASSWORDS.items()]
            + [{"name": "anonymous", "password_hash": None}],
        )


def _stock(world: World) -> tuple[list[str], list[str]]:
    """Six RAW files of one dataset on tape; the first four only there (tape-only)."""
    world.disk("DAQ", "daq")
    world.tape("TAPE", **TAPE)
    world.recall_area("f0a")
    lfns = world.files(6, se="DAQ", sizes=(2_000, 5_000, 3_000))
    world.tape_only(lfns[:4], "TAPE")
    _users(world)
    return lfns[:4], lfns[4:]


def _app(world: World, **config: Any) -> Flask:
    return make_app(world.url(), BOOKKEEPING_BACKEND=world.backend, **config)


def _csrf(client: FlaskClient, url: str) -> str:
    page = client.get(url).get_data(as_text=True)
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, page[:2000]
    return found.group(1)


def _login(client: FlaskClient, user: str) -> None:
    token = _csrf(client, "/catalogue/login")
    answer = client.post(
        "/catalogue/login",
        data={"user": user, "password": PASSWORDS[user], "csrf_token": token, "next": "/"},
    )
    assert answer.status_code == 302, answer.get_data(as_text=True)[:500]


def _dataset_url() -> str:
    return "/dataset?" + "&".join(f"{k}={v}" for k, v in DATASET.items())


def _request_count(world: World) -> int:
    with world.engine.connect() as connection:
        return int(
            connection.execute(sa.select(sa.func.count()).select_from(recall_requests)).scalar()
            or 0
        )


def test_a_signed_in_user_recalls_the_tape_only_files_of_a_dataset_and_follows_it(
    world: World,
) -> None:
    tape_only, on_disk = _stock(world)
    # The dataset filtered to files of at most 4,000 bytes: tape-only files 0, 2 and 3.
    small = [lfn for index, lfn in enumerate(tape_only) if index != 1]
    with recall_daemon(world.url(), world.backend) as (_, url):
        app = _app(world, RECALL_URL=url, RECALL_TOKEN=TEST_TOKEN)
        try:
            anonymous = app.test_client()
            page = anonymous.get(_dataset_url()).get_data(as_text=True)
            assert "Log in</a> to request the recall" in page
            refused = anonymous.post("/recall", data={**DATASET, "csrf_token": _csrf(
                anonymous, "/catalogue/login")})  # fmt: skip
            assert refused.status_code == 401 and "log in to request a recall" in refused.text

            alice = app.test_client()
            _login(alice, "alice")
            filtered = _dataset_url() + "&size_max=4000"
            page = alice.get(filtered).text
            assert 'name="size_max" value="4000"' in page  # the form carries the filters
            form = {**DATASET, "size_max": 4000, "csrf_token": _csrf(alice, filtered)}
            assert alice.post("/recall", data={**form, "csrf_token": "forged"}).status_code == 400
            assert _request_count(world) == 0  # refused forms asked nothing
            # The owner the browser sends is ignored: the request is the signed-in user's.
            asked = alice.post("/recall", data={**form, "owner": "bob"})
            assert asked.status_code == 303, asked.text
            request_id = int(asked.headers["Location"].rsplit("/", 1)[1])
            twin = f"/api/v1/recall/{request_id}"

            def done() -> dict[str, Any] | None:
                data = alice.get(twin).get_json()
                return data if data["done"] else None

            status = wait_until(done, "the recall answered", timeout=120, interval=0.1)
            assert status["owner"] == "alice"
            assert sorted(f["lfn"] for f in status["files"]) == sorted(small)
            assert not set(on_disk) & {f["lfn"] for f in status["files"]}
            sizes = {r.lfn: r.size for r in world.bookkeeping.files_metadata(small).found}
            assert status["counts"] == {"waiting": 0, "ready": 3, "failed": 0, "total": 3}
            assert status["bytes"]["ready"] == status["bytes"]["total"] == sum(sizes.values())
            assert sorted(p["lfn"] for p in status["pins"]) == sorted(small)
            assert {p["area"] for p in status["pins"]} == {"f0a"}
            html = alice.get(f"/recall/{request_id}")
            assert html.status_code == 200
            assert "script-src 'self'" in html.headers["Content-Security-Policy"]
            assert "recall-progress.js" in html.text and "Release the pins" in html.text
            # Now recalled, they are not asked again.
            again = alice.post("/recall", data=form, follow_redirects=True)
            assert "Nothing to recall" in again.text
            assert _request_count(world) == 1

            bob = app.test_client()
            _login(bob, "bob")
            assert bob.get(twin).status_code == 403
            assert bob.post(f"/recall/{request_id}/release", data={
                "csrf_token": _csrf(bob, _dataset_url())}).status_code == 403  # fmt: skip
            assert anonymous.get(twin).status_code == 401
            released = alice.post(
                f"/recall/{request_id}/release",
                data={"csrf_token": form["csrf_token"]},
                follow_redirects=True,
            )
            assert "Released 3 pins" in released.text
            assert alice.get(twin).get_json()["pins"] == []

            # One file from its page: a file with a disk copy has nothing to recall.
            record = world.bookkeeping.file_by_lfn(tape_only[1])
            kept = world.bookkeeping.file_by_lfn(on_disk[0])
            assert record is not None and kept is not None
            token = _csrf(alice, f"/file/{record.file_id}")
            assert "Request recall" in alice.get(f"/file/{record.file_id}").text
            one = alice.post("/recall", data={"file_id": kept.file_id, "csrf_token": token},
                             follow_redirects=True)  # fmt: skip
            assert "Nothing to recall" in one.text
            missing = alice.post("/recall", data={"file_id": 99_999_999, "csrf_token": token})
            assert missing.status_code == 404
            asked_one = alice.post("/recall", data={"file_id": record.file_id, "csrf_token": token})
            assert asked_one.status_code == 303
            one_id = int(asked_one.headers["Location"].rsplit("/", 1)[1])
            one_status = alice.get(f"/api/v1/recall/{one_id}").get_json()
            assert [f["lfn"] for f in one_status["files"]] == [record.lfn]
        finally:
            app.extensions["bookkeeping"].engine.dispose()


def test_without_a_usable_daemon_the_pages_say_so(world: World) -> None:
    _stock(world)
    with recall_daemon(world.url(), world.backend) as (_, url):
        setups = {
            "no recall daemon is configured": {},
            "cannot be reached": {"RECALL_URL": f"http://127.0.0.1:{free_port()}"},
            "refused this web server": {"RECALL_URL": url, "RECALL_TOKEN": "not-it-0123456789"},
        }
        for words, config in setups.items():
            app = _app(world, **config)
            try:
                alice = app.test_client()
                _login(alice, "alice")
                page = alice.get(_dataset_url()).text
                if not config:
                    assert "no recall daemon is configured" in page
                token = _csrf(alice, _dataset_url())
                answer = alice.post("/recall", data={**DATASET, "csrf_token": token})
                assert answer.status_code == 503, words
                assert words in answer.text and "Traceback" not in answer.text
                follow = alice.get("/api/v1/recall/1")
                assert follow.status_code == 503 and words in follow.get_json()["message"]
                assert _request_count(world) == 0
            finally:
                app.extensions["bookkeeping"].engine.dispose()


@pytest.fixture
def browser() -> Iterator[Any]:
    from tests.webui.browsing import CHROMIUM, CHROMIUM_ARGS

    if not CHROMIUM.exists():
        pytest.skip("the system Chromium is missing: apt-get install -y chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.mark.browser
@pytest.mark.parametrize("world", ["warehouse"], indirect=True)  # the page is one for both
def test_the_request_page_follows_its_progress_in_the_browser(
    world: World, browser: Any, tmp_path: Any
) -> None:
    """Chromium signs in, asks for the recall from the dataset page, and watches the
    request page move from waiting to ready by itself (its script polling the twin)."""
    from axe_playwright_python.sync_playwright import Axe
    from playwright.sync_api import expect

    from tests.webui.browsing import DESKTOP, browser_page, live_server
    from tests.webui.test_browser_audit import _audit

    tape_only, _ = _stock(world)
    # The daemon waits 4 s of quiet before reading a cartridge: the page is shown while
    # every file still waits, and must then update without being reloaded by the test.
    slow = tmp_path / "slow.toml"
    slow.write_text("[datahandling]\nrecall_tape_age_seconds = 4\n")
    with recall_daemon(world.url(), world.backend, env={"BK_CONFIG": str(slow)}) as (_, url):
        app = _app(world, RECALL_URL=url, RECALL_TOKEN=TEST_TOKEN)
        try:
            with live_server(app) as base, browser_page(browser, base, DESKTOP) as page:
                page.set_default_timeout(30_000)
                page.goto("/catalogue/login?next=" + _dataset_url().replace("&", "%26"))
                page.get_by_label("User").fill("alice")
                page.get_by_label("Password").fill(PASSWORDS["alice"])
                page.get_by_role("button", name="Log in").click()
                expect(page.locator("#storage-share")).to_be_visible()
                axe = Axe().axe_script
                assert _audit(page, axe) == []  # signed in: the recall form shown
                page.get_by_role("button", name="Request recall").click()
                expect(page).to_have_url(re.compile(r"/recall/\d+$"))
                assert page.locator("#recall-progress").get_attribute("data-done") == "false"
                expect(page.locator("#count-waiting")).to_have_text(str(len(tape_only)))
                # No navigation by the test from here: the script brings the answers.
                expect(page.locator("#count-ready")).to_have_text(
                    str(len(tape_only)), timeout=90_000
                )
                expect(page.locator("#recall-state")).to_have_text("Done: no file is waiting.")
                expect(page.locator("#recall-pins tbody tr")).to_have_count(len(tape_only))
                assert _audit(page, axe) == []  # the request page, its pins and button
        finally:
            app.extensions["bookkeeping"].engine.dispose()
