"""Pruning a master's update log (docs/replication.md).

Each slave reports to the master how far it has applied (``replication_slaves``: at
bootstrap, the position its snapshot starts from; then after each batch it applies).
``prune(master)`` deletes, per master subtree, the records every slave of that subtree (or
of a subtree overlapping it) has applied, or all of them when it has no slave (a new
slave starts from a snapshot). With ``retention_s`` it also deletes records older than
that, applied or not: a slave that still needed one is then *told*, at its next catch-up,
that the master pruned past its position and that it must bootstrap again
(``ReplicationLogError``), instead of silently missing those changes. Each subtree's
``pruned_id`` says how far its log was pruned.

A prune and a slave's registration both lock the log's counter row, so a slave that
registers while a prune runs is either seen by it or starts after everything it deletes.
Writers of replicated subtrees wait on that row during a prune (one DELETE).
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bookkeeping.amga_adapter.engine.subtree_roles import under
from bookkeeping.amga_adapter.engine.update_log import COUNTER
from bookkeeping.config import mask_url
from bookkeeping.engines import write_transaction
from bookkeeping.replication.errors import ReplicationLogError
from bookkeeping.replication.tables import (
    replication_counter,
    replication_log,
    replication_slaves,
    replication_subtrees,
)

log = logging.getLogger(__name__)


def in_subtree(column: sa.ColumnElement[str], path: str) -> sa.ColumnElement[bool]:
    if path == "/":
        return sa.true()
    return sa.or_(column == path, column.startswith(path + "/", autoescape=True))


def slave_name(slave: Engine) -> str:
    """A short stable name for a slave database: a hash of its masked URL."""
    return hashlib.sha256(mask_url(slave.url).encode()).hexdigest()[:16]


def _lock_counter(connection: sa.Connection) -> int:
    """Lock the log's counter row until commit; the newest record's number."""
    counter = replication_counter.c
    connection.execute(
        replication_counter.update().where(counter.name == COUNTER).values(value=counter.value)
    )
    value = connection.scalar(sa.select(counter.value).where(counter.name == COUNTER))
    return int(value or 0)


def _save(
    connection: sa.Connection, slave: str, description: str, path: str, applied_id: int
) -> None:
    key = (replication_slaves.c.slave == slave) & (replication_slaves.c.path == path)
    values = {"applied_id": applied_id, "reported": time.time(), "description": description}
    if not connection.execute(replication_slaves.update().where(key).values(**values)).rowcount:
        connection.execute(replication_slaves.insert().values(slave=slave, path=path, **values))


def register_slave(master: Engine, slave: str, description: str, path: str) -> int:
    """Register ``slave`` of ``path`` at the master at the log's current position, which
    it returns (the position a snapshot taken now starts from)."""
    with write_transaction(master) as connection:
        position = _lock_counter(connection)
        _save(connection, slave, description, path, position)
    return position


def report_applied(master: Engine, slave: str, description: str, path: str, applied: int) -> bool:
    """Tell the master how far ``slave`` has applied; False when it cannot be told (a
    read-only login: the master's log is then pruned by retention only)."""
    try:
        with write_transaction(master) as connection:
            _save(connection, slave, description, path, applied)
    except sa.exc.DBAPIError as exc:
        log.warning("cannot report %s's position to the master: %s", path, exc.orig)
        return False
    return True


def check_not_pruned(connection: sa.Connection, path: str, position: int) -> None:
    """Refuse to go on from ``position`` when the master pruned records after it."""
    pruned = connection.scalar(
        sa.select(replication_subtrees.c.pruned_id).where(
            replication_subtrees.c.path == path, replication_subtrees.c.role == "master"
        )
    )
    if pruned is not None and int(pruned) > position:
        raise ReplicationLogError(
            f"{path}: the master pruned its log up to record {pruned}, but this slave has "
            f"applied only up to {position}: the changes in between are gone; bootstrap "
            f"it again (`bk replication bootstrap {path}`)"
        )


@dataclass(frozen=True)
class Pruned:
    path: str
    pruned_id: int  # every record of the subtree up to this one is gone
    removed: int
    slaves: int
    behind: int  # slaves that now need to bootstrap again (retention)


def prune(master: Engine, *, retention_s: float | None = None) -> list[Pruned]:
    """Delete the records no slave needs (see the module docstring)."""
    if retention_s is not None and retention_s < 0:
        raise ReplicationLogError(f"retention must be 0 s or more, not {retention_s}")
    results = []
    with write_transaction(master) as connection:
        newest = _lock_counter(connection)
        subtrees = connection.execute(
            sa.select(replication_subtrees.c.path, replication_subtrees.c.pruned_id).where(
                replication_subtrees.c.role == "master"
            )
        ).all()
        slaves = connection.execute(
            sa.select(replication_slaves.c.path, replication_slaves.c.applied_id)
        ).all()
        for path, pruned_before in subtrees:
            mine = in_subtree(replication_log.c.directory, path)
            needing = [
                int(applied)
                for slave_path, applied in slaves
                if under(slave_path, path) or under(path, slave_path)
            ]
            horizon = min(needing) if needing else newest
            if retention_s is not None:
                old = connection.scalar(
                    sa.select(sa.func.max(replication_log.c.id)).where(
                        mine, replication_log.c.created < time.time() - retention_s
                    )
                )
                horizon = max(horizon, int(old or 0))
            horizon = max(horizon, int(pruned_before))
            removed = connection.execute(
                replication_log.delete().where(mine, replication_log.c.id <= horizon)
            ).rowcount
            connection.execute(
                replication_subtrees.update()
                .where(replication_subtrees.c.path == path)
                .values(pruned_id=horizon)
            )
            behind = sum(1 for applied in needing if applied < horizon)
            results.append(Pruned(path, horizon, int(removed), len(needing), behind))
    for result in results:
        log.info(
            "pruned %s: %d record(s), up to %d; %d slave(s), %d must bootstrap again",
            result.path,
            result.removed,
            result.pruned_id,
            result.slaves,
            result.behind,
        )
    return results
