"""Prepared deliveries end to end: generated files with real bytes on posix and emulated-tape
storage elements, a search and a delivery asked over GraphQL (gql), prepared by the worker,
downloaded over HTTP (with Range) and WebDAV; the cap, ownership, a killed worker, expiry;
on the embedded path (database cache, worker run in the test) and on Redis (rq worker)."""

from __future__ import annotations

import io
import threading
import time
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
import sqlalchemy as sa
from flask import Flask
from gql import Client, GraphQLRequest
from gql.transport.exceptions import TransportQueryError
from gql.transport.requests import RequestsHTTPTransport
from werkzeug.serving import make_server

from bookkeeping.aggregation.cache import DatabaseCache
from bookkeeping.aggregation.deliveries import DeliveryStore
from bookkeeping.aggregation.preparation import Preparer
from bookkeeping.aggregation.runtime import Aggregation
from bookkeeping.aggregation.tables import deliveries
from bookkeeping.amga_adapter.engine.system_tables import users
from bookkeeping.engines import create_engine
from bookkeeping.generator import generate_reports
from bookkeeping.schema import metadata
from bookkeeping.scratch import scratch_database
from bookkeeping.storage.materialise import Materialiser
from bookkeeping.storage.registry import StorageRegistry
from bookkeeping.warehouse.reader import WarehouseBookkeeping
from bookkeeping.warehouse.store import WarehouseWriter
from tests.aggregation.conftest import REDIS_URL, close_app, free_port, make_app
from webui.tokens import create_token

FILES = 40
SEED = 23
FILTER = {"configName": "LHCb"}  # visible files, about a third of them only on tape

PREPARE = """
mutation ($filter: SearchFilter!) {
  prepareDelivery(filter: $filter) { queryId state total }
}
"""
SEARCH = """
query ($filter: SearchFilter!) {
  search(filter: $filter, first: 1000) {
    queryId total checksum files { lfn size adler32 }
    delivery { state progress done total reason archiveUrl directoryUrl webdavUrl expiresAt }
  }
}
"""


@pytest.fixture(scope="module")
def storage_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    with materialised_database(tmp_path_factory.mktemp("storage")) as made:
        yield made


@contextmanager
def materialised_database(root: Path) -> Iterator[tuple[str, Path]]:
    """Generated productions whose files have real bytes on SEs (bk generate --materialise)."""
    with scratch_database("sqlite", None) as database:
        engine = create_engine(database.url)
        metadata.create_all(engine)
        with engine.begin() as connection:
            connection.execute(
                users.insert(),
                [{"name": n, "password_hash": None} for n in ("root", "alice", "bob")],
            )
        materialiser = Materialiser(StorageRegistry(engine), root, SEED, 100_000)
        try:
            reports = list(materialiser.reports(generate_reports(FILES, seed=SEED)))
        finally:
            materialiser.close()
        WarehouseWriter(engine).record_batch(reports)
        engine.dispose()
        yield database.url, root


@pytest.fixture
def app(
    storage_db: tuple[str, Path], tmp_path: Path, cache_kind: str, request: pytest.FixtureRequest
) -> Iterator[Flask]:
    from tests.aggregation.conftest import empty_aggregation_tables

    config: dict[str, Any] = {"AGGREGATION_STALE_AFTER": 1}
    config.update(getattr(request, "param", {}))
    if cache_kind == "redis":
        prefix = request.getfixturevalue("redis_prefix")
        config.update(
            AGGREGATION_REDIS_URL=REDIS_URL,
            AGGREGATION_REDIS_PREFIX=prefix,
            AGGREGATION_WORKER="rq",
        )
    application = make_app(storage_db[0], tmp_path / "buffer", **config)
    empty_aggregation_tables(application)
    try:
        yield application
    finally:
        close_app(application)


@pytest.fixture
def served(app: Flask) -> Iterator[str]:
    server = make_server("127.0.0.1", free_port(), app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(10)


def token_for(app: Flask, user: str) -> str:
    return create_token(app.extensions["bookkeeping"].engine, user)


def run(base: str, token: str, document: str, **variables: Any) -> dict[str, Any]:
    transport = RequestsHTTPTransport(
        url=f"{base}/graphql", headers={"Authorization": f"Bearer {token}"}, timeout=60
    )
    with Client(transport=transport) as session:
        return session.execute(GraphQLRequest(document, variable_values=variables))  # type: ignore[no-any-return]


def work(app: Flask) -> None:
    """Run the worker until nothing is claimable: the embedded worker in this thread, or an
    rq worker in burst mode on the Redis queue."""
    service: Aggregation = app.extensions["aggregation"]
    if service.settings.worker == "rq":
        from bookkeeping.aggregation.worker import serve

        serve(service, burst=True)
    else:
        while service.run_once("test-worker"):
            pass


def bookkeeping_checksums(app: Flask, lfns: list[str]) -> dict[str, str]:
    reader = app.extensions["aggregation"].reader
    return {r.lfn: r.checksum for r in reader.files_metadata(lfns).found}


def test_a_prepared_delivery_holds_exactly_the_searched_files(app: Flask, served: str) -> None:
    alice = token_for(app, "alice")
    queued = run(served, alice, PREPARE, filter=FILTER)["prepareDelivery"]
    assert queued["state"] == "QUEUED" and queued["total"] > 0
    work(app)
    answer = run(served, alice, SEARCH, filter=FILTER)["search"]
    delivery = answer["delivery"]
    assert delivery["state"] == "READY", delivery
    assert delivery["done"] == delivery["total"] == answer["total"] and delivery["progress"] == 1
    searched = sorted(f["lfn"] for f in answer["files"])
    expected = bookkeeping_checksums(app, searched)

    archive = requests.get(delivery["archiveUrl"], timeout=60)
    assert archive.status_code == 200
    with zipfile.ZipFile(io.BytesIO(archive.content)) as zipped:
        names = sorted(n for n in zipped.namelist() if n.startswith("files/"))
        assert names == sorted("files" + lfn for lfn in searched)
        for lfn in searched:
            data = zipped.read("files" + lfn)
            assert f"{zlib.adler32(data) & 0xFFFFFFFF:08x}" == expected[lfn]
        manifest = zipped.read("MANIFEST.tsv").decode().splitlines()
    rows = [line.split("\t") for line in manifest[2:]]
    assert sorted(r[0] for r in rows) == searched and {r[3] for r in rows} == {"yes"}
    tape = [r for r in rows if "-TAPE:" in r[4]]
    assert tape, "some searched files were only on the emulated tape"
    service: Aggregation = app.extensions["aggregation"]
    reader = service.reader
    for row in tape:  # read from tape because no disk or recalled copy existed
        record = reader.file_by_lfn(row[0])
        assert record is not None
        classes = {
            c.storage_class
            for c in reader.replicas(record.file_id)
            if c.status == "available" and c.se
        }
        assert classes == {"tape"}

    # Range: a middle slice of the archive, 206 Partial Content.
    part = requests.get(delivery["archiveUrl"], headers={"Range": "bytes=100-199"}, timeout=60)
    assert part.status_code == 206 and part.content == archive.content[100:200]
    # The directory over HTTP and over WebDAV (read-only).
    page = requests.get(delivery["directoryUrl"], timeout=60)
    assert page.status_code == 200 and searched[0] in page.text
    listing = requests.request(
        "PROPFIND",
        delivery["webdavUrl"] + "files" + searched[0].rsplit("/", 1)[0] + "/",
        headers={"Depth": "1"},
        timeout=60,
    )
    assert listing.status_code == 207 and searched[0].rsplit("/", 1)[1] in listing.text
    fetched = requests.get(delivery["webdavUrl"] + "files" + searched[0], timeout=60)
    assert f"{zlib.adler32(fetched.content) & 0xFFFFFFFF:08x}" == expected[searched[0]]
    refused = requests.put(delivery["webdavUrl"] + "files/new.txt", data=b"x", timeout=60)
    assert refused.status_code in (403, 405)


def test_deliveries_belong_to_their_requester(app: Flask, served: str) -> None:
    alice, bob = token_for(app, "alice"), token_for(app, "bob")
    query = run(served, alice, PREPARE, filter=FILTER)["prepareDelivery"]["queryId"]
    work(app)
    assert run(served, alice, SEARCH, filter=FILTER)["search"]["delivery"]["state"] == "READY"
    # Bob computes the same query id, but sees no delivery of Alice's by it.
    assert run(served, bob, SEARCH, filter=FILTER)["search"]["delivery"] is None
    found = run(
        served,
        bob,
        "query ($q: String!) { delivery(queryId: $q) { state } me { deliveries { queryId } } }",
        q=query,
    )
    assert found == {"delivery": None, "me": {"deliveries": []}}
    # URLs built from the query id instead of the token lead nowhere.
    assert (
        requests.get(
            f"{served}/aggregation/deliveries/{query}/delivery.zip", timeout=30
        ).status_code
        == 404
    )
    assert requests.get(f"{served}/aggregation/dav/{query}/", timeout=30).status_code == 404


@pytest.mark.parametrize("app", [{"AGGREGATION_MAX_FILES": 3}], indirect=True)
def test_a_delivery_over_the_cap_is_refused(app: Flask, served: str) -> None:
    with pytest.raises(TransportQueryError) as caught:
        run(served, token_for(app, "alice"), PREPARE, filter=FILTER)
    error = caught.value.errors[0]
    assert "over the cap of 3 files" in error["message"]
    assert error["extensions"]["code"] == 363
    assert app.extensions["aggregation"].deliveries.of_owner("alice") == []


class StopsAfter:
    """A file source that dies after ``count`` files, as a killed worker does."""

    def __init__(self, inner: Any, count: int) -> None:
        self.inner = inner
        self.count = count
        self.fetched: list[str] = []

    def fetch(self, lfn: str, destination: Path) -> Any:
        if len(self.fetched) >= self.count:
            raise KeyboardInterrupt("worker killed")
        self.fetched.append(lfn)
        return self.inner.fetch(lfn, destination)


def test_a_killed_worker_is_resumed_never_shown_ready(app: Flask, served: str) -> None:
    service: Aggregation = app.extensions["aggregation"]
    alice = token_for(app, "alice")
    run(served, alice, PREPARE, filter=FILTER)
    claimed = service.deliveries.claim("doomed")
    assert claimed is not None
    dying = StopsAfter(service.file_source(), 3)
    with pytest.raises(KeyboardInterrupt):
        Preparer(service.deliveries, service.reader, dying).run(claimed, "doomed")
    middle = run(served, alice, SEARCH, filter=FILTER)["search"]["delivery"]
    assert middle["state"] == "COPYING" and middle["done"] == 3 and middle["archiveUrl"] is None
    # Another worker takes it over once the heartbeat is stale (1 s here) and copies the rest.
    resumed = StopsAfter(service.file_source(), 10_000)
    deadline = time.monotonic() + 20
    again = None
    while again is None and time.monotonic() < deadline:
        again = service.deliveries.claim("second")
        if again is None:
            time.sleep(0.2)
    assert again is not None and again.attempts == 2
    Preparer(service.deliveries, service.reader, resumed).run(again, "second")
    final = run(served, alice, SEARCH, filter=FILTER)["search"]
    assert final["delivery"]["state"] == "READY"
    assert len(resumed.fetched) == final["total"] - 3
    assert not set(resumed.fetched) & set(dying.fetched)


@pytest.mark.parametrize("app", [{"AGGREGATION_DELIVERY_TTL": 3600}], indirect=True)
def test_an_unused_delivery_expires_with_its_cache_entry(app: Flask, served: str) -> None:
    service: Aggregation = app.extensions["aggregation"]
    alice = token_for(app, "alice")
    query = run(served, alice, PREPARE, filter=FILTER)["prepareDelivery"]["queryId"]
    work(app)
    row = service.deliveries.find("alice", query, "original")
    assert row is not None and row.state == "ready"
    directory = service.deliveries.directory(row)
    assert (directory / "delivery.zip").is_file() and service.cache.contains(query)
    assert service.expire() == 0  # used just now: an hour to live
    # Its last use an hour and a second ago, as if the time had passed. (A time to live of
    # one second raced the workers: each run expires what is due before it prepares.)
    with service.deliveries.engine.begin() as connection:
        connection.execute(
            deliveries.update()
            .where(deliveries.c.id == row.id)
            .values(last_used_at=row.last_used_at - timedelta(seconds=3601))
        )
    assert service.expire() == 1
    assert not directory.exists() and not directory.parent.exists()
    assert not service.cache.contains(query)
    gone = run(served, alice, SEARCH, filter=FILTER)["search"]
    assert gone["delivery"]["state"] == "EXPIRED" and not gone["delivery"]["archiveUrl"]
    assert (
        requests.get(
            f"{served}/aggregation/deliveries/{row.token}/delivery.zip", timeout=30
        ).status_code
        == 404
    )


def test_the_bookkeeping_changing_fails_the_delivery_clearly(storage_db, tmp_path) -> None:  # type: ignore[no-untyped-def]
    engine = create_engine(storage_db[0])
    try:
        from bookkeeping.aggregation.deliveries import DeliverySettings
        from bookkeeping.aggregation.filters import from_mapping
        from bookkeeping.aggregation.service import SearchService

        reader = WarehouseBookkeeping(engine)
        store = DeliveryStore(engine, DeliverySettings(tmp_path))
        search = from_mapping({"configName": "LHCb", "sizeMin": 1})
        answer = SearchService(reader, DatabaseCache(engine, 60)).search(search, 0)
        row = store.request(
            "carol", search, checksum="0" * 32, total=answer.total, total_bytes=answer.total_bytes
        )
        claimed = store.claim("w", row.id)
        assert claimed is not None
        Preparer(store, reader, StopsAfter(None, 0)).run(claimed, "w")
        failed = store.get(row.id)
        assert failed is not None and failed.state == "failed"
        assert "the bookkeeping changed since the search" in (failed.reason or "")
        assert not list(tmp_path.iterdir())
    finally:
        engine.dispose()


def test_files_only_on_tape_are_recalled_by_the_daemon_first(tmp_path: Path) -> None:
    """The data-handling recall daemon (its worker, run here in a thread) brings the
    delivery's tape-only files to a recall area in one request; the delivery reads them
    from there, and releases the pins when done."""
    from bookkeeping.aggregation.filters import from_mapping
    from bookkeeping.aggregation.runtime import AggregationSettings
    from bookkeeping.aggregation_recall import DaemonRecaller
    from bookkeeping.datahandling.config import DataHandlingConfig
    from bookkeeping.datahandling.storage import ElementCache
    from bookkeeping.datahandling.tables import pins
    from bookkeeping.datahandling.worker import RecallWorker

    with materialised_database(tmp_path / "storage") as (url, _root):
        engine = create_engine(url)
        reader = WarehouseBookkeeping(engine)
        service = Aggregation(
            engine, reader, AggregationSettings(tmp_path / "buffer", worker="none")
        )
        recallers: list[DaemonRecaller] = []

        def recaller() -> DaemonRecaller:
            made = DaemonRecaller(engine, reader, poll_seconds=0.05, timeout_seconds=120)
            recallers.append(made)
            return made

        service.recaller_factory = recaller
        daemon = RecallWorker(
            engine,
            reader,
            WarehouseWriter(engine),
            ElementCache(engine),
            me="recall-test",
            config=DataHandlingConfig(),
        )
        stop = threading.Event()

        def serve() -> None:
            while not stop.is_set():
                daemon.run_once()
                stop.wait(0.05)

        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        try:
            search = from_mapping(FILTER)
            answer = service.searches.search(search, 0)
            tape_only = [
                lfn
                for lfn in (f.lfn for f in service.searches.search(search, 1000).files)
                if service.file_source().tape_only(lfn)
            ]
            assert tape_only
            row = service.deliveries.request(
                "alice",
                search,
                checksum=answer.checksum,
                total=answer.total,
                total_bytes=answer.total_bytes,
            )
            assert service.run_once("w", row.id)
        finally:
            stop.set()
            thread.join(30)
        done = service.deliveries.get(row.id)
        assert done is not None and done.state == "ready", done
        sources = {item.lfn: source for item, source in service.deliveries.manifest(row.id)}
        assert all("-RECALL-" in (sources[lfn] or "") for lfn in tape_only), sources
        assert recallers and recallers[0].areas
        with engine.connect() as connection:  # released when the delivery was ready
            assert (
                connection.execute(
                    sa.select(sa.func.count())
                    .select_from(pins)
                    .where(pins.c.owner == "aggregation")
                ).scalar()
                == 0
            )
        service.close()
        engine.dispose()


def test_a_per_run_composition_merges_each_runs_files(app: Flask, served: str) -> None:
    alice = token_for(app, "alice")
    prepare = """mutation ($filter: SearchFilter!) {
      prepareDelivery(filter: $filter, composition: PER_RUN) { state composition } }"""
    assert run(served, alice, prepare, filter=FILTER)["prepareDelivery"] == {
        "state": "QUEUED", "composition": "PER_RUN"
    }  # fmt: skip
    work(app)
    answer = run(
        served, alice,
        """query ($filter: SearchFilter!) { search(filter: $filter, first: 1000) {
          files { lfn } delivery(composition: PER_RUN) { state archiveUrl } } }""",
        filter=FILTER,
    )["search"]  # fmt: skip
    assert answer["delivery"]["state"] == "READY"
    searched = sorted(f["lfn"] for f in answer["files"])
    expected = bookkeeping_checksums(app, searched)
    reader = app.extensions["aggregation"].reader
    runs = {r.lfn: r.run for r in reader.files_metadata(searched).found}
    archive = requests.get(answer["delivery"]["archiveUrl"], timeout=60).content
    with zipfile.ZipFile(io.BytesIO(archive)) as zipped:
        names = zipped.namelist()
        assert not [n for n in names if n.startswith("files/")]  # merged instead
        manifest = (
            zipped.read("MANIFEST.tsv")
            .decode()
            .split("# composition per-run: file, size, adler32, then its parts\n")[1]
            .splitlines()
        )
        seen: list[str] = []
        merged_name = None
        offset = 0
        data = b""
        for line in manifest:
            fields = line.split("\t")
            if fields[0]:  # a merged file
                merged_name, offset = fields[0], 0
                data = zipped.read(merged_name)
                assert f"{zlib.adler32(data) & 0xFFFFFFFF:08x}" == fields[2]
                continue
            lfn, size = fields[1], int(fields[2])
            part = data[offset : offset + size]
            offset += size
            assert f"{zlib.adler32(part) & 0xFFFFFFFF:08x}" == expected[lfn] == fields[3]
            assert merged_name == (
                f"runs/run{runs[lfn]}.dat" if runs[lfn] is not None else "runs/no-run.dat"
            )
            seen.append(lfn)
    assert sorted(seen) == searched


def test_redis_down_searches_answer_and_deliveries_wait_queued(
    storage_db: tuple[str, Path], tmp_path: Path
) -> None:
    """Nothing listens on the Redis port: searches answer uncached, a delivery request is
    kept queued in the database and says so, and a worker without Redis prepares it."""
    from tests.aggregation.conftest import empty_aggregation_tables

    dead = f"redis://127.0.0.1:{free_port()}/0"
    application = make_app(
        storage_db[0], tmp_path / "buffer", AGGREGATION_REDIS_URL=dead, AGGREGATION_WORKER="rq"
    )
    empty_aggregation_tables(application)
    server = make_server("127.0.0.1", free_port(), application, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        alice = token_for(application, "alice")
        search = run(
            base,
            alice,
            "query ($filter: SearchFilter!) { search(filter: $filter) "
            "{ total cached cacheStatus } }",
            filter=FILTER,
        )["search"]
        assert search["cacheStatus"] == "unavailable" and not search["cached"]
        assert search["total"] > 0
        with pytest.raises(TransportQueryError) as caught:
            run(base, alice, PREPARE, filter=FILTER)
        error = caught.value.errors[0]
        assert "the job queue (Redis) is unreachable" in error["message"]
        assert "waits queued" in error["message"] and error["extensions"]["code"] == 366
        service: Aggregation = application.extensions["aggregation"]
        (row,) = service.deliveries.of_owner("alice")
        assert row.state == "queued"
        assert service.run_once("no-redis")  # bk aggregation run-once needs no Redis
        done = service.deliveries.get(row.id)
        assert done is not None and done.state == "ready"
    finally:
        server.shutdown()
        thread.join(10)
        close_app(application)
