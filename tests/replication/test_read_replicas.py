"""Reads routed to a real PostgreSQL streaming standby, with read-your-writes."""

from __future__ import annotations

import gc
import threading
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bookkeeping.amga_adapter.engine.catalogue import Catalogue
from bookkeeping.engines import create_engine, read_connection, set_read_routing
from bookkeeping.replication.errors import NotAPrimary, UnsupportedReplica
from bookkeeping.replication.pgcluster import PgCluster
from bookkeeping.replication.routing import ReadRouter, attach_replicas
from tests.replication.conftest import replayed, wait_for


@pytest.fixture
def routed(cluster: PgCluster) -> Iterator[tuple[Engine, ReadRouter]]:
    engine = create_engine(cluster.primary.url("bk"))  # type: ignore[union-attr]
    router = attach_replicas(engine, [cluster.standbys[0].url("bk")], max_lag_s=5.0)
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


def _server_of(connection: sa.Connection) -> bool:
    """True on the standby."""
    return bool(connection.execute(sa.text("SELECT pg_is_in_recovery()")).scalar())


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
    # Both kinds of server served some of those reads: a read went to the standby
    # whenever it had already replayed the write, else to the primary.
    assert router.replicas[0].reads > replica_before
    assert router.primary_reads > 0


def test_a_session_that_has_not_written_reads_from_the_standby(
    routed: tuple[Engine, ReadRouter], cluster: PgCluster
) -> None:
    engine, router = routed
    writer = Catalogue(engine).session("root")
    path = _directory(writer)
    writer.addentry(f"{path}/a", {"n": 1})
    replayed(cluster.standbys[0].url("bk"), engine)
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
    # Uncommitted: only the transaction's own connection (on the primary) can see it.
    assert list(session.getattr(f"{path}/t", ["n"])) == [("t", [7])]
    assert router.replicas[0].reads == before
    session.commit()


def test_process_reads_after_a_commit_wait_for_the_replay(
    routed: tuple[Engine, ReadRouter], cluster: PgCluster
) -> None:
    engine, router = routed
    standby = sa.create_engine(cluster.standbys[0].url("bk"), poolclass=sa.NullPool)
    try:
        with standby.connect() as connection:
            connection.execute(sa.text("SELECT pg_wal_replay_pause()"))
        with engine.begin() as connection:
            connection.execute(sa.text("CREATE TABLE IF NOT EXISTS rw_probe (x int)"))
        from bookkeeping.engines import write_transaction

        with write_transaction(engine) as connection:
            connection.execute(sa.text("INSERT INTO rw_probe VALUES (1)"))
        # The standby has not replayed the insert: a process read goes to the primary.
        with read_connection(engine) as connection:
            assert not _server_of(connection)
            assert connection.execute(sa.text("SELECT count(*) FROM rw_probe")).scalar() >= 1
        # A read that needs nothing of this process may use the standby.
        with read_connection(engine, since=0) as connection:
            assert _server_of(connection)
    finally:
        with standby.connect() as connection:
            connection.execute(sa.text("SELECT pg_wal_replay_resume()"))
        standby.dispose()
    wait_for(lambda: _on_standby(engine), "reads to return to the standby after replay")


def _on_standby(engine: Engine) -> bool:
    with read_connection(engine) as connection:
        return _server_of(connection)


def test_a_standby_lagging_past_the_limit_is_skipped_then_used_again(
    cluster: PgCluster,
) -> None:
    engine = create_engine(cluster.primary.url("bk"))  # type: ignore[union-attr]
    router = ReadRouter(
        engine,
        [create_engine(cluster.standbys[0].url("bk"))],
        max_lag_s=0.3,
        probe_interval_s=0.05,
    )
    set_read_routing(engine, router)
    standby = sa.create_engine(cluster.standbys[0].url("bk"), poolclass=sa.NullPool)
    try:
        with standby.connect() as connection:
            connection.execute(sa.text("SELECT pg_wal_replay_pause()"))
        with engine.begin() as connection:
            connection.execute(sa.text("CREATE TABLE IF NOT EXISTS lag_probe (x int)"))

        def lagging() -> bool:
            # Keep writing so the standby receives WAL it does not replay.
            with engine.begin() as connection:
                connection.execute(sa.text("INSERT INTO lag_probe VALUES (1)"))
            with read_connection(engine, since=0) as connection:
                on_standby = _server_of(connection)
            return not on_standby and router.status()[0].state == "lagging"

        wait_for(lagging, "the paused standby to be set aside as lagging")
    finally:
        with standby.connect() as connection:
            connection.execute(sa.text("SELECT pg_wal_replay_resume()"))
        standby.dispose()
    try:
        wait_for(lambda: _on_standby_since0(engine), "the standby to be used again")
        assert router.status()[0].state == "ok"
    finally:
        set_read_routing(engine, None)
        router.dispose()
        engine.dispose()


def _on_standby_since0(engine: Engine) -> bool:
    with read_connection(engine, since=0) as connection:
        return _server_of(connection)


def test_a_standby_given_as_the_primary_is_refused(cluster: PgCluster) -> None:
    standby = create_engine(cluster.standbys[0].url("bk"))
    try:
        with pytest.raises(NotAPrimary, match="is a standby .*BK_READ_REPLICAS"):
            ReadRouter(standby, [])
    finally:
        standby.dispose()


def test_replicas_of_another_back_end_are_refused(tmp_path: object) -> None:
    engine = create_engine(f"sqlite:///{tmp_path}/x.sqlite")
    try:
        with pytest.raises(UnsupportedReplica, match="need PostgreSQL"):
            ReadRouter(engine, [engine])
    finally:
        engine.dispose()


# psycopg warns when a server-side cursor whose server was killed could not be closed (the
# CLOSE cannot be sent); the connection is gone with it, nothing is leaked.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_killing_the_standby_under_load_costs_no_client_a_failed_call(
    routed: tuple[Engine, ReadRouter], cluster: PgCluster
) -> None:
    engine, router = routed
    setup = Catalogue(engine).session("root")
    path = _directory(setup)
    for i in range(20):
        setup.addentry(f"{path}/e{i}", {"n": i})
    replayed(cluster.standbys[0].url("bk"), engine)
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

    standby = cluster.standbys[0]
    threads = [threading.Thread(target=client, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    try:
        wait_for(lambda: router.replicas[0].reads > 50, "reads on the standby")
        cluster.kill(standby)
        wait_for(lambda: router.status()[0].state == "down", "the standby to be set aside")
        served = router.primary_reads
        wait_for(lambda: router.primary_reads > served + 50, "reads continuing on the primary")
        cluster.start(standby)
        rejoined = router.replicas[0].reads
        wait_for(lambda: router.replicas[0].reads > rejoined + 20, "the standby to rejoin", 60)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
        gc.collect()  # those cursors' warnings surface here, not in a later test
    assert not errors, errors[:3]
    assert calls[0] > 0
