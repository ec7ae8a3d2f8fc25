"""Changes to recorded files in the warehouse: visibility (``files.visible``) and copies
(``replicas`` rows). What changes and what is refused is ``bookkeeping/writer/changes.py``'s,
shared with the catalogue.

Each call is one transaction. The files' rows are locked first (``SELECT ... FOR UPDATE``),
so two changes of the same files take turns and each sees what the other did; a change that
collides with a concurrent one anyway (a deadlock between two changes locking files in
different orders) is taken again from what is recorded then.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from typing import TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError, OperationalError

from bookkeeping.announce import ReplicasRemoved, announce, removed_copies
from bookkeeping.chunking import chunked
from bookkeeping.engines import write_transaction
from bookkeeping.retry import retrying
from bookkeeping.warehouse.tables import files, replicas
from bookkeeping.writer.changes import (
    Copy,
    MarkedCopies,
    ReplicaChange,
    ReplicaKey,
    ThenHook,
    check_known,
    checked_lfns,
    checked_marks,
)
from bookkeeping.writer.lifecycle import LifeCycleChange, LifeCycleState, stored_state

IN_CHUNK = 200  # as the writer's look-ups (store.py): PostgreSQL probes the index
ATTEMPTS = 6
ANNOUNCING_USER = "root"  # the warehouse has no users: its changes are the administrator's
T = TypeVar("T")


def _retrying(engine: Engine, work: Callable[[Connection], int]) -> int:
    def attempt() -> int:
        with write_transaction(engine) as connection:
            return work(connection)

    # A concurrent change's row, a deadlock or a lock timeout: plan again.
    return retrying(
        attempt,
        retry_on=lambda exc: isinstance(exc, IntegrityError | OperationalError),
        attempts=ATTEMPTS,
    )


def _file_ids(connection: Connection, lfns: Sequence[str]) -> dict[str, int]:
    """LFN -> file id of every LFN of ``lfns``, their rows locked; ``UnknownFile`` else."""
    found: dict[str, int] = {}
    for chunk in chunked(lfns, IN_CHUNK):
        query = (
            sa.select(files.c.logname, files.c.file_id)
            .where(files.c.logname.in_(chunk))
            .with_for_update()  # SQLite: BEGIN IMMEDIATE has locked everything already
        )
        found.update((lfn, file_id) for lfn, file_id in connection.execute(query))
    check_known(lfns, found)
    return found


def set_visibility(engine: Engine, lfns: Sequence[str], visible: bool) -> int:
    if not isinstance(visible, bool):
        raise TypeError("visible must be True or False")
    wanted = checked_lfns(lfns)

    def work(connection: Connection) -> int:
        ids = sorted(_file_ids(connection, wanted).values())
        changed = 0
        for chunk in chunked(ids, IN_CHUNK):
            changed += connection.execute(
                files.update()
                .where(files.c.file_id.in_(chunk), files.c.visible != visible)
                .values(visible=visible)
            ).rowcount
        return changed

    return _retrying(engine, work)


def set_life_cycle(engine: Engine, lfns: Sequence[str], change: LifeCycleChange) -> int:
    change.check()
    wanted = checked_lfns(lfns)

    def work(connection: Connection) -> int:
        _file_ids(connection, wanted)  # locks the rows; UnknownFile names what is missing
        current: dict[str, LifeCycleState] = {}
        for chunk in chunked(wanted, IN_CHUNK):
            query = sa.select(files.c.logname, files.c.state).where(files.c.logname.in_(chunk))
            current.update((lfn, stored_state(state)) for lfn, state in connection.execute(query))
        moving = [lfn for lfn in wanted if change.apply(lfn, current[lfn]) is not None]
        for chunk in chunked(moving, IN_CHUNK):
            connection.execute(
                files.update().where(files.c.logname.in_(chunk)).values(state=change.state)
            )
        return len(moving)

    return _retrying(engine, work)


def change_replicas(engine: Engine, lfns: Sequence[str], change: ReplicaChange) -> int:
    change.check()
    wanted = checked_lfns(lfns)

    def work(connection: Connection) -> int:
        ids = _file_ids(connection, wanted)
        copies = _copies_at(connection, sorted(ids.values()), change.site)
        changed = 0
        removed: list[tuple[str, Copy]] = []
        writes = _Writes()
        for lfn in wanted:  # an error on any file rolls the whole change back
            before = copies[ids[lfn]]
            after = change.apply(lfn, before)
            if after is not None:
                writes.add(ids[lfn], before, after)
                removed += removed_copies(lfn, before, after)
                changed += 1
        writes.flush(connection)
        if removed:  # in this transaction: the announcement commits with the change
            announce(connection, ReplicasRemoved(ANNOUNCING_USER, tuple(removed)))
        return changed

    return _retrying(engine, work)


MARK_CHUNK = 1000  # LFNs per look-up: a whole message of an SE in one statement


def mark_copies_at(
    engine: Engine, se: str, copies: Mapping[str, str], status: str, then: ThenHook | None
) -> MarkedCopies:
    """``BookkeepingWriter.mark_copies_at`` in one transaction with ``then``: per chunk of
    ``MARK_CHUNK`` files one joined look-up (files by LFN, their copies on the SE, rows
    locked), then one update of the copies in another status. A status change removes no
    copy: nothing to announce."""
    wanted = checked_marks(se, copies, status)
    by_lfn: dict[str, set[str]] = defaultdict(set)
    for path, lfn in wanted.items():
        by_lfn[lfn].add(path)
    r = replicas.c

    def work(connection: Connection) -> int:
        found: dict[str, str] = {}
        changed = 0
        for chunk in chunked(sorted(by_lfn), MARK_CHUNK):
            query = (
                sa.select(files.c.logname, r.file_id, r.site, r.storageclass, r.area)
                .add_columns(r.status, r.se_path)
                .join_from(files, replicas, files.c.file_id == r.file_id)
                .where(_one_of(connection, files.c.logname, chunk), r.se == se)
                .with_for_update()  # SQLite: BEGIN IMMEDIATE has locked everything already
            )
            keys: list[dict[str, object]] = []
            ids: set[int] = set()
            others = False  # a file with another copy on the SE, not to be marked
            for lfn, file_id, site, storage_class, area, current, path in connection.execute(query):
                if path not in by_lfn[lfn]:
                    others = True
                    continue
                found[path] = lfn
                if current != status:
                    keys.append(_key_params(file_id, ReplicaKey(site, storage_class, area)))
                    ids.add(file_id)
            changed += _set_status(connection, se, status, keys, None if others else ids)
        marked.append(MarkedCopies(found, changed))
        if then is not None:
            then(connection, marked[-1])
        return changed

    marked: list[MarkedCopies] = []  # the last attempt's (a collision plans again)
    _retrying(engine, work)
    return marked[-1]


def _one_of(
    connection: Connection, column: sa.Column[str], values: Sequence[str]
) -> sa.ColumnElement[bool]:
    """``column IN (values)``; on PostgreSQL ``= ANY(:array)``: one parameter, not a
    thousand to render and bind."""
    if connection.dialect.name == "postgresql":
        return column == sa.any_(sa.bindparam(None, list(values), type_=ARRAY(column.type)))
    return column.in_(values)


def _set_status(
    connection: Connection,
    se: str,
    status: str,
    keys: list[dict[str, object]],
    ids: set[int] | None,
) -> int:
    """The copies ``keys`` (their rows locked) set to ``status``. When every copy on the SE of
    the files ``ids`` is to change (``ids`` given), one statement by file id; else one
    executemany by primary key."""
    if not keys:
        return 0
    r = replicas.c
    if ids is None:
        connection.execute(replicas.update().where(*_Writes._KEY).values(status=status), keys)
        return len(keys)
    wanted = sorted(ids)
    if connection.dialect.name == "postgresql":
        which = r.file_id == sa.any_(sa.bindparam(None, wanted, type_=ARRAY(r.file_id.type)))
    else:
        which = r.file_id.in_(wanted)
    statement = replicas.update().where(which, r.se == se, r.status != status)
    connection.execute(statement.values(status=status))
    return len(keys)


def _copies_at(connection: Connection, ids: Sequence[int], site: str) -> dict[int, list[Copy]]:
    """The copies of the files at ``site`` (a change touches one site only)."""
    found: dict[int, list[Copy]] = defaultdict(list)
    r = replicas.c
    for chunk in chunked(ids, IN_CHUNK):
        query = (
            sa.select(r.file_id, r.storageclass, r.area, r.status, r.replica, r.se, r.se_path)
            .where(r.file_id.in_(chunk), r.site == site)
            .order_by(r.file_id, r.storageclass, r.area)
        )
        for file_id, storage_class, area, status, pfn, se, path in connection.execute(query):
            key = ReplicaKey(site, storage_class, area)
            found[file_id].append(Copy(key, status, pfn, se, path))
    return found


class _Writes:
    """The row changes of a whole change, sent as one executemany per kind (a statement per
    file was a round trip per file: 7 ms each on a loaded PostgreSQL)."""

    _KEY = (
        replicas.c.file_id == sa.bindparam("k_file_id"),
        replicas.c.site == sa.bindparam("k_site"),
        replicas.c.storageclass == sa.bindparam("k_storageclass"),
        replicas.c.area == sa.bindparam("k_area"),
    )

    def __init__(self) -> None:
        self.deletes: list[dict[str, object]] = []
        self.updates: list[dict[str, object]] = []
        self.inserts: list[dict[str, object]] = []

    def add(self, file_id: int, before: list[Copy], after: list[Copy]) -> None:
        """Make the file's rows at the site what ``after`` says."""
        old = {copy.key: copy for copy in before}
        new = {copy.key: copy for copy in after}
        for key in old.keys() - new.keys():
            self.deletes.append(_key_params(file_id, key))
        for key in new.keys() & old.keys():
            if new[key] != old[key]:
                copy = new[key]
                self.updates.append(
                    {
                        **_key_params(file_id, key),
                        "v_status": copy.status,
                        "v_replica": copy.pfn,
                        "v_se": copy.se,
                        "v_se_path": copy.path,
                    }
                )
        self.inserts += [
            {
                "file_id": file_id,
                "site": key.site,
                "storageclass": key.storage_class,
                "area": key.area,
                "status": new[key].status,
                "replica": new[key].pfn,
                "se": new[key].se,
                "se_path": new[key].path,
            }
            for key in new.keys() - old.keys()
        ]

    def flush(self, connection: Connection) -> None:
        # deletes first: a recall copy moved to another area frees its old key
        if self.deletes:
            connection.execute(replicas.delete().where(*self._KEY), self.deletes)
        if self.updates:
            statement = (
                replicas.update()
                .where(*self._KEY)
                .values(
                    status=sa.bindparam("v_status"),
                    replica=sa.bindparam("v_replica"),
                    se=sa.bindparam("v_se"),
                    se_path=sa.bindparam("v_se_path"),
                )
            )
            connection.execute(statement, self.updates)
        if self.inserts:
            connection.execute(replicas.insert(), self.inserts)


def _key_params(file_id: int, key: ReplicaKey) -> dict[str, object]:
    return {
        "k_file_id": file_id,
        "k_site": key.site,
        "k_storageclass": key.storage_class,
        "k_area": key.area,
    }
