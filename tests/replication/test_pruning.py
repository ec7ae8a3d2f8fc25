"""Pruning the master's update log: what every slave has applied goes, and a slave that
still needed a pruned record is told to bootstrap again (the master on every configured
back-end, slaves on SQLite)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from sqlalchemy.engine import Engine

from bookkeeping.amga_adapter.engine.catalogue import Catalogue, CatalogueSession
from bookkeeping.bootstrap import initialise
from bookkeeping.cli import main
from bookkeeping.engines import create_engine
from bookkeeping.replication.errors import ReplicationLogError
from bookkeeping.replication.prune import prune
from bookkeeping.replication.subtrees import SubtreeReplica
from bookkeeping.replication.tables import replication_log
from bookkeeping.scratch import ScratchDatabase
from tests.replication.test_subtrees import _tree

SUBTREE = "/evtTypes"


@pytest.fixture
def master(backend: ScratchDatabase) -> Iterator[Engine]:
    engine = create_engine(backend.url)
    initialise(engine, root_password="root-pw")
    try:
        yield engine
    finally:
        engine.dispose()


def _slave(tmp_path: Path, name: str) -> Engine:
    engine = create_engine(f"sqlite:///{tmp_path}/{name}.sqlite")
    initialise(engine, root_password="root-pw")
    return engine


def _log_size(master: Engine) -> int:
    with master.connect() as connection:
        return int(connection.scalar(sa.select(sa.func.count()).select_from(replication_log)))


def _write(session: CatalogueSession, first: int, count: int) -> None:
    for i in range(first, first + count):
        session.addentry(f"{SUBTREE}/e{i}", {"n": i})


def test_the_log_shrinks_to_what_the_slowest_slave_still_needs(
    master: Engine, tmp_path: Path
) -> None:
    writer = Catalogue(master).session("root")
    writer.createdir(SUBTREE)
    writer.addattr(SUBTREE, "n", "int")
    fast_db, slow_db = _slave(tmp_path, "fast"), _slave(tmp_path, "slow")
    try:
        fast = SubtreeReplica(master, fast_db, SUBTREE)
        slow = SubtreeReplica(master, slow_db, SUBTREE)
        fast.bootstrap()
        slow.bootstrap()
        _write(writer, 0, 10)
        fast.catch_up()
        _write(writer, 10, 10)
        fast.catch_up()
        slow_start = slow.status().applied_id
        assert _log_size(master) == 20
        # The slow slave has applied none of them: nothing of the subtree may go.
        [result] = prune(master)
        assert (result.removed, result.slaves, result.behind) == (0, 2, 0)
        assert result.pruned_id == slow_start
        slow.catch_up(limit=10)  # half of it
        [result] = prune(master)
        assert result.removed == 10 and _log_size(master) == 10
        slow.catch_up()
        [result] = prune(master)
        assert result.removed == 10 and _log_size(master) == 0
        # Replication goes on after pruning, and both slaves equal the master.
        writer.setattr(f"{SUBTREE}/e3", {"n": 33})
        writer.rm(f"{SUBTREE}/e4")
        assert fast.catch_up() == 2 and slow.catch_up() == 2
        for slave_db in (fast_db, slow_db):
            assert _tree(Catalogue(slave_db).session("root"), SUBTREE) == _tree(writer, SUBTREE)
    finally:
        fast_db.dispose()
        slow_db.dispose()


def test_a_slave_behind_a_retention_prune_is_told_to_bootstrap_again(
    master: Engine, tmp_path: Path
) -> None:
    writer = Catalogue(master).session("root")
    writer.createdir(SUBTREE)
    writer.addattr(SUBTREE, "n", "int")
    _write(writer, 0, 5)
    slave_db = _slave(tmp_path, "late")
    try:
        late = SubtreeReplica(master, slave_db, SUBTREE)
        late.bootstrap()
        _write(writer, 5, 5)
        writer.rm(f"{SUBTREE}/e0")
        reader = Catalogue(slave_db).session("root")
        before = _tree(reader, SUBTREE)
        # Older than 0 s: everything goes, applied or not.
        [result] = prune(master, retention_s=0)
        assert (result.removed, result.behind) == (6, 1)
        with pytest.raises(ReplicationLogError, match="pruned its log up to record .* bootstrap"):
            late.catch_up()
        assert _tree(reader, SUBTREE) == before  # nothing half-applied, no silent gap
        # Bootstrapping again brings the master's state, e0's removal included.
        late.bootstrap()
        assert _tree(reader, SUBTREE) == _tree(writer, SUBTREE)
        _write(writer, 10, 2)
        assert late.catch_up() == 2
        assert _tree(reader, SUBTREE) == _tree(writer, SUBTREE)
    finally:
        slave_db.dispose()


def test_bk_replication_prune(tmp_path: Path) -> None:
    master_url = f"sqlite:///{tmp_path}/m.sqlite"
    master = create_engine(master_url)
    initialise(master, root_password="pw")
    runner = CliRunner()
    result = runner.invoke(main, ["replication", "prune", "--db", master_url])
    assert result.exit_code == 0 and "nothing to prune" in result.output, result.output
    session = Catalogue(master).session("root")
    session.createdir(SUBTREE)
    session.addattr(SUBTREE, "n", "int")
    slave_db = _slave(tmp_path, "s")
    SubtreeReplica(master, slave_db, SUBTREE).bootstrap()
    _write(session, 0, 3)
    result = runner.invoke(
        main,
        ["replication", "prune", "--retention", "0", "--db", master_url],
        env={"COLUMNS": "200"},
    )
    assert result.exit_code == 0, result.output
    assert SUBTREE in result.output and " 3 " in result.output
    result = runner.invoke(main, ["replication", "prune", "--retention", "-1", "--db", master_url])
    assert result.exit_code == 2 and "-1" in result.output and "Traceback" not in result.output
    master.dispose()
    slave_db.dispose()
