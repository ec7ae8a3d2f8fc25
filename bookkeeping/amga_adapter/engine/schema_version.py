"""The catalogue's schema version: what keeps every process's schema cache correct.

Every operation that changes what the directory cache holds (directories, attributes,
ownership, permissions, ACLs, constraints) or what a principal is (group memberships)
bumps the version after its change, in the database. A session reads the version once per
operation (once per ``reading()`` block or transaction) before it trusts its cache: one
primary-key read. A new version empties the process's schema cache, prepared statements
and principals. So a call after an idle minute costs what a warm call costs, and a change
made by another process counts at the next operation, not after a time to live.

The bump comes after the change it announces (or with it, inside a transaction): a reader
that saw the old version may have cached the old schema, and the new version makes it load
again. Between the change and the bump another process may still use what it had cached,
as it would between two reads.
"""

from __future__ import annotations

import sqlalchemy as sa

from bookkeeping.amga_adapter.engine import system_tables as st

ROW_ID = 1
_READ = sa.select(st.schema_version.c.version).where(st.schema_version.c.id == ROW_ID)


def read(connection: sa.Connection) -> int:
    """The current version (0 before the first change)."""
    found = connection.scalar(_READ)
    return 0 if found is None else int(found)


def scalar() -> sa.ScalarSelect[int]:
    """The version as a column a statement can carry (NULL before the first change): a
    prepared read learns it with its rows, in the same round trip."""
    return _READ.scalar_subquery()


def bump(connection: sa.Connection) -> int:
    """Announce a schema change (in ``connection``'s transaction); the new version."""
    table = st.schema_version
    increment = table.update().where(table.c.id == ROW_ID).values(version=table.c.version + 1)
    if not connection.execute(increment).rowcount:
        try:
            with connection.begin_nested():
                connection.execute(table.insert().values(id=ROW_ID, version=1))
            return 1
        except sa.exc.IntegrityError:  # another process inserted it first
            connection.execute(increment)
    return read(connection)
