"""The catalogue's update log for subtree replication (docs/replication.md).

On a **master**, every entry write under a subtree registered with role ``master`` adds a
record to ``replication_log`` in the write's own transaction: the written entries' whole
state (``upsert``: every attribute, read back after the write, so ``setattr`` patterns and
``updateattr`` expressions log what they produced) or the names removed (``delete``).
Records are numbered from a counter row updated in the same transaction; its row lock, held
until commit, makes numbers follow commit order, so a shipper reading "after N" never skips
a transaction that committed late.

The entry and attribute services call ``UpdateLog`` explicitly: ``entries_written`` after a
write, ``entries_removing`` before a delete, ``schema_removed`` after ``rmdir`` and
``removeattr``. Which subtrees are replicated, and the guard that keeps users from writing
under a **slave** subtree, are in ``subtree_roles.py``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from bookkeeping.amga_adapter.engine.directory_info import DirectoryInfo
from bookkeeping.amga_adapter.engine.subtree_roles import GuardedPrincipal, roles_for
from bookkeeping.engines import write_transaction
from bookkeeping.replication.tables import replication_counter, replication_log

if TYPE_CHECKING:
    from bookkeeping.amga_adapter.engine.session_core import SessionCore

COUNTER = "log"


class UpdateLog:
    """A session's update log: what its entry and schema writes add to ``replication_log``."""

    def __init__(self, core: SessionCore) -> None:
        self.core = core

    def entries_written(
        self, connection: sa.Connection, info: DirectoryInfo, names: Sequence[str] | None
    ) -> None:
        """The entries ``names`` (``None``: any) of ``info`` were just written."""
        if self.logged(connection, info, "change entries"):
            log_upsert(connection, info, names)

    def entries_removing(
        self, connection: sa.Connection, info: DirectoryInfo, where: sa.ColumnElement[bool]
    ) -> None:
        """The entries ``where`` selects in ``info`` are about to be removed."""
        if self.logged(connection, info, "remove entries"):
            removed = connection.scalars(sa.select(info.table.c.name).where(where)).all()
            if removed:
                append(connection, info.path, "delete", {"names": list(removed)})

    def schema_removed(self, path: str, op: str, payload: dict[str, Any]) -> None:
        """A directory or attribute was removed (``op``: ``rmdir`` or ``removeattr``).

        Schema removals are DDL (which commits by itself on MariaDB): logged just after
        they succeed, in a transaction of their own. A crash in between leaves the slave
        with a directory or column its master no longer has, never missing data."""
        connection = self.core.connection_in_transaction
        if connection is not None:
            if self.logged(connection, path, op):
                append(connection, path, op, payload)
            return
        with write_transaction(self.core.catalogue.engine) as connection:
            if self.logged(connection, path, op):
                append(connection, path, op, payload)

    def logged(self, connection: sa.Connection, info: DirectoryInfo | str, action: str) -> bool:
        """Whether this entry write is logged; refused (rolled back) under a slave subtree
        (the guard again, with roles read in this transaction)."""
        path = info if isinstance(info, str) else info.path
        found = roles_for(self.core.catalogue.engine).role_of(path, connection)
        if found is None:
            return False
        principal = self.core.principal
        if found[1] == "slave" and isinstance(principal, GuardedPrincipal):
            principal.refuse_on_slave(path, action)
        return found[1] == "master"


def log_upsert(connection: sa.Connection, info: DirectoryInfo, names: Sequence[str] | None) -> None:
    """Log the whole state of the entries ``names`` of ``info`` (None: all of them): their
    attributes, and their owner and rights (``meta``, in the same order)."""
    attributes = list(info.attributes.values())
    table = info.table
    query = sa.select(
        table.c.name,
        table.c.owner,
        table.c.permissions,
        table.c.group_rights,
        *(table.c[a.column] for a in attributes),
    )
    if names is not None:
        query = query.where(table.c.name.in_(list(names)))
    rows = connection.execute(query.order_by(table.c.name)).all()
    if not rows:
        return
    payload = {
        "types": {a.name: a.type.spec for a in attributes},
        "rows": [[row[0], [_plain(value) for value in row[4:]]] for row in rows],
        "meta": [list(row[1:4]) for row in rows],
    }
    append(connection, info.path, "upsert", payload)


def _plain(value: object) -> object:
    """A JSON value the slave's attribute types coerce back exactly."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return repr(value)  # the shortest text that reads back as the same float
    return str(value)  # Decimal, date, datetime: their text form


def append(
    connection: sa.Connection,
    directory: str,
    op: str,
    payload: dict[str, Any],
    *,
    fill: Callable[[], dict[str, Any]] | None = None,
) -> int:
    """Add a record in ``connection``'s transaction; returns its number. ``fill`` makes
    the payload after the counter row is locked (so a later number reads a later state)."""
    counter = replication_counter.c
    updated = connection.execute(
        replication_counter.update()
        .where(counter.name == COUNTER)
        .values(value=replication_counter.c.value + 1)
    ).rowcount
    if not updated:
        # The first record of this database (registering a master subtree adds the row).
        connection.execute(replication_counter.insert().values(name=COUNTER, value=1))
    number = int(
        connection.execute(sa.select(counter.value).where(counter.name == COUNTER)).scalar_one()
    )
    if fill is not None:
        payload = fill()
    connection.execute(
        replication_log.insert().values(
            id=number,
            created=time.time(),
            directory=directory,
            op=op,
            payload=json.dumps(payload, separators=(",", ":")),
        )
    )
    return number
