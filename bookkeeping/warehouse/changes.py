"""Changes to recorded files in the warehouse: visibility (``files.visible``) and copies
(``replicas`` rows). What changes and what is refused is ``bookkeeping/writer/changes.py``'s,
shared with the catalogue.

Each call is one transaction. The files' rows are locked first (``SELECT ... FOR UPDATE``),
so two changes of the same files take turns and each sees what the other did; a change that
collides with a concurrent one anyway (a deadlock between two changes locking files in
different orders) is taken again from what is recorded then.
"""

from __future__ import annotations

import random
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError, OperationalError

from bookkeeping.engines import write_transaction
from bookkeeping.warehouse.tables import files, replicas
from bookkeeping.writer.changes import Copy, ReplicaChange, ReplicaKey, check_known, checked_lfns

IN_CHUNK = 200  # as the writer's look-ups (store.py): PostgreSQL probes the index
ATTEMPTS = 6
T = TypeVar("T")


def _chunks(values: Sequence[T]) -> Iterator[Sequence[T]]:
    for start in range(0, len(values), IN_CHUNK):
        yield values[start : start + IN_CHUNK]


def _retrying(engine: Engine, work: Callable[[Connection], int]) -> int:
    for attempt in range(ATTEMPTS):
        try:
            with write_transaction(engine) as connection:
                return work(connection)
        except (IntegrityError, OperationalError):
            if attempt == ATTEMPTS - 1:
                raise
            time.sleep(random.uniform(0, 0.01 * 2**attempt))
    raise AssertionError("unreachable")


def _file_ids(connection: Connection, lfns: Sequence[str]) -> dict[str, int]:
    """LFN -> file id of every LFN of ``lfns``, their rows locked; ``UnknownFile`` else."""
    found: dict[str, int] = {}
    for chunk in _chunks(lfns):
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
        for chunk in _chunks(ids):
            changed += connection.execute(
                files.update()
                .where(files.c.file_id.in_(chunk), files.c.visible != visible)
                .values(visible=visible)
            ).rowcount
        return changed

    return _retrying(engine, work)


def change_replicas(engine: Engine, lfns: Sequence[str], change: ReplicaChange) -> int:
    change.check()
    wanted = checked_lfns(lfns)

    def work(connection: Connection) -> int:
        ids = _file_ids(connection, wanted)
        copies = _copies_at(connection, sorted(ids.values()), change.site)
        changed = 0
        for lfn in wanted:  # an error on any file rolls the whole change back
            before = copies[ids[lfn]]
            after = change.apply(lfn, before)
            if after is not None:
                _write(connection, ids[lfn], before, after)
                changed += 1
        return changed

    return _retrying(engine, work)


def _copies_at(connection: Connection, ids: Sequence[int], site: str) -> dict[int, list[Copy]]:
    """The copies of the files at ``site`` (a change touches one site only)."""
    found: dict[int, list[Copy]] = defaultdict(list)
    r = replicas.c
    for chunk in _chunks(ids):
        query = (
            sa.select(r.file_id, r.storageclass, r.area, r.status, r.replica)
            .where(r.file_id.in_(chunk), r.site == site)
            .order_by(r.file_id, r.storageclass, r.area)
        )
        for file_id, storage_class, area, status, pfn in connection.execute(query):
            found[file_id].append(Copy(ReplicaKey(site, storage_class, area), status, pfn))
    return found


def _write(connection: Connection, file_id: int, before: list[Copy], after: list[Copy]) -> None:
    """Make the file's rows at the site what ``after`` says."""
    old = {copy.key: copy for copy in before}
    new = {copy.key: copy for copy in after}
    for key in old.keys() - new.keys():
        connection.execute(replicas.delete().where(*_row(file_id, key)))
    for key in new.keys() & old.keys():
        if new[key] != old[key]:
            connection.execute(
                replicas.update()
                .where(*_row(file_id, key))
                .values(status=new[key].status, replica=new[key].pfn)
            )
    rows = [
        {
            "file_id": file_id,
            "site": key.site,
            "storageclass": key.storage_class,
            "area": key.area,
            "status": new[key].status,
            "replica": new[key].pfn,
        }
        for key in new.keys() - old.keys()
    ]
    if rows:
        connection.execute(replicas.insert(), rows)


def _row(file_id: int, key: ReplicaKey) -> list[sa.ColumnElement[bool]]:
    r = replicas.c
    return [
        r.file_id == file_id,
        r.site == key.site,
        r.storageclass == key.storage_class,
        r.area == key.area,
    ]
