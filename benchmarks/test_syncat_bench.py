"""Syncat: the message path against the audit, and the end-to-end latencies.

Run: ``BK_TEST_POSTGRES_URL=... .venv/bin/pytest benchmarks/test_syncat_bench.py
--benchmark-only -n 0 -s``. ``BK_BENCH_SYNCAT_FILES`` (default 10000; 100000 for the
issue's target) files are recorded in the catalogue with a copy on a posix SE; PostgreSQL
when ``BK_TEST_POSTGRES_URL`` is set, else SQLite. Messages go through RabbitMQ
(``BK_TEST_RABBITMQ_URL``, default the machine's broker) on queues of the run's own.

- ``test_lost_notices_applied``: that many ``file_lost`` notices (1,000 files a message)
  applied by the catalogue consumer: every copy marked lost and reported.
- ``test_audit``: the consistency audit of the same SE (two snapshots and the listing), with
  a tenth of the files missing: the repair path's time next to the message path's.
- ``test_deletion_to_lost_latency``: files deleted behind the catalogue's back on the posix
  SE at ``BK_BENCH_SYNCAT_RATE`` per second (100) for ``BK_BENCH_SYNCAT_SECONDS`` (10 s);
  the time from each ``unlink`` to its copy's report (written right after the copy was
  marked lost), p50/p99/max.
- ``test_permission_change_latency``: a catalogue chmod of an entry, until the SE's file has
  the new mode (20 changes), p50/p99/max.
"""

from __future__ import annotations

import os
import stat
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bookkeeping.amga_adapter.engine.catalogue import Catalogue
from bookkeeping.amga_adapter.engine.errors import DirectoryExists
from bookkeeping.backends import open_bookkeeping, open_writer
from bookkeeping.bootstrap import initialise
from bookkeeping.engines import create_engine
from bookkeeping.scratch import scratch_database, server_url
from bookkeeping.storage.registry import StorageRegistry
from bookkeeping.syncat.audit import audit
from bookkeeping.syncat.messages import Envelope, MessageType
from bookkeeping.syncat.routing import Routing, send
from bookkeeping.syncat.signing import Signer
from bookkeeping.syncat.tables import received, suspicious
from bookkeeping.syncat.transport import open_transport
from bookkeeping.syncat.transport.amqp import AmqpTransport
from bookkeeping.syncat.trust import generate, trust
from bookkeeping.syncat.wiring import build_service
from bookkeeping.writer.service import record_reports
from tests.syncat.conftest import SITE, lfn, report

FILES = int(os.environ.get("BK_BENCH_SYNCAT_FILES", "10000"))
RATE = float(os.environ.get("BK_BENCH_SYNCAT_RATE", "100"))
SECONDS = float(os.environ.get("BK_BENCH_SYNCAT_SECONDS", "10"))
BROKER = os.environ.get("BK_TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672//")
DATABASE = "postgresql" if server_url("postgresql") else "sqlite"
PER_MESSAGE = 1000
BACKEND = os.environ.get("BK_BENCH_SYNCAT_BACKEND", "warehouse")
WORKERS = int(os.environ.get("BK_BENCH_SYNCAT_WORKERS", "4"))
# consumer daemons (bk syncat serve) instead of threads: each has its own interpreter
PROCESSES = int(os.environ.get("BK_BENCH_SYNCAT_PROCESSES", "0"))


@dataclass
class Site:
    url: str
    engine: Engine
    lfns: list[str]
    root: Path
    key_dir: Path
    se_key: Signer
    routing: Routing


def _populate(engine: Engine, root: Path, count: int) -> list[str]:
    registry = StorageRegistry(engine)
    root.mkdir(parents=True, exist_ok=True)
    registry.add(SITE, f"file://{root}", "offline", site=SITE, exist_ok=True)
    names = [lfn(i) for i in range(count)]
    reports = [report(1 + s // 500, names[s : s + 500]) for s in range(0, count, 500)]
    for result in record_reports(open_writer(engine, BACKEND), reports, batch_size=20):
        assert result.ok, result.error
    # the files' bytes: plain writes (the element's fsync per file would make the set-up
    # the longest part; what is measured reads and deletes them)
    for name in names:
        local = root / name.lstrip("/")
        local.parent.mkdir(parents=True, exist_ok=True)
        local.write_bytes(b"x")
    return names


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    directory = tmp_path_factory.mktemp("syncat-bench")
    with scratch_database(DATABASE, server_url(DATABASE)) as database:
        engine = create_engine(database.url)
        initialise(engine, root_password="bench")
        started = time.perf_counter()
        names = _populate(engine, directory / "se1", FILES)
        took = time.perf_counter() - started
        print(f"\n[syncat] {FILES} files recorded and written in {took:.1f} s")
        se_key = generate(directory / "keys", f"se:{SITE}")
        catalogue_key = generate(directory / "keys", "catalogue")
        trust(engine, se_key.endpoint, se_key.public)
        trust(engine, catalogue_key.endpoint, catalogue_key.public)
        routing = Routing(prefix=f"bench-{uuid.uuid4().hex[:8]}.")
        try:
            yield Site(
                database.url, engine, names, directory / "se1", directory / "keys", se_key, routing
            )
        finally:
            cleanup = AmqpTransport(BROKER)
            for queue in (routing.catalogue, routing.se(SITE)):
                cleanup.delete_queue(queue)
            cleanup.close()
            engine.dispose()


def _applied(engine: Engine) -> int:
    r = received.c
    query = sa.select(sa.func.count()).where(r.endpoint == "catalogue", r.outcome == "applied")
    with engine.connect() as connection:
        return int(connection.scalar(query) or 0)


def _daemon(site: Site) -> subprocess.Popen[bytes]:
    environment = {
        **os.environ,
        "BK_DATABASE_URL": site.url,
        "BK_SYNCAT_BROKER": BROKER,
        "BK_BACKEND": BACKEND,
        "BK_LOG_LEVEL": "WARNING",
    }
    command = [str(Path(sys.executable).parent / "bk"), "syncat", "serve", "--no-relay"]
    return subprocess.Popen([*command, "--prefix", site.routing.prefix], env=environment)


def _percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "n": len(ordered),
        "p50_s": round(statistics.median(ordered), 4),
        "p99_s": round(ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))], 4),
        "max_s": round(ordered[-1], 4),
    }


def test_lost_notices_applied(benchmark, site: Site) -> None:  # noqa: ANN001
    transport = AmqpTransport(BROKER)
    batches = [
        tuple({"path": name} for name in site.lfns[start : start + PER_MESSAGE])
        for start in range(0, FILES, PER_MESSAGE)
    ]
    messages = len(batches)
    if PROCESSES:  # consumer daemons, started (and idle) before the clock
        daemons = [_daemon(site) for _ in range(PROCESSES)]
        service = None
    else:  # consumer threads of this process
        daemons = []
        service = build_service(
            site.engine,
            lambda: open_transport(BROKER, site.engine),
            site.routing,
            site.key_dir,
            backend=BACKEND,
            relay=False,
            workers=WORKERS,
        )

    def drain() -> None:
        if service is not None:
            service.start()
        try:
            for files in batches:  # published inside the clock: the whole path is measured
                envelope = Envelope(
                    MessageType.FILE_LOST, site.se_key.endpoint, "root", SITE, files
                )
                send(transport, site.routing, site.se_key, envelope)
            while _applied(site.engine) < messages:
                time.sleep(0.1)
        finally:
            if service is not None:
                service.shutdown()

    try:
        benchmark.pedantic(drain, rounds=1, iterations=1)
    finally:
        for daemon in daemons:
            daemon.kill()
            daemon.wait(30)
        transport.close()
    seconds = benchmark.stats.stats.max
    with site.engine.connect() as connection:
        reported = connection.scalar(sa.select(sa.func.count()).select_from(suspicious))
    assert reported == FILES
    benchmark.extra_info.update(
        {
            "database": DATABASE,
            "files": FILES,
            "messages": messages,
            "seconds": round(seconds, 2),
            "files_per_second": round(FILES / seconds),
            "consumers": f"{PROCESSES} processes" if PROCESSES else f"{WORKERS} threads",
            "backend": BACKEND,
        }
    )
    consumers = f"{PROCESSES} processes" if PROCESSES else f"{WORKERS} threads"
    print(f"\n[syncat] {FILES} lost notices, {messages} messages, {consumers}, {BACKEND}")
    print(f"[syncat] applied in {seconds:.1f} s on {DATABASE}")


def test_audit(benchmark, site: Site) -> None:  # noqa: ANN001
    # every copy available again (the notices marked them lost), a tenth of the bytes gone
    from bookkeeping.writer.changes import ReplicaKey

    writer = open_writer(site.engine, BACKEND)
    for start in range(0, FILES, 10_000):
        chunk = site.lfns[start : start + 10_000]
        writer.change_replicas(chunk, ReplicaKey(SITE, "disk"), status="available")
    missing = site.lfns[::10]
    for name in missing:
        (site.root / name.lstrip("/")).unlink(missing_ok=True)
    reader = open_bookkeeping(site.engine, BACKEND)
    element = StorageRegistry(site.engine).open(SITE)
    found = benchmark.pedantic(lambda: audit(reader, element), rounds=1, iterations=1)
    benchmark.extra_info.update(
        {
            "database": DATABASE,
            "files": FILES,
            "dark": len(found.dark),
            "lost": len(found.lost),
            "seconds": {k: round(v, 2) for k, v in found.seconds.items()},
        }
    )
    print(
        f"\n[syncat] audit of {FILES} files on {DATABASE}: {found.seconds}, lost {len(found.lost)}"
    )
    assert found.dark == []
    assert found.lost == sorted(missing)


def test_deletion_to_lost_latency(benchmark, site: Site, tmp_path: Path) -> None:  # noqa: ANN001
    total = int(RATE * SECONDS)
    targets = [n for n in site.lfns if (site.root / n.lstrip("/")).exists()][-total:]
    assert len(targets) == total
    # fresh copies on the SE for the run: the earlier benchmarks marked them lost
    writer = open_writer(site.engine, BACKEND)
    from bookkeeping.writer.changes import ReplicaKey

    writer.change_replicas(targets, ReplicaKey(SITE, "disk"), status="available")
    with site.engine.begin() as connection:
        connection.execute(suspicious.delete())
    service = build_service(
        site.engine,
        lambda: open_transport(BROKER, site.engine),
        site.routing,
        site.key_dir,
        backend=BACKEND,
        relay=False,
        ses=[SITE],
        grace=3600,
    )
    service.start()
    time.sleep(1.0)  # the watcher's inotify watches are in place (recursive: once per folder)
    deleted: dict[str, float] = {}

    def run() -> None:
        start = time.time()
        for index, name in enumerate(targets):
            due = start + index / RATE
            pause = due - time.time()
            if pause > 0:
                time.sleep(pause)
            (site.root / name.lstrip("/")).unlink()
            deleted[name] = time.time()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with site.engine.connect() as connection:
                if connection.scalar(sa.select(sa.func.count()).select_from(suspicious)) >= total:
                    return
            time.sleep(0.1)

    try:
        benchmark.pedantic(run, rounds=1, iterations=1)
    finally:
        service.shutdown()
    with site.engine.connect() as connection:
        query = sa.select(suspicious.c.lfn, suspicious.c.reported)
        reported = {row.lfn: row.reported for row in connection.execute(query)}
    assert set(reported) == set(targets)
    figures = _percentiles([reported[n] - deleted[n] for n in targets])
    benchmark.extra_info.update({"database": DATABASE, "rate_per_s": RATE, **figures})
    print(f"\n[syncat] deletion -> marked lost at {RATE}/s on {DATABASE}: {figures}")


def test_permission_change_latency(benchmark, site: Site) -> None:  # noqa: ANN001
    session = Catalogue(site.engine).session("root")
    names = [n for n in site.lfns if (site.root / n.lstrip("/")).exists()][:20]
    directory = names[0].rsplit("/", 1)[0]
    parts = directory.strip("/").split("/")
    for depth in range(1, len(parts) + 1):
        try:
            session.createdir("/" + "/".join(parts[:depth]))
        except DirectoryExists:
            pass
    session.addentries(directory, [(n.rsplit("/", 1)[1], {}) for n in names])
    service = build_service(
        site.engine,
        lambda: open_transport(BROKER, site.engine),
        site.routing,
        site.key_dir,
        backend=BACKEND,
        catalogue_plugins=(),
        ses=[SITE],
        grace=3600,
    )
    service.start()
    latencies: list[float] = []

    def run() -> None:
        for name in names:
            local = site.root / name.lstrip("/")
            started = time.time()
            session.chmod(name, "r--", "r--")
            while stat.S_IMODE(local.stat().st_mode) != 0o444:
                assert time.time() - started < 30
                time.sleep(0.002)
            latencies.append(time.time() - started)

    try:
        benchmark.pedantic(run, rounds=1, iterations=1)
    finally:
        service.shutdown()
        session.close()
    figures = _percentiles(latencies)
    benchmark.extra_info.update({"database": DATABASE, **figures})
    print(f"\n[syncat] catalogue chmod -> SE mode on {DATABASE}: {figures}")
