"""Reads routed to a real MariaDB GTID replica, with read-your-writes (MASTER_GTID_WAIT).

The module builds its own primary and replica (``bookkeeping.replication.mariacluster``:
``mariadb-install-db`` once, ``mariadbd`` on free loopback ports in a temporary folder);
the machine's MariaDB on 3306 is not involved.
"""

from __future__ import annotations

import gc
import threading
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bookkeeping.amga_adapter.engine.catalogue import Catalogue
from bookkeeping.bootstrap import initialise
from bookkeeping.engines import create_engine, read_connection, set_read_routing
from bookkeeping.replication import mariacluster
from bookkeeping.replication.errors import NotAPrimary, UnsupportedReplica
from bookkeeping.replication.mariacluster import MariaCluster, MariaServer
from bookkeeping.replication.positions import MariaDBPositions
from bookkeeping.replication.routing import ReadRouter, attach_replicas
from tests.replication.conftest import wait_for

PRIMARY_ID = 1


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
            initialise(engine, root_password="root-pw")  # schema to head and root
        finally:
            engine.dispose()
        caught_up(built)
        yield built


def caught_up(cluster: MariaCluster) -> None:
    """Wait until the replica has applied everything the primary has logged so far."""
    assert cluster.primary is not None
    [(position,)] = cluster.primary.execute("SELECT @@gtid_binlog_pos")
    [(reached,)] = cluster.replicas[0].execute(f"SELECT MASTER_GTID_WAIT('{position}', 30)")
    assert reached == 0, f"the replica did not reach {position} in 30 s"


@pytest.fixture
def routed(cluster: MariaCluster) -> Iterator[tuple[Engine, ReadRouter]]:
    engine = create_engine(cluster.primary.url("bk"))  # type: ignore[union-attr]
    router = attach_replicas(engine, [cluster.replicas[0].url("bk")], max_lag_s=5.0)
    try:
        yield engine, router
    finally:
        set_read_routing(engine, None)
        router.dispose()
        engine.dispose()


def _directory(session: object) -> str:
    path = f"/rep{uuid.uuid4().hex[:8]}"
    session.createdir(path)  # type: ignore[attr-defined]
    session.addattr(path, "n", "int")  # type: ignore[attr-defined]
    return path


def _on_replica(connection: sa.Connection) -> bool:
    return connection.execute(sa.text("SELECT @@server_id")).scalar() != PRIMARY_ID


def test_gtid_positions_compare_and_merge_per_domain() -> None:
    gtids = MariaDBPositions()
    assert gtids.covers("0-1-42", "0-1-41") and gtids.covers("0-2-42", "0-1-42")
    assert not gtids.covers("0-1-41", "0-1-42")
    assert not gtids.covers("0-1-50", "0-1-1,1-1-1")  # domain 1 not applied at all
    assert gtids.covers("0-1-5", "") and gtids.covers("", 0)
    assert gtids.merge("0-1-5,1-3-2", "0-2-7") == "0-2-7,1-3-2"
    assert gtids.merge("", "0-1-3") == "0-1-3"
    with pytest.raises(ValueError, match="not a MariaDB GTID: 'x-1'"):
        gtids.covers("x-1", "")


def test_read_your_writes_over_a_thousand_write_then_read_cycles(
    routed: tuple[Engine, ReadRouter],
) -> None:
    engine, router = routed
    session = Catalogue(engine).session("root")
    path = _directory(session)
    replica_before = router.replicas[0].reads
    for i in range(1000):
        session.addentry(f"{path}/e{i}", {"n": i})
        rows = list(session.getattr(f"{path}/e{i}", ["n"]))
        assert rows == [(f"e{i}", [i])], f"cycle {i} read {rows}"
    # The replica served reads only once MASTER_GTID_WAIT saw the write applied; some
    # reads may have gone to the primary (a wait that timed out), none read stale data.
    assert router.replicas[0].reads > replica_before
    assert router.status()[0].state == "ok"


def test_a_session_that_has_not_written_reads_from_the_replica(
    routed: tuple[Engine, ReadRouter], cluster: MariaCluster
) -> None:
    engine, router = routed
    writer = Catalogue(engine).session("root")
    path = _directory(writer)
    writer.addentry(f"{path}/a", {"n": 1})
    caught_up(cluster)
    reader = Catalogue(engine).session("root")
    before = router.replicas[0].reads
    assert list(reader.getattr(f"{path}/a", ["n"])) == [("a", [1])]
    assert [name for name, _ in reader.dir(path)] == [f"{path}/a"]
    assert router.replicas[0].reads >= before + 2


def test_reads_inside_a_write_transaction_stay_on_the_primary(
    routed: tuple[Engine, ReadRouter],
) -> None:
    engine, router = routed
    session = Catalogue(engine).session("root")
    path = _directory(session)
    session.begin()
    session.addentry(f"{path}/t", {"n": 7})
    before = router.replicas[0].reads
    assert list(session.getattr(f"{path}/t", ["n"])) == [("t", [7])]
    assert router.replicas[0].reads == before
    session.commit()


def test_a_replica_that_stops_applying_is_skipped_then_used_again(
    cluster: MariaCluster,
) -> None:
    engine = create_engine(cluster.primary.url("bk"))  # type: ignore[union-attr]
    router = ReadRouter(
        engine, [create_engine(cluster.replicas[0].url("bk"))], probe_interval_s=0.05
    )
    set_read_routing(engine, router)
    replica = cluster.replicas[0]
    try:
        replica.execute("STOP SLAVE SQL_THREAD")
        with engine.begin() as connection:
            connection.execute(sa.text("CREATE TABLE IF NOT EXISTS lag_probe (x int)"))
        from bookkeeping.engines import write_transaction

        with write_transaction(engine) as connection:
            connection.execute(sa.text("INSERT INTO lag_probe VALUES (1)"))

        # Received, not applied: a read of this process's write goes to the primary,
        # and the replica is reported with the reason.
        def set_aside() -> bool:
            with read_connection(engine) as connection:
                on_replica = _on_replica(connection)
                assert connection.execute(sa.text("SELECT count(*) FROM lag_probe")).scalar()
            return not on_replica and router.status()[0].state == "lagging"

        wait_for(set_aside, "the stopped replica to be set aside as lagging")
        assert "SQL thread is stopped" in (router.status()[0].problem or "")
    finally:
        replica.execute("START SLAVE SQL_THREAD")
    try:

        def back() -> bool:
            with read_connection(engine) as connection:
                return _on_replica(connection)

        wait_for(back, "reads of the write to return to the replica once it is applied")
        assert router.status()[0].state == "ok"
    finally:
        set_read_routing(engine, None)
        router.dispose()
        engine.dispose()


def test_a_replica_given_as_the_primary_is_refused(cluster: MariaCluster) -> None:
    replica = create_engine(cluster.replicas[0].url("bk"))
    try:
        with pytest.raises(NotAPrimary, match="is a replica .*BK_READ_REPLICAS"):
            ReadRouter(replica, [])
    finally:
        replica.dispose()


def test_replicas_of_another_kind_are_refused(cluster: MariaCluster, tmp_path: object) -> None:
    engine = create_engine(cluster.primary.url("bk"))  # type: ignore[union-attr]
    other = create_engine(f"sqlite:///{tmp_path}/x.sqlite")
    try:
        with pytest.raises(UnsupportedReplica, match="the primary is mariadb.*'sqlite'"):
            ReadRouter(engine, [other])
    finally:
        engine.dispose()
        other.dispose()


def test_killing_the_replica_under_load_costs_no_client_a_failed_call(
    routed: tuple[Engine, ReadRouter], cluster: MariaCluster
) -> None:
    engine, router = routed
    setup = Catalogue(engine).session("root")
    path = _directory(setup)
    for i in range(20):
        setup.addentry(f"{path}/e{i}", {"n": i})
    caught_up(cluster)
    catalogue = Catalogue(engine)
    errors: list[BaseException] = []
    calls = [0]
    stop = threading.Event()

    def client(number: int) -> None:
        session = catalogue.session("root")
        for round_ in range(3000):  # bounded: the test stops it long before
            if stop.is_set():
                return
            try:
                if round_ % 10 == 0:
                    session.setattr(f"{path}/e{number}", {"n": round_})
                    assert list(session.getattr(f"{path}/e{number}", ["n"])) == [
                        (f"e{number}", [round_])
                    ]
                else:
                    assert len(list(session.getattr(f"{path}/*", ["n"]))) == 20
                calls[0] += 1
            except BaseException as exc:  # noqa: BLE001 - collected for the assertion
                errors.append(exc)
                return

    replica: MariaServer = cluster.replicas[0]
    threads = [threading.Thread(target=client, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    try:
        wait_for(lambda: router.replicas[0].reads > 50, "reads on the replica")
        cluster.kill(replica)
        wait_for(lambda: router.status()[0].state == "down", "the replica to be set aside")
        served = router.primary_reads
        wait_for(lambda: router.primary_reads > served + 50, "reads continuing on the primary")
        cluster.start(replica)  # resumes replication from its own gtid_slave_pos
        rejoined = router.replicas[0].reads
        wait_for(lambda: router.replicas[0].reads > rejoined + 20, "the replica to rejoin", 60)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
        gc.collect()
    assert not errors, errors[:3]
    assert calls[0] > 0
    # The rejoined replica has applied the writes made while it was down.
    caught_up(cluster)
