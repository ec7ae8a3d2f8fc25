"""Subtree replication of directory metadata: ACLs, owners, groups, rights, constraints,
indexes and sequences, and entries' own owners and rights (the master on every configured
back-end, the slave on SQLite)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bookkeeping.amga_adapter.engine.catalogue import Catalogue, CatalogueSession
from bookkeeping.amga_adapter.engine.directories import COLLECTION
from bookkeeping.amga_adapter.engine.errors import ConstraintViolation, PermissionDenied
from bookkeeping.bootstrap import initialise
from bookkeeping.engines import create_engine
from bookkeeping.replication.subtrees import SubtreeReplica
from bookkeeping.replication.tables import replication_log
from bookkeeping.scratch import ScratchDatabase

SUBTREE = "/fileParams"


@pytest.fixture
def master(backend: ScratchDatabase) -> Iterator[Engine]:
    engine = create_engine(backend.url)
    initialise(engine, root_password="root-pw")
    catalogue = Catalogue(engine)
    catalogue.add_user("root", "alice", "pw")
    catalogue.add_user("root", "bob", "pw")
    catalogue.add_group("root", "physicists")
    try:
        yield engine
    finally:
        engine.dispose()


@pytest.fixture
def slave(tmp_path: Path) -> Iterator[Engine]:
    # No alice, bob or physicists here: the replay copies names, it does not need them.
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
    session.addentries(SUBTREE, [(f"f{i}", {"Size": i, "GUID": f"g-{i}"}) for i in range(20)])
    session.createdir(f"{SUBTREE}/sub")
    session.addattr(f"{SUBTREE}/sub", "Run", "int")
    session.addentry(f"{SUBTREE}/sub/r1", {"Run": 1})
    # Some metadata before the snapshot: bootstrap must copy it.
    session.chown(f"{SUBTREE}/sub", "alice")
    session.acl_grant(SUBTREE, "bob", "rw")
    session.constraint_add_not_null(SUBTREE, "GUID", name="guid_given")
    session.create_index(SUBTREE, ["Size"])
    session.sequence_create("ids", SUBTREE, increment=5, start=100)
    session.sequence_next(f"{SUBTREE}/ids")
    session.chmod(f"{SUBTREE}/f1", "r--", "---")


def _everything(session: CatalogueSession, root: str) -> dict[str, Any]:
    """Each directory's attributes, entries, whole metadata and entries' owners/rights."""
    found: dict[str, Any] = {}
    pending = [root]
    while pending:
        directory = pending.pop()
        types = sorted(session.listattr(directory))
        names = [name for name, _ in types]
        entries = sorted(
            (name, tuple(values)) for name, values in session.getattr(f"{directory}/*", names)
        )
        found[directory] = (
            types,
            entries,
            session.directory_metadata(directory),
            session.entry_metadata(directory),
        )
        pending.extend(p for p, kind in session.dir(directory) if kind == COLLECTION)
    return found


def _changes(writer: CatalogueSession) -> None:
    writer.acl_grant(SUBTREE, "group:physicists", "r")
    writer.acl_revoke(SUBTREE, "bob", "w")
    writer.chown(SUBTREE, "bob")
    writer.chgrp(SUBTREE, "physicists")
    writer.chmod(SUBTREE, "rwx", "r-x")
    writer.chmod(f"{SUBTREE}/f2*", "rw-", "r--")  # entries: logged as their upserts
    writer.constraint_add_unique(SUBTREE, ["GUID"])  # a generated name
    writer.constraint_add_check(SUBTREE, "Size >= 0", name="size_positive")
    writer.constraint_drop(SUBTREE, "guid_given")
    writer.create_index(SUBTREE, ["GUID", "Size"], descending=["Size"])
    [size_index] = [i.name for i in writer.list_indexes(SUBTREE) if i.attributes == ("Size",)]
    writer.drop_index(SUBTREE, size_index)
    writer.sequence_next(f"{SUBTREE}/ids", count=3)
    writer.sequence_create("runs", f"{SUBTREE}/sub")
    writer.sequence_next(f"{SUBTREE}/sub/runs")
    writer.sequence_remove(f"{SUBTREE}/sub/runs")
    writer.sequence_create("other", f"{SUBTREE}/sub", increment=2, start=7)
    writer.acl_grant(f"{SUBTREE}/sub", "system:anyuser", "r")
    writer.addentry(f"{SUBTREE}/sub/r2", {"Run": 2})


def test_metadata_equals_the_masters_after_bootstrap_and_catch_up(
    master: Engine, slave: Engine
) -> None:
    writer = Catalogue(master).session("root")
    _populate(writer)
    replica = SubtreeReplica(master, slave, SUBTREE)
    replica.bootstrap()
    reader = Catalogue(slave).session("root")
    assert _everything(reader, SUBTREE) == _everything(writer, SUBTREE)

    _changes(writer)
    with master.connect() as connection:
        ops = connection.scalars(
            sa.select(replication_log.c.op).where(replication_log.c.op == "meta")
        ).all()
    assert len(ops) >= 15  # one record per metadata change under the subtree
    assert replica.catch_up() > 0
    master_state = _everything(writer, SUBTREE)
    assert _everything(reader, SUBTREE) == master_state
    # Spot checks, in case both sides were wrong the same way.
    top = master_state[SUBTREE][2]
    assert (top["owner"], top["group"], top["permissions"], top["group_rights"]) == (
        "bob",
        "physicists",
        "rwx",
        "r-x",
    )
    # (the rights of everybody else, chmod's second argument, show as system:anyuser)
    assert top["acl"] == {"bob": "r--", "group:physicists": "r--", "system:anyuser": "r-x"}
    assert [(c["name"], c["kind"]) for c in top["constraints"]] == [
        (None, "unique"),
        ("size_positive", "check"),
    ]
    assert top["indexes"] == [{"attributes": ["GUID", "Size"], "descending": [False, True]}]
    assert top["sequences"] == [{"name": "ids", "increment": 5, "next_value": 120}]
    assert ["f2", "rw-", "r--"] in [[n, p, g] for n, _o, p, g in master_state[SUBTREE][3]]
    # The replayed constraints are enforced at the slave too (the replay writes there).
    with pytest.raises(ConstraintViolation, match="size_positive"):
        replica._replay_session().addentry(f"{SUBTREE}/neg", {"Size": -1, "GUID": "neg"})
    # Replaying everything again changes nothing.
    with slave.begin() as connection:
        connection.exec_driver_sql("UPDATE replication_state SET applied_id = 0")
    replica.catch_up()
    assert _everything(reader, SUBTREE) == master_state


def test_records_apply_in_order_around_a_dropped_constraint(master: Engine, slave: Engine) -> None:
    writer = Catalogue(master).session("root")
    _populate(writer)
    writer.constraint_add_unique(SUBTREE, ["GUID"], name="one_guid")
    replica = SubtreeReplica(master, slave, SUBTREE)
    replica.bootstrap()
    # Allowed at the master only once the constraint is gone: the slave must drop it
    # before it applies the entry, or the replay would fail.
    writer.constraint_drop(SUBTREE, "one_guid")
    writer.addentry(f"{SUBTREE}/dup", {"Size": 1, "GUID": "g-1"})
    replica.catch_up()
    reader = Catalogue(slave).session("root")
    assert _everything(reader, SUBTREE) == _everything(writer, SUBTREE)


def test_only_the_replay_sets_metadata_wholesale(slave: Engine) -> None:
    session = Catalogue(slave).session("root")
    session.createdir("/plain")
    with pytest.raises(PermissionDenied, match="only the replication replay"):
        session.apply_metadata("/plain", session.directory_metadata("/plain"))
    with pytest.raises(PermissionDenied, match="only the replication replay"):
        session.apply_entry_metadata("/plain", [])
