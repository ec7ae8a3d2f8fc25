"""Catalogue subtree replication: a master's update log replayed by a slave catalogue on
another database (the master on every configured back-end, the slave on SQLite)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bookkeeping.amga_adapter.engine.catalogue import Catalogue, CatalogueSession
from bookkeeping.amga_adapter.engine.directories import COLLECTION
from bookkeeping.bootstrap import initialise
from bookkeeping.engines import create_engine
from bookkeeping.replication.errors import ReadOnlyCatalogue, ReplicationLogError
from bookkeeping.replication.subtrees import SubtreeReplica
from bookkeeping.replication.tables import replication_log
from bookkeeping.scratch import ScratchDatabase

SUBTREE = "/fileParams"


@pytest.fixture
def master(backend: ScratchDatabase) -> Iterator[Engine]:
    engine = create_engine(backend.url)
    initialise(engine, root_password="root-pw")
    try:
        yield engine
    finally:
        engine.dispose()


@pytest.fixture
def slave(tmp_path: Path) -> Iterator[Engine]:
    engine = create_engine(f"sqlite:///{tmp_path}/slave.sqlite")
    initialise(engine, root_password="root-pw")
    try:
        yield engine
    finally:
        engine.dispose()


def _populate(session: CatalogueSession) -> None:
    session.createdir(SUBTREE)
    session.addattr(SUBTREE, "Size", "bigint")
    session.addattr(SUBTREE, "GUID", "varchar(64)")
    session.addattr(SUBTREE, "Ratio", "double")
    session.addentries(
        SUBTREE,
        [(f"f{i}", {"Size": i * 1000, "GUID": f"g-{i}", "Ratio": i / 7}) for i in range(50)],
    )
    session.createdir("/other")
    session.addattr("/other", "x", "int")


def _tree(session: CatalogueSession, root: str) -> dict[str, object]:
    """Everything a user can read under ``root``: each directory's attributes and entries."""
    found: dict[str, object] = {}
    pending = [root]
    while pending:
        directory = pending.pop()
        types = sorted(session.listattr(directory))
        names = [name for name, _ in types]
        entries = sorted(
            (name, tuple(values)) for name, values in session.getattr(f"{directory}/*", names)
        )
        found[directory] = (types, entries)
        pending.extend(p for p, kind in session.dir(directory) if kind == COLLECTION)
    return found


def test_slave_equals_master_entry_by_entry_after_catch_up(master: Engine, slave: Engine) -> None:
    writer = Catalogue(master).session("root")
    _populate(writer)
    replica = SubtreeReplica(master, slave, SUBTREE)
    replica.bootstrap()
    # Changes of every kind after the snapshot.
    writer.addentries(SUBTREE, [(f"n{i}", {"Size": i, "GUID": f"n-{i}"}) for i in range(30)])
    writer.setattr(f"{SUBTREE}/f1*", {"GUID": "changed"})
    writer.updateattr(f"{SUBTREE}/*", [("Size", "Size+1")], "Size > 40000")
    writer.rm(f"{SUBTREE}/f2*")
    writer.rm(f"{SUBTREE}/n0")
    writer.addattr(SUBTREE, "Events", "int")  # a new column, then values in it
    writer.setattr(f"{SUBTREE}/f3", {"Events": 33})
    writer.createdir(f"{SUBTREE}/sub")
    writer.addattr(f"{SUBTREE}/sub", "Order", "varchar(10)")  # a reserved word
    writer.addentry(f"{SUBTREE}/sub/a", {"Order": "first"})
    writer.addentry("/other/x1", {"x": 1})  # outside the subtree: not replicated

    assert replica.status().pending > 0
    applied = replica.catch_up()
    assert applied > 0
    status = replica.status()
    assert (status.pending, status.lag_s) == (0, 0.0)
    assert status.applied_id == status.master_id

    reader = Catalogue(slave).session("root")
    assert _tree(reader, SUBTREE) == _tree(writer, SUBTREE)
    assert [path for path, _ in reader.dir("/")] == [SUBTREE]  # no /other
    # Replaying again changes nothing (records hold whole states).
    assert replica.catch_up() == 0


def test_replaying_the_log_twice_changes_nothing(master: Engine, slave: Engine) -> None:
    writer = Catalogue(master).session("root")
    _populate(writer)
    replica = SubtreeReplica(master, slave, SUBTREE)
    start = replica.bootstrap()
    writer.setattr(f"{SUBTREE}/f*", {"GUID": "again"})
    writer.rm(f"{SUBTREE}/f4*")
    replica.catch_up()
    with slave.begin() as connection:  # as if the position had not been saved (a crash)
        connection.exec_driver_sql(f"UPDATE replication_state SET applied_id = {start}")
    replica.catch_up()
    assert _tree(Catalogue(slave).session("root"), SUBTREE) == _tree(writer, SUBTREE)


def test_users_cannot_write_in_a_slave_subtree(master: Engine, slave: Engine) -> None:
    _populate(Catalogue(master).session("root"))
    SubtreeReplica(master, slave, SUBTREE).bootstrap()
    user = Catalogue(slave).session("root")
    for write in (
        lambda: user.addentry(f"{SUBTREE}/mine", {"Size": 1}),
        lambda: user.setattr(f"{SUBTREE}/f1", {"Size": 2}),
        lambda: user.rm(f"{SUBTREE}/f1"),
        lambda: user.createdir(f"{SUBTREE}/new"),
        lambda: user.addattr(SUBTREE, "New", "int"),
        lambda: user.updateattr(f"{SUBTREE}/*", [("Size", "0")]),
    ):
        with pytest.raises(ReadOnlyCatalogue, match="read-only replica"):
            write()
    assert list(user.getattr(f"{SUBTREE}/f1", ["Size"])) == [("f1", [1000])]
    # Outside the replicated subtree the slave is an ordinary catalogue.
    user.createdir("/local")
    user.addattr("/local", "x", "int")
    user.addentry("/local/a", {"x": 1})


def test_a_slave_not_bootstrapped_says_so(master: Engine, slave: Engine) -> None:
    with pytest.raises(ReplicationLogError, match="has not been bootstrapped"):
        SubtreeReplica(master, slave, SUBTREE).catch_up()
    with pytest.raises(ReplicationLogError, match="absolute directory path"):
        SubtreeReplica(master, slave, "fileParams/")


def test_a_corrupt_log_record_stops_the_replay_naming_it(master: Engine, slave: Engine) -> None:
    _populate(Catalogue(master).session("root"))
    replica = SubtreeReplica(master, slave, SUBTREE)
    start = replica.bootstrap()
    with master.begin() as connection:
        connection.execute(
            replication_log.insert().values(
                id=start + 1, created=0.0, directory=SUBTREE, op="upsert", payload="{not json"
            )
        )
    with pytest.raises(ReplicationLogError, match=f"log record {start + 1} is not valid JSON"):
        replica.catch_up()
    assert replica.status().applied_id == start  # nothing applied, nothing skipped


def test_concurrent_writers_and_a_running_replica_end_equal(master: Engine, slave: Engine) -> None:
    writer = Catalogue(master).session("root")
    _populate(writer)
    replica = SubtreeReplica(master, slave, SUBTREE)
    replica.bootstrap()
    stop = threading.Event()
    shipper = threading.Thread(target=replica.run, args=(stop, 0.01))
    shipper.start()
    errors: list[BaseException] = []

    def write(number: int) -> None:
        session = Catalogue(master).session("root")
        try:
            for i in range(40):
                session.addentry(f"{SUBTREE}/w{number}-{i}", {"Size": i})
                if i % 5 == 0:
                    session.setattr(f"{SUBTREE}/w{number}-{i}", {"GUID": "x"})
                if i % 7 == 0:
                    session.rm(f"{SUBTREE}/w{number}-{i}")
        except BaseException as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    writers = [threading.Thread(target=write, args=(n,)) for n in range(3)]
    for thread in writers:
        thread.start()
    for thread in writers:
        thread.join(timeout=120)
    stop.set()
    shipper.join(timeout=60)
    assert not errors, errors[:3]
    replica.catch_up()
    assert _tree(Catalogue(slave).session("root"), SUBTREE) == _tree(writer, SUBTREE)


def test_the_log_is_written_in_the_writes_transaction(master: Engine, slave: Engine) -> None:
    writer = Catalogue(master).session("root")
    _populate(writer)
    SubtreeReplica(master, slave, SUBTREE).bootstrap()

    def records() -> int:
        with master.connect() as connection:
            return int(connection.scalar(sa.select(sa.func.count()).select_from(replication_log)))

    before = records()
    writer.begin()
    writer.addentry(f"{SUBTREE}/t1", {"Size": 1})
    writer.abort()
    assert records() == before  # rolled back with the write
    writer.addentry("/other/o", {"x": 1})
    assert records() == before  # not under the subtree
    writer.addentry(f"{SUBTREE}/t1", {"Size": 1})
    assert records() == before + 1


def test_directories_and_attributes_removed_at_the_master_go_at_the_slave(
    master: Engine, slave: Engine
) -> None:
    writer = Catalogue(master).session("root")
    _populate(writer)
    writer.createdir(f"{SUBTREE}/sub")
    writer.addattr(f"{SUBTREE}/sub", "x", "int")
    writer.addentry(f"{SUBTREE}/sub/a", {"x": 1})
    replica = SubtreeReplica(master, slave, SUBTREE)
    replica.bootstrap()
    writer.rmdir(f"{SUBTREE}/sub", recursive=True)
    writer.removeattr(SUBTREE, "Ratio", force=True)
    writer.setattr(f"{SUBTREE}/f1", {"Size": 5})
    replica.catch_up()
    reader = Catalogue(slave).session("root")
    assert _tree(reader, SUBTREE) == _tree(writer, SUBTREE)
    assert "Ratio" not in dict(reader.listattr(SUBTREE))
    assert replica.catch_up() == 0
