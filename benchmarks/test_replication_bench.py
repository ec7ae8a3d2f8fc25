"""Replication, measured on a real PostgreSQL primary with one streaming standby.

Run (as root, with PostgreSQL 15's binaries; everything bounded, about 5 minutes here):
``.venv/bin/pytest benchmarks/test_replication_bench.py -s -p no:randomly``. Figures are
printed and written to ``$BK_BENCH_OUT`` (default: a temporary folder) as JSON.

* **Reads spread over a standby**: the benchmark suite's random call mix
  (``bookkeeping.bench.callmix``) on the catalogue bookkeeping, ``CLIENTS`` client processes
  (``forkserver``) of ``CALLS`` calls each, once against the primary alone and once with the
  standby as a read replica; throughput = all calls / (last finish - common start).
* **Standby replay**: how long after a commit on the primary a row is visible on the
  standby (polled every 0.5 ms).
* **Subtree replica lag**: a PostgreSQL master written at ``RATE`` entries a second for
  ``SECONDS`` (``BATCH`` entries a transaction) while a ``SubtreeReplica`` replays into an
  SQLite slave; the lag (age of the oldest record not yet applied) sampled every 50 ms;
  then the slave is compared with the master entry by entry.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from bookkeeping.amga_adapter.engine.catalogue import Catalogue
from bookkeeping.bench.callmix import Call, call_stream, run_stream, sample_pools
from bookkeeping.bench.data import populate
from bookkeeping.bootstrap import initialise
from bookkeeping.engines import create_engine
from bookkeeping.replication import pgcluster
from bookkeeping.replication.pgcluster import PgCluster
from bookkeeping.replication.subtrees import SubtreeReplica

FILES = int(os.environ.get("BK_BENCH_REPLICATION_FILES", "400"))
CLIENTS = int(os.environ.get("BK_BENCH_REPLICATION_CLIENTS", "16"))
CALLS = int(os.environ.get("BK_BENCH_REPLICATION_CALLS", "25"))
RATE = 100  # entries written a second
BATCH = 10  # entries per write transaction (10 transactions a second)
SECONDS = 5.0
RUN_TIMEOUT = 900.0
SEED = 20


@pytest.fixture(scope="module")
def results() -> Iterator[dict[str, Any]]:
    found: dict[str, Any] = {"machine_load_1min": os.getloadavg()[0]}
    yield found
    out = Path(os.environ.get("BK_BENCH_OUT") or tempfile.mkdtemp(prefix="bk-repl-bench-"))
    out.mkdir(parents=True, exist_ok=True)
    (out / "replication.json").write_text(json.dumps(found, indent=2))
    print(f"\nreplication figures: {json.dumps(found, indent=2)}\nwritten to {out}")


@pytest.fixture(scope="module")
def cluster() -> Iterator[PgCluster]:
    reason = pgcluster.available()
    if reason:
        pytest.skip(reason)
    with PgCluster() as built:
        built.add_standby()
        admin = create_engine(built.primary.url())  # type: ignore[union-attr]
        with admin.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(
                "CREATE DATABASE bk"
            )
        admin.dispose()
        engine = create_engine(built.primary.url("bk"))  # type: ignore[union-attr]
        initialise(engine, root_password="bench")
        unavailable = populate(engine, FILES, SEED)
        assert not unavailable, unavailable
        engine.dispose()
        _wait_replayed(built)
        yield built


def _wait_replayed(cluster: PgCluster) -> None:
    primary = sa.create_engine(cluster.primary.url(), poolclass=sa.NullPool)  # type: ignore[union-attr]
    standby = sa.create_engine(cluster.standbys[0].url(), poolclass=sa.NullPool)
    with primary.connect() as connection:
        lsn = connection.execute(sa.text("SELECT pg_current_wal_lsn()")).scalar()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        with standby.connect() as connection:
            done = connection.execute(
                sa.text("SELECT pg_last_wal_replay_lsn() >= CAST(:l AS pg_lsn)"), {"l": lsn}
            ).scalar()
        if done:
            break
        time.sleep(0.05)
    primary.dispose()
    standby.dispose()


def _client(url: str, replicas: list[str], calls: list[Call], start_at: float) -> dict[str, Any]:
    from bookkeeping.backends import open_bookkeeping
    from bookkeeping.replication.routing import attach_replicas

    engine = create_engine(url, pool_size=2)
    router = attach_replicas(engine, replicas, pool_size=2) if replicas else None
    bookkeeping = open_bookkeeping(engine, "catalogue")
    delay = start_at - time.monotonic()
    if delay > 0:
        time.sleep(delay)
    started = time.monotonic()
    mix = run_stream(bookkeeping, calls)
    finished = time.monotonic()
    # Calls that miss on purpose raise by design (the call mix asks for ~10% that do not
    # exist); count only the failures that are not a plain "not found".
    errors = sum(count for count, _ in mix.errors.values())
    replica_reads = router.replicas[0].reads if router else 0
    primary_reads = router.primary_reads if router else 0
    engine.dispose()
    return {
        "started": started,
        "finished": finished,
        "errors": errors,
        "replica_reads": replica_reads,
        "primary_reads": primary_reads,
    }


def _run_clients(url: str, replicas: list[str], streams: list[list[Call]]) -> dict[str, Any]:
    context = multiprocessing.get_context("forkserver")
    start_at = time.monotonic() + 8.0  # every client imported and connected by then
    with context.Pool(len(streams)) as pool:
        pending = [
            pool.apply_async(_client, (url, replicas, stream, start_at)) for stream in streams
        ]
        outcomes = [p.get(timeout=RUN_TIMEOUT) for p in pending]
    first = min(o["started"] for o in outcomes)
    last = max(o["finished"] for o in outcomes)
    calls = sum(len(s) for s in streams)
    return {
        "calls": calls,
        "seconds": last - first,
        "calls_per_s": calls / (last - first),
        "errors": sum(o["errors"] for o in outcomes),
        "replica_reads": sum(o["replica_reads"] for o in outcomes),
        "primary_reads": sum(o["primary_reads"] for o in outcomes),
    }


@pytest.mark.timeout(RUN_TIMEOUT * 2)
def test_call_mix_throughput_with_and_without_a_standby(
    cluster: PgCluster, results: dict[str, Any]
) -> None:
    url = cluster.primary.url("bk")  # type: ignore[union-attr]
    engine = create_engine(url)
    pools = sample_pools(engine, SEED)
    engine.dispose()
    streams = [call_stream(pools, CALLS, SEED + n) for n in range(CLIENTS)]
    single = _run_clients(url, [], streams)
    spread = _run_clients(url, [cluster.standbys[0].url("bk")], streams)
    results["call_mix"] = {
        "clients": CLIENTS,
        "calls_per_client": CALLS,
        "files": FILES,
        "primary_only": single,
        "with_standby": spread,
        "ratio": spread["calls_per_s"] / single["calls_per_s"],
    }
    assert spread["replica_reads"] > 0  # the standby did serve reads
    assert spread["errors"] == single["errors"]  # the same calls fail (those that miss)


def test_standby_replay_delay(cluster: PgCluster, results: dict[str, Any]) -> None:
    primary = create_engine(cluster.primary.url("bk"))  # type: ignore[union-attr]
    standby = create_engine(cluster.standbys[0].url("bk"))
    with primary.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE IF NOT EXISTS replay_probe (n int)")
    _wait_replayed(cluster)
    delays = []
    with primary.connect() as writer, standby.connect() as reader:
        reader = reader.execution_options(isolation_level="AUTOCOMMIT")
        for n in range(200):
            writer.execute(sa.text("INSERT INTO replay_probe VALUES (:n)"), {"n": n})
            writer.commit()
            committed = time.perf_counter()
            query = sa.text("SELECT 1 FROM replay_probe WHERE n = :n")
            while reader.execute(query, {"n": n}).first() is None:
                if time.perf_counter() - committed > 10:
                    pytest.fail(f"row {n} not on the standby after 10 s")
                time.sleep(0.0005)
            delays.append(time.perf_counter() - committed)
    primary.dispose()
    standby.dispose()
    delays.sort()
    results["standby_replay_ms"] = {
        "samples": len(delays),
        "median": statistics.median(delays) * 1000,
        "p95": delays[int(len(delays) * 0.95)] * 1000,
        "max": delays[-1] * 1000,
    }


def test_subtree_replica_lag_at_a_hundred_writes_a_second(
    cluster: PgCluster, results: dict[str, Any], tmp_path: Path
) -> None:
    master = create_engine(cluster.primary.url("bk"))  # type: ignore[union-attr]
    slave = create_engine(f"sqlite:///{tmp_path}/site.sqlite")
    initialise(slave, root_password="bench")
    writer = Catalogue(master).session("root")
    writer.createdir("/lagtest")
    writer.addattr("/lagtest", "n", "int")
    replica = SubtreeReplica(master, slave, "/lagtest")
    replica.bootstrap()
    stop = threading.Event()
    shipper = threading.Thread(target=replica.run, args=(stop, 0.02))
    shipper.start()
    lags: list[float] = []
    sampling = threading.Event()

    def sample() -> None:
        while not sampling.is_set():
            lags.append(replica.status().lag_s)
            sampling.wait(0.05)

    sampler = threading.Thread(target=sample)
    sampler.start()
    started = time.monotonic()
    total = int(RATE * SECONDS)
    behind = 0.0
    for first in range(0, total, BATCH):
        due = started + first / RATE
        delay = due - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        else:
            behind = max(behind, -delay)
        writer.addentries("/lagtest", [(f"e{n}", {"n": n}) for n in range(first, first + BATCH)])
    written_in = time.monotonic() - started
    sampling.set()
    sampler.join(30)
    caught_up_at = time.monotonic()
    while replica.status().pending and time.monotonic() - caught_up_at < 60:
        time.sleep(0.02)
    catch_up = time.monotonic() - caught_up_at
    stop.set()
    shipper.join(60)
    master_rows = sorted(writer.getattr("/lagtest/*", ["n"]))
    slave_rows = sorted(Catalogue(slave).session("root").getattr("/lagtest/*", ["n"]))
    lags.sort()
    results["subtree_lag"] = {
        "writes": total,
        "entries_per_transaction": BATCH,
        "target_rate": RATE,
        "achieved_rate": total / written_in,
        "writer_fell_behind_s": behind,
        "lag_median_s": statistics.median(lags),
        "lag_p95_s": lags[int(len(lags) * 0.95)],
        "lag_max_s": lags[-1],
        "catch_up_after_last_write_s": catch_up,
        "equal_entry_by_entry": master_rows == slave_rows,
    }
    master.dispose()
    slave.dispose()
    assert master_rows == slave_rows
