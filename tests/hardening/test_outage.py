"""A PostgreSQL restart, and a kill -9, under load: every error is the outage's (code 3, HTTP
503 with Retry-After, a message that says to retry), service comes back by itself, and no
acknowledged write is lost.

The PostgreSQL is the test's own (``bookkeeping.replication.pgcluster``: run as ``postgres``,
its own folder and port), never the machine's.
"""

from __future__ import annotations

import contextlib
import gc
import itertools
import os
import re
import signal
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from bookkeeping.engines import create_engine
from bookkeeping.replication import pgcluster
from bookkeeping.schema import metadata
from tests.protocol.conftest import ROOT_PASSWORD, _new_catalogue
from tests.protocol.rawwire import RawPeer
from tests.protocol.serving import running_server
from tests.waiting import wait_until
from tests.webui.conftest import make_app, populate

WHY_NOT = pgcluster.available()
pytestmark = pytest.mark.skipif(WHY_NOT is not None, reason=str(WHY_NOT))

CLIENTS = 4
LOAD_SECONDS = 60.0  # the bound of the whole load, whatever happens
_STATUS = re.compile(rb"^(\d+)(?: (.*))?$")


def _code(response: bytes) -> tuple[int, str]:
    first = response.split(b"\n", 1)[0]
    match = _STATUS.match(first)
    assert match, f"not a status line: {response[:200]!r}"
    return int(match[1]), (match[2] or b"").decode()


@pytest.fixture(scope="module")
def cluster() -> Iterator[pgcluster.PgCluster]:
    with pgcluster.PgCluster() as own:
        yield own


# A server-side cursor on a connection the server terminated cannot be closed any more;
# psycopg says so (ResourceWarning) when it is collected. That is the outage, not a leak.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_a_postgresql_restart_under_load_is_code_3_and_503_then_service_resumes(
    cluster: pgcluster.PgCluster,
) -> None:
    server = cluster.primary
    assert server is not None
    url = server.url("postgres")
    populate(url, files=40)
    engine = create_engine(url)
    metadata.create_all(engine)
    catalogue = _new_catalogue(engine)
    session = catalogue.session("root")
    session.createdir("/data")
    session.addattr("/data", "n", "int")
    for index in range(20):
        session.addentry(f"/data/e{index}", {"n": index})

    codes: Counter[int] = Counter()
    messages: dict[int, str] = {}
    stop = threading.Event()
    failures: list[BaseException] = []

    def load(port: int) -> None:
        try:
            peer = RawPeer(port)
            peer.login("root", ROOT_PASSWORD)
            started = time.monotonic()
            while not stop.is_set() and time.monotonic() - started < LOAD_SECONDS:
                code, message = _code(peer.command("getattr /data/* n"))
                codes[code] += 1
                messages.setdefault(code, message)
            peer.close()
        except BaseException as exc:  # reported by the main thread
            failures.append(exc)

    app = make_app(url)
    catalogue_app = make_app(url, BOOKKEEPING_BACKEND="catalogue")
    web, catalogue_web = app.test_client(), catalogue_app.test_client()
    with running_server(catalogue) as running:
        threads = [threading.Thread(target=load, args=(running.port,)) for _ in range(CLIENTS)]
        for thread in threads:
            thread.start()
        try:
            wait_until(lambda: codes[0] >= CLIENTS * 5, "the load runs", timeout=30)
            cluster.stop(server)  # fast shutdown: sessions terminated, then refused
            seen_before = sum(codes.values())
            wait_until(
                lambda: codes[3] >= CLIENTS, "commands answer code 3 during the outage", timeout=30
            )
            _expect_503(web, "/api/v1/browse")
            _expect_503(catalogue_web, "/api/v1/catalogue/?path=/")
            with RawPeer(running.port) as newcomer:  # a login during the outage
                newcomer.login("root", ROOT_PASSWORD)
                code, message = _code(newcomer.command("pwd"))
                assert code == 3, message
            cluster.start(server)
            recovered = codes[0]
            wait_until(lambda: codes[0] > recovered + CLIENTS * 5, "service resumes", timeout=60)
            assert web.get("/api/v1/browse").status_code == 200
            assert catalogue_web.get("/api/v1/catalogue/?path=/").status_code == 200
        finally:
            stop.set()
            for thread in threads:
                thread.join(LOAD_SECONDS)
            for application in (app, catalogue_app):
                application.extensions["bookkeeping"].engine.dispose()
            engine.dispose()
    del running, session, catalogue  # the server is shut down: nothing holds its cursors
    gc.collect()  # the cursors the outage killed are collected here, under the filter
    assert not failures, failures
    assert seen_before > 0
    # Nothing but success and the outage's code, whose message says what to do.
    assert set(codes) <= {0, 3}, (codes, messages)
    assert "retry" in messages[3], messages[3]


def _expect_503(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 503, (path, response.status_code, response.get_data()[:300])
    assert response.headers["Retry-After"].isdigit()
    body = response.get_json()
    assert body["details"]["code"] == 3 and "retry" in body["message"], body


def _crash(cluster: pgcluster.PgCluster, server: pgcluster.PgServer) -> None:
    """kill -9 of the test's own PostgreSQL: the postmaster and every backend at once (a
    machine or OOM-killer crash, not a shutdown), then the cluster's wait for the port."""
    assert server.process is not None
    children = Path(f"/proc/{server.process.pid}/task/{server.process.pid}/children")
    backends = [int(pid) for pid in children.read_text().split()]
    server.process.send_signal(signal.SIGKILL)
    for pid in backends:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    cluster.kill(server)  # reaps the postmaster, waits until the port refuses


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_a_postgresql_killed_under_write_load_loses_no_acknowledged_write(
    cluster: pgcluster.PgCluster,
) -> None:
    server = cluster.primary
    assert server is not None
    admin = sa.create_engine(server.url("postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql("DROP DATABASE IF EXISTS killed")
        connection.exec_driver_sql("CREATE DATABASE killed")
    admin.dispose()
    url = server.url("killed")
    populate(url, files=10)
    engine = create_engine(url)
    catalogue = _new_catalogue(engine)
    session = catalogue.session("root")
    session.createdir("/w")
    session.addattr("/w", "n", "int")
    session.close()

    codes: Counter[int] = Counter()
    messages: dict[int, str] = {}
    acknowledged: list[str] = []
    stop = threading.Event()
    failures: list[BaseException] = []

    def write(port: int, client: int) -> None:
        try:
            with RawPeer(port) as peer:
                peer.login("root", ROOT_PASSWORD)
                started = time.monotonic()
                for index in itertools.count():
                    if stop.is_set() or time.monotonic() - started > LOAD_SECONDS:
                        break
                    name = f"c{client}_{index}"
                    code, message = _code(peer.command(f"addentry /w/{name} n {index}"))
                    codes[code] += 1
                    messages.setdefault(code, message)
                    if code == 0:
                        acknowledged.append(name)
        except BaseException as exc:  # reported by the main thread
            failures.append(exc)

    catalogue_app = make_app(url, BOOKKEEPING_BACKEND="catalogue")
    catalogue_web = catalogue_app.test_client()
    try:
        with running_server(catalogue) as running:
            threads = [
                threading.Thread(target=write, args=(running.port, client))
                for client in range(CLIENTS)
            ]
            for thread in threads:
                thread.start()
            try:
                wait_until(lambda: codes[0] >= CLIENTS * 5, "the writes run", timeout=30)
                _crash(cluster, server)
                wait_until(
                    lambda: codes[3] >= CLIENTS, "writes answer code 3 while it is down", timeout=30
                )
                _expect_503(catalogue_web, "/api/v1/catalogue/?path=/")
                cluster.start(server)  # crash recovery from the WAL
                recovered = codes[0]
                wait_until(lambda: codes[0] > recovered + CLIENTS * 5, "writes resume", timeout=60)
            finally:
                stop.set()
                for thread in threads:
                    thread.join(LOAD_SECONDS)
            assert not failures, failures
            reader = catalogue.session("root")
            stored = {name for name, _ in reader.getattr("/w/*", ["n"])}
            reader.close()
    finally:
        catalogue_app.extensions["bookkeeping"].engine.dispose()
        engine.dispose()
    del running, catalogue
    gc.collect()
    assert set(codes) <= {0, 3}, (codes, messages)
    assert "retry" in messages[3], messages[3]
    lost = set(acknowledged) - stored
    assert not lost, f"{len(lost)} acknowledged writes lost: {sorted(lost)[:10]}"
    assert len(acknowledged) > CLIENTS * 10
