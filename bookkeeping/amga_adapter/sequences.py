"""Sequences of a session: named counters that live in a directory (``<dir>/<name>``).

``sequence_next`` is one UPDATE of the counter row followed by a read of it in the same
transaction: the UPDATE's row lock (``BEGIN IMMEDIATE`` on SQLite) serialises concurrent
callers, so no two of them get the same value. Inside an explicit transaction the value is
taken back by ``abort``.
"""

from __future__ import annotations

import sqlalchemy as sa

from bookkeeping.amga_adapter import paths
from bookkeeping.amga_adapter import system_tables as st
from bookkeeping.amga_adapter.errors import (
    InvalidValue,
    NoSuchSequence,
    SequenceExists,
)
from bookkeeping.amga_adapter.session_core import SessionCore

_BIGINT = 2**63 - 1


class SequenceOps(SessionCore):
    def sequence_create(
        self, name: str, directory: str, increment: int = 1, start: int = 1
    ) -> None:
        paths.check_name("sequence", name)
        increment, start = int(increment), int(start)
        if increment == 0 or not (abs(increment) <= _BIGINT and abs(start) <= _BIGINT):
            raise InvalidValue(f"sequence {name!r}: increment must be non-zero, both in bigint")
        target = self._abs(directory)

        def create(connection: sa.Connection) -> None:
            info = self._directory(connection, target)
            self.principal.require(info, "w", "create sequences")
            connection.execute(
                st.sequences.insert().values(
                    directory_id=info.id, name=name, increment=increment, next_value=start
                )
            )

        try:
            self._run(create, write=True)
        except sa.exc.IntegrityError:
            raise SequenceExists(f"sequence exists: {paths.join(target, name)}") from None

    def sequence_next(self, path: str) -> int:
        directory, name = paths.split(paths.require_single(self._abs(path)))

        def take(connection: sa.Connection) -> int:
            info = self._directory(connection, directory)
            self.principal.require(info, "w", "use sequences")
            key = (st.sequences.c.directory_id == info.id) & (st.sequences.c.name == name)
            updated = connection.execute(
                st.sequences.update()
                .where(key)
                .values(next_value=st.sequences.c.next_value + st.sequences.c.increment)
            ).rowcount
            if not updated:
                raise NoSuchSequence(f"no such sequence: {paths.join(directory, name)}")
            row = connection.execute(
                sa.select(st.sequences.c.next_value, st.sequences.c.increment).where(key)
            ).one()
            return int(row.next_value - row.increment)

        return self._run(take, write=True)

    def sequence_remove(self, path: str) -> None:
        directory, name = paths.split(paths.require_single(self._abs(path)))

        def remove(connection: sa.Connection) -> None:
            info = self._directory(connection, directory)
            self.principal.require(info, "w", "remove sequences")
            removed = connection.execute(
                st.sequences.delete().where(
                    st.sequences.c.directory_id == info.id, st.sequences.c.name == name
                )
            ).rowcount
            if not removed:
                raise NoSuchSequence(f"no such sequence: {paths.join(directory, name)}")

        self._run(remove, write=True)
