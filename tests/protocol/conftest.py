"""Fixtures: a catalogue with users on every back-end, a live server, logged-in clients."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bookkeeping.amga_adapter.client.client import MDClient
from bookkeeping.amga_adapter.client.federation import FederatedClient
from bookkeeping.amga_adapter.engine.passwords import hash_password
from bookkeeping.amga_adapter.engine.system_tables import users
from bookkeeping.engines import create_engine, write_transaction
from bookkeeping.schema import metadata
from bookkeeping.scratch import scratch_database, server_url
from tests.conftest import BACKENDS
from tests.protocol.pki import make_pki
from tests.protocol.serving import RunningServer, running_server

ROOT_PASSWORD = "root-secret"
ALICE_PASSWORD = "alice-secret"
ALICE_DN = "/C=CH/O=Test Lab/CN=Alice Example"


def _new_catalogue(engine: Engine) -> Any:
    from bookkeeping.amga_adapter.engine.catalogue import Catalogue

    with write_transaction(engine) as connection:
        connection.execute(
            users.insert(),
            [
                {"name": "root", "password_hash": hash_password(ROOT_PASSWORD)},
                {"name": "anonymous", "password_hash": None},
            ],
        )
    catalogue = Catalogue(engine)
    catalogue.add_user("root", "alice", password=ALICE_PASSWORD, dn=ALICE_DN)
    return catalogue


@pytest.fixture(scope="module", params=BACKENDS)
def module_catalogue(request: pytest.FixtureRequest) -> Iterator[Any]:
    """One scratch database and catalogue per test module and back-end (a fresh database
    per test costs seconds on the server back-ends); ``catalogue`` empties it after each test."""
    backend: str = request.param
    with scratch_database(backend, server_url(backend)) as database:
        engine = create_engine(database.url)
        metadata.create_all(engine)
        try:
            yield _new_catalogue(engine)
        finally:
            engine.dispose()


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """CA, server and client certificates (alice's DN is known, the stranger's is not)."""
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def module_server(module_catalogue: Any) -> Iterator[RunningServer]:
    with running_server(module_catalogue) as running:
        yield running


@pytest.fixture
def catalogue(module_catalogue: Any) -> Iterator[Any]:
    yield module_catalogue
    session = module_catalogue.session("root")
    try:
        for path, kind in list(session.dir("/")):
            if kind.startswith("collection"):
                session.rmdir(path, recursive=True)
            else:
                session.rm(path)
    finally:
        session.close()


@pytest.fixture
def amga(module_server: RunningServer, catalogue: Any) -> RunningServer:
    return module_server


@pytest.fixture
def root(amga: RunningServer) -> Iterator[MDClient]:
    with MDClient("127.0.0.1", amga.port, "root", ROOT_PASSWORD) as client:
        yield client


@pytest.fixture
def alice(amga: RunningServer) -> Iterator[MDClient]:
    with MDClient("127.0.0.1", amga.port, "alice", ALICE_PASSWORD) as client:
        yield client


@pytest.fixture
def jobs(root: MDClient) -> MDClient:
    root.createDir("/jobs")
    root.addAttr("/jobs", "JOB_ID", "int")
    root.addAttr("/jobs", "CONFIGNAME", "varchar(32)")
    root.addAttr("/jobs", "Size", "int")
    for job_id, config, size in [(1, "MC", 100), (2, "MC", 300), (3, "DATA", 50)]:
        root.addEntry(f"/jobs/j{job_id}", ["JOB_ID", "CONFIGNAME", "Size"], [job_id, config, size])
    return root


@dataclass
class Site:
    server: RunningServer
    engine: sa.Engine

    @property
    def url(self) -> str:
        return f"amga://127.0.0.1:{self.server.port}"


@contextmanager
def second_catalogue_server(**settings: Any) -> Iterator[Site]:
    """A second catalogue (always SQLite: root, and alice with her DN) with its own server."""
    from bookkeeping.amga_adapter.engine.catalogue import Catalogue

    with scratch_database("sqlite") as database:
        engine = create_engine(database.url)
        metadata.create_all(engine)
        with write_transaction(engine) as connection:
            connection.execute(
                users.insert(), {"name": "root", "password_hash": hash_password(ROOT_PASSWORD)}
            )
        catalogue = Catalogue(engine)
        catalogue.add_user("root", "alice", password=ALICE_PASSWORD, dn=ALICE_DN)
        try:
            with running_server(catalogue, **settings) as amga:
                yield Site(amga, engine)
        finally:
            engine.dispose()


@pytest.fixture
def second_site() -> Iterator[Site]:
    with second_catalogue_server() as site:
        yield site


def make_data_directory(port: int, tls_ca: Path | None = None) -> None:
    """``/data`` with an int attribute ``run``, writable by alice."""
    with MDClient("127.0.0.1", port, "root", ROOT_PASSWORD) as root:
        if tls_ca is not None:
            root.requireSSL(ca=str(tls_ca))
        root.createDir("/data")
        root.addAttr("/data", "run", "int")
        root.aclAdd("/data", "alice", "rwx")


@pytest.fixture
def federation(amga: RunningServer, second_site: Site) -> Iterator[FederatedClient]:
    for port in (amga.port, second_site.server.port):
        make_data_directory(port)
    mounts = {
        "/": f"amga://127.0.0.1:{amga.port}",
        "/data": [second_site.url, f"amga://127.0.0.1:{amga.port}"],
    }
    client = FederatedClient(mounts, "alice", ALICE_PASSWORD)
    try:
        yield client
    finally:
        client.close()
