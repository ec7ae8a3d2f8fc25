"""Read replicas on MariaDB (GTID), measured on a real primary and replica of the test's own.

Run (as root, with mariadbd and mariadb-install-db; about a minute here):
``.venv/bin/pytest benchmarks/test_mariadb_replica_bench.py -s -p no:randomly -n 0``.
Figures are printed and written to ``$BK_BENCH_OUT`` (default: a temporary folder) as JSON.

* **Replica apply delay**: from a commit on the primary to ``MASTER_GTID_WAIT`` on the
  replica returning for its GTID.
* **Write-then-read cycles**: ``CYCLES`` times ``addentry`` then ``getattr`` of that entry in
  one catalogue session, on the primary alone and with the replica attached (read-your-
  writes: ``MASTER_GTID_WAIT`` up to ``replay_wait_s``, else the primary); per cycle time
  and the share of reads the replica served.
"""

from __future__ import annotations

import json
import os
import statistics
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from bookkeeping.amga_adapter.engine.catalogue import Catalogue
from bookkeeping.bootstrap import initialise
from bookkeeping.engines import create_engine, set_read_routing
from bookkeeping.replication import mariacluster
from bookkeeping.replication.mariacluster import MariaCluster
from bookkeeping.replication.routing import attach_replicas

CYCLES = int(os.environ.get("BK_BENCH_MARIADB_CYCLES", "500"))


@pytest.fixture(scope="module")
def results() -> Iterator[dict[str, Any]]:
    found: dict[str, Any] = {"machine_load_1min": os.getloadavg()[0]}
    yield found
    out = Path(os.environ.get("BK_BENCH_OUT") or tempfile.mkdtemp(prefix="bk-maria-bench-"))
    out.mkdir(parents=True, exist_ok=True)
    (out / "mariadb_replica.json").write_text(json.dumps(found, indent=2))
    print(f"\nMariaDB replica figures: {json.dumps(found, indent=2)}\nwritten to {out}")


@pytest.fixture(scope="module")
def cluster() -> Iterator[MariaCluster]:
    reason = mariacluster.available()
    if reason:
        pytest.skip(reason)
    with MariaCluster() as built:
        built.add_replica()
        built.primary.execute("CREATE DATABASE bk")  # type: ignore[union-attr]
        engine = create_engine(built.primary.url("bk"))  # type: ignore[union-attr]
        try:
            initialise(engine, root_password="root-pw")
        finally:
            engine.dispose()
        yield built


def _ms(samples: list[float]) -> dict[str, float]:
    samples = sorted(samples)
    return {
        "samples": len(samples),
        "median": statistics.median(samples) * 1000,
        "p95": samples[int(len(samples) * 0.95)] * 1000,
        "max": samples[-1] * 1000,
    }


def test_replica_apply_delay(cluster: MariaCluster, results: dict[str, Any]) -> None:
    primary = sa.create_engine(cluster.primary.url("bk"), poolclass=sa.NullPool)  # type: ignore[union-attr]
    replica = sa.create_engine(cluster.replicas[0].url("bk"), poolclass=sa.NullPool)
    delays = []
    with primary.connect() as writer, replica.connect() as reader:
        writer.exec_driver_sql("CREATE TABLE IF NOT EXISTS apply_probe (n int)")
        reader = reader.execution_options(isolation_level="AUTOCOMMIT")
        for n in range(200):
            writer.execute(sa.text("INSERT INTO apply_probe VALUES (:n)"), {"n": n})
            writer.commit()
            gtid = writer.exec_driver_sql("SELECT @@last_gtid").scalar()
            committed = time.perf_counter()
            waited = reader.execute(
                sa.text("SELECT MASTER_GTID_WAIT(:g, 10)"), {"g": gtid}
            ).scalar()
            assert waited == 0, f"GTID {gtid} not applied on the replica in 10 s"
            delays.append(time.perf_counter() - committed)
    primary.dispose()
    replica.dispose()
    results["replica_apply_ms"] = _ms(delays)


@pytest.mark.parametrize("with_replica", [False, True], ids=["primary-alone", "with-replica"])
def test_write_then_read_cycles(
    cluster: MariaCluster, results: dict[str, Any], with_replica: bool
) -> None:
    engine = create_engine(cluster.primary.url("bk"))  # type: ignore[union-attr]
    router = attach_replicas(engine, [cluster.replicas[0].url("bk")]) if with_replica else None
    try:
        session = Catalogue(engine).session("root")
        path = f"/bench{int(with_replica)}"
        session.createdir(path)
        session.addattr(path, "n", "int")
        cycles = []
        for i in range(CYCLES):
            started = time.perf_counter()
            session.addentry(f"{path}/e{i}", {"n": i})
            assert list(session.getattr(f"{path}/e{i}", ["n"])) == [(f"e{i}", [i])]
            cycles.append(time.perf_counter() - started)
        figures: dict[str, Any] = {"cycle_ms": _ms(cycles)}
        if router is not None:
            on_replica = router.replicas[0].reads
            figures["reads_on_replica"] = on_replica
            figures["reads_on_primary"] = router.primary_reads
        results[f"write_then_read_{'with_replica' if with_replica else 'primary_alone'}"] = figures
    finally:
        if router is not None:
            set_read_routing(engine, None)
            router.dispose()
        engine.dispose()
