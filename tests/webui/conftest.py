"""A real bookkeeping database, filled through the writer with generated productions, and
the web application on it. Read-only tests share one SQLite database per session; tests
that write get a fresh one."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from bookkeeping.engines import create_engine
from bookkeeping.generator import generate_reports
from bookkeeping.schema import metadata
from bookkeeping.scratch import scratch_database, server_url
from bookkeeping.warehouse.store import WarehouseWriter
from bookkeeping.writer.model import JobReport, RecordStatus
from webui import create_app

GENERATED_FILES = 300
SEED = 11


def populate(url: str, files: int = GENERATED_FILES) -> list[JobReport]:
    engine = create_engine(url)
    try:
        metadata.create_all(engine)
        reports = list(generate_reports(files, seed=SEED))
        results = WarehouseWriter(engine).record_batch(reports)
        assert {result.status for result in results} == {RecordStatus.RECORDED}
        return reports
    finally:
        engine.dispose()


def make_app(url: str, **config: Any) -> Flask:
    settings = {"DATABASE_URL": url, "SECRET_KEY": "test-secret", "TESTING": True}
    app = create_app({**settings, **config})
    return app


@pytest.fixture(scope="session")
def populated_url() -> Iterator[str]:
    with scratch_database("sqlite", None) as database:
        populate(database.url)
        yield database.url


@pytest.fixture(scope="session")
def app(populated_url: str) -> Iterator[Flask]:
    application = make_app(populated_url)
    yield application
    application.extensions["bookkeeping"].engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture(scope="module", params=["sqlite", "postgresql", "mariadb"])
def server_app(request: pytest.FixtureRequest) -> Iterator[Flask]:
    """The application on a populated database of each configured back-end."""
    name: str = request.param
    if name != "sqlite" and not server_url(name):
        pytest.skip(f"{name} is not configured (set its BK_TEST_*_URL)")
    with scratch_database(name, server_url(name)) as database:
        populate(database.url)
        application = make_app(database.url)
        try:
            yield application
        finally:
            application.extensions["bookkeeping"].engine.dispose()


def first_dataset(client: FlaskClient, index: int = 0) -> dict[str, Any]:
    """Walk the browser's JSON twin down to a dataset; ``index`` picks among the values."""
    query: dict[str, Any] = {}
    for _ in range(6):
        values = client.get("/api/v1/browse", query_string=query).get_json()["values"]
        query = values[min(index, len(values) - 1)]["query"]
    return query


_LARGEST: dict[int, dict[str, Any]] = {}


def largest_dataset(client: FlaskClient) -> dict[str, Any]:
    """The dataset with the most files (to exercise paging); walked once per application."""
    key = id(client.application)
    if key not in _LARGEST:
        _LARGEST[key] = _walk_for_largest(client)
    return dict(_LARGEST[key])


def _walk_for_largest(client: FlaskClient) -> dict[str, Any]:
    best: tuple[int, dict[str, Any]] = (0, {})

    def walk(query: dict[str, Any], depth: int) -> None:
        nonlocal best
        values = client.get("/api/v1/browse", query_string=query).get_json()["values"]
        for item in values:
            if depth == 5:
                if item["files"] > best[0]:
                    best = (item["files"], item["query"])
            else:
                walk(item["query"], depth + 1)

    walk({}, 0)
    return best[1]


ALICE_PASSWORD = "alice's secret"
ROOT_PASSWORD = "root-pw"
DATA_ENTRIES = 60


def seed_catalogue(app: Flask) -> None:
    """Users root and alice (with passwords), anonymous, bob; a directory /data readable by
    alice with DATA_ENTRIES entries plus ``secret``, which only its owner (root) may read."""
    from bookkeeping.amga_adapter.engine.passwords import hash_password
    from bookkeeping.amga_adapter.engine.system_tables import users

    state = app.extensions["bookkeeping"]
    with state.engine.begin() as connection:
        connection.execute(
            users.insert(),
            [
                {"name": "root", "password_hash": hash_password(ROOT_PASSWORD)},
                {"name": "anonymous", "password_hash": None},
                {"name": "alice", "password_hash": hash_password(ALICE_PASSWORD)},
                {"name": "bob", "password_hash": None},
            ],
        )
    root = state.catalogue.session("root")
    try:
        root.createdir("/data")
        root.createdir("/data/runs")
        root.addattr("/data", "Size", "int")
        root.addattr("/data", "Owner", "varchar(32)")
        root.addentries(
            "/data",
            ((f"file{i:03d}", {"Size": i * 10, "Owner": "alice"}) for i in range(DATA_ENTRIES)),
        )
        root.addentry("/data/secret", {"Size": 999999, "Owner": "root"})
        root.chmod("/data/secret", "rw-", "---")
        root.acl_grant("/data", "alice", "rwx")
        root.acl_grant("/data/runs", "alice", "rwx")
        root.acl_grant("/data", "system:anyuser", "r-x")
    finally:
        root.close()
    alice = state.catalogue.session("alice")
    try:
        alice.addentry("/data/mine", {"Size": 1, "Owner": "alice"})
    finally:
        alice.close()


@pytest.fixture(scope="session")
def catalogue_app(app: Flask) -> Flask:
    seed_catalogue(app)
    return app


def login(client: FlaskClient, user: str, password: str) -> Any:
    page = client.get("/catalogue/login").get_data(as_text=True)
    token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    return client.post(
        "/catalogue/login",
        data={"user": user, "password": password, "csrf_token": token, "next": "/catalogue/"},
    )


def csrf_of(client: FlaskClient, url: str) -> str:
    page = client.get(url).get_data(as_text=True)
    return page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]


BOB_PASSWORD = "bob-pw"


@pytest.fixture(scope="module", params=["sqlite", "postgresql", "mariadb"])
def catalogue_server_app(request: pytest.FixtureRequest) -> Iterator[Flask]:
    """The application on each configured back-end with the catalogue of
    ``seed_catalogue`` (bob with a password too) and no bookkeeping data."""
    from bookkeeping.amga_adapter.engine.passwords import hash_password
    from bookkeeping.amga_adapter.engine.system_tables import users

    name: str = request.param
    if name != "sqlite" and not server_url(name):
        pytest.skip(f"{name} is not configured (set its BK_TEST_*_URL)")
    with scratch_database(name, server_url(name)) as database:
        engine = create_engine(database.url)
        metadata.create_all(engine)
        engine.dispose()
        application = make_app(database.url)
        try:
            seed_catalogue(application)
            with application.extensions["bookkeeping"].engine.begin() as connection:
                connection.execute(
                    users.update()
                    .where(users.c.name == "bob")
                    .values(password_hash=hash_password(BOB_PASSWORD))
                )
            yield application
        finally:
            application.extensions["bookkeeping"].engine.dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """The system Chromium, per module: Playwright's synchronous API owns an event loop
    while it runs, which must not outlive the browser tests into other modules."""
    from tests.webui.browsing import CHROMIUM, CHROMIUM_ARGS

    if not CHROMIUM.exists():
        pytest.skip("the system Chromium is missing: apt-get install -y chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
