"""Fixtures: DB-API connections to a catalogue on every back-end, in-process and over the
AMGA protocol (a real server on a loopback port).

Creating a database and a server is the slow part, so the suite gets one catalogue database
per back-end (and one server); after each test every directory is removed again, so tests
still start from an empty catalogue.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator

import pytest

from bookkeeping import jdbc_compat
from bookkeeping.amga_adapter.engine.catalogue import Catalogue
from bookkeeping.amga_adapter.engine.passwords import hash_password
from bookkeeping.amga_adapter.engine.system_tables import users
from bookkeeping.engines import create_engine
from bookkeeping.schema import metadata
from bookkeeping.scratch import scratch_database, server_url
from tests.conftest import BACKENDS

ROOT_PASSWORD = "root-pw"

Connect = Callable[[], jdbc_compat.Connection]


class _ServerThread:
    """An AMGA server on its own event loop in a thread, on a free loopback port."""

    def __init__(self, catalogue: Catalogue) -> None:
        from bookkeeping.amga_adapter.server.app import AmgaServer
        from bookkeeping.amga_adapter.server.settings import ServerSettings

        self.loop = asyncio.new_event_loop()
        self.server = AmgaServer(catalogue, ServerSettings(port=0, shutdown_grace=2))
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self.server.start(), self.loop).result(10)

    @property
    def dsn(self) -> str:
        return f"amga://root:{ROOT_PASSWORD}@127.0.0.1:{self.server.port}/"

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self.server.shutdown(), self.loop).result(30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


class _Fixture:
    """One back-end's catalogue database, and its server once a test asks for it."""

    def __init__(self, catalogue: Catalogue) -> None:
        self.catalogue = catalogue
        self._server: _ServerThread | None = None

    @property
    def server(self) -> _ServerThread:
        if self._server is None:
            self._server = _ServerThread(self.catalogue)
        return self._server

    def empty(self) -> None:
        session = self.catalogue.session("root")
        try:
            for name, kind in list(session.dir("/")):
                if kind.startswith("collection"):
                    session.rmdir(name, recursive=True)
        finally:
            session.close()

    def close(self) -> None:
        if self._server is not None:
            self._server.stop()


@pytest.fixture(scope="session", params=BACKENDS)
def _catalogue_database(request: pytest.FixtureRequest) -> Iterator[_Fixture]:
    with scratch_database(request.param, server_url(request.param)) as database:
        engine = create_engine(database.url)
        metadata.create_all(engine)
        with engine.begin() as connection:
            connection.execute(
                users.insert(), [{"name": "root", "password_hash": hash_password(ROOT_PASSWORD)}]
            )
        fixture = _Fixture(Catalogue(engine))
        try:
            yield fixture
        finally:
            fixture.close()
            engine.dispose()


@pytest.fixture
def catalogue(_catalogue_database: _Fixture) -> Iterator[Catalogue]:
    """An empty catalogue (shared by the suite's tests on this back-end, emptied after each)."""
    yield _catalogue_database.catalogue
    _catalogue_database.empty()


@pytest.fixture(params=["local", "amga"])
def connect(
    request: pytest.FixtureRequest, _catalogue_database: _Fixture, catalogue: Catalogue
) -> Iterator[Connect]:
    """A factory of connections to the catalogue: in-process or over ``amga://``."""
    opened: list[jdbc_compat.Connection] = []

    def factory() -> jdbc_compat.Connection:
        if request.param == "local":
            connection = jdbc_compat.connect(catalogue)
        else:
            connection = jdbc_compat.connect(_catalogue_database.server.dsn)
        opened.append(connection)
        return connection

    yield factory
    for connection in opened:
        if not connection.closed:
            connection.close()
