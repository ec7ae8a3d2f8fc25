"""A populated bookkeeping (warehouse and catalogue), the web app on it with the aggregation
service, served over real HTTP for GraphQL clients; Redis with a prefix of the test's own."""

from __future__ import annotations

import os
import secrets
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

from bookkeeping.generator import generate_reports
from bookkeeping.local_servers import free_port
from bookkeeping.scratch import scratch_database
from tests.catalogue_bookkeeping.conftest import fresh_pair
from webui import create_app

FILES = 200
SEED = 5
REDIS_URL = os.environ.get("BK_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture(scope="session")
def populated_url() -> Iterator[str]:
    """SQLite with the same productions in the warehouse and in the catalogue."""
    from bookkeeping.amga_adapter.bookkeeping import CatalogueWriter
    from bookkeeping.amga_adapter.engine.system_tables import users
    from bookkeeping.engines import create_engine
    from bookkeeping.schema import metadata
    from bookkeeping.warehouse.store import WarehouseWriter

    with scratch_database("sqlite", None) as database:
        engine = create_engine(database.url)
        metadata.create_all(engine)
        with engine.begin() as connection:
            connection.execute(users.insert().values(name="root", password_hash=None))
        reports = list(generate_reports(FILES, seed=SEED))
        WarehouseWriter(engine).record_batch(reports)
        CatalogueWriter(engine).record_batch(reports)
        engine.dispose()
        yield database.url


def make_app(url: str, buffer: Path, **config: Any) -> Flask:
    settings = {
        "DATABASE_URL": url,
        "SECRET_KEY": "test-secret",
        "TESTING": True,
        "AGGREGATION_BUFFER_DIR": str(buffer),
        "AGGREGATION_WORKER": "none",
        "AGGREGATION_REDIS_URL": None,
    }
    return create_app({**settings, **config})


def empty_aggregation_tables(app: Flask) -> None:
    """The shared database's cache and deliveries, as a fresh installation has them."""
    from bookkeeping.aggregation import tables

    with app.extensions["bookkeeping"].engine.begin() as connection:
        for table in (
            tables.cached_files,
            tables.cached_queries,
            tables.delivery_files,
            tables.deliveries,
        ):
            connection.execute(table.delete())


def close_app(app: Flask) -> None:
    app.extensions["aggregation"].close()
    app.extensions["bookkeeping"].engine.dispose()


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    """A key prefix of this test's own on the machine's Redis; its keys removed after."""
    import redis

    prefix = f"bk-test:{secrets.token_hex(6)}:"
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.ConnectionError:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true needs Redis at {REDIS_URL}")
        pytest.skip(f"no Redis at {REDIS_URL}")
    try:
        yield prefix
    finally:
        keys = list(client.scan_iter(f"{prefix}*"))
        if keys:
            client.delete(*keys)
        client.close()


@pytest.fixture(params=["database", "redis"])
def cache_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def app(
    populated_url: str, tmp_path: Path, cache_kind: str, request: pytest.FixtureRequest
) -> Iterator[Flask]:
    config: dict[str, Any] = {}
    if cache_kind == "redis":
        prefix = request.getfixturevalue("redis_prefix")
        config = {"AGGREGATION_REDIS_URL": REDIS_URL, "AGGREGATION_REDIS_PREFIX": prefix}
    application = make_app(populated_url, tmp_path / "buffer", **config)
    empty_aggregation_tables(application)
    try:
        yield application
    finally:
        close_app(application)


@pytest.fixture
def served(app: Flask) -> Iterator[str]:
    """The app on a real HTTP server in a thread; its base URL."""
    server = make_server("127.0.0.1", free_port(), app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(10)


__all__ = ["fresh_pair"]
