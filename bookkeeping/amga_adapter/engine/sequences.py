"""Sequences of a session: named counters that live in a directory (``<dir>/<name>``).

``sequence_next`` is one UPDATE of the counter row followed by a read of it in the same
transaction (one ``UPDATE ... RETURNING`` where the database has it): the UPDATE's row lock
(``BEGIN IMMEDIATE`` on SQLite) serialises concurrent callers, so no two of them get the
same value. Inside an explicit transaction the value is taken back by ``abort``.

``sequence_next(path, count=n)`` reserves a *block*: the counter moves by ``n`` increments in
that one UPDATE and the first of the ``n`` values is returned (the others are
``first + k * increment``). A bulk writer reserves its ids this way, outside its data
transaction, so the counter row is locked only for the few milliseconds of the reservation
and parallel writers never wait on it for the length of their writes.
``sequences_next({path: n, ...})`` reserves several blocks in one short transaction (rows
locked in a fixed order, so two callers never deadlock).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import sqlalchemy as sa

from bookkeeping.amga_adapter.engine import paths
from bookkeeping.amga_adapter.engine import system_tables as st
from bookkeeping.amga_adapter.engine.errors import (
    InvalidValue,
    NoSuchSequence,
    SequenceExists,
)
from bookkeeping.amga_adapter.engine.session_core import SessionCore

if TYPE_CHECKING:
    from bookkeeping.amga_adapter.engine.replica_meta import MetaLog

_BIGINT = 2**63 - 1

# The reservation's statements, built once: a writer reserves ids for every report, and
# building and keying the expressions cost more than the database's work.
_SEQ = st.sequences.c
_KEY = (_SEQ.directory_id == sa.bindparam("sequence_directory")) & (
    _SEQ.name == sa.bindparam("sequence_name")
)
_MOVED = _SEQ.next_value + _SEQ.increment * sa.bindparam("count", type_=sa.BigInteger)
# The range condition catches SQLite, whose integers overflow to REAL silently; the server
# back-ends raise an error first.
_ADVANCE = (
    st.sequences.update().where(_KEY, _MOVED.between(-_BIGINT, _BIGINT)).values(next_value=_MOVED)
)
_ADVANCE_RETURNING = _ADVANCE.returning(_SEQ.next_value, _SEQ.increment)
_MOVED_TO = sa.select(_SEQ.next_value, _SEQ.increment).where(_KEY)
_EXISTS = sa.select(_SEQ.id).where(_KEY)
_TOGETHER: dict[tuple[str, int], sa.Update] = {}  # (dialect, number of sequences) -> UPDATE


def _advance_together(dialect: str, count: int) -> sa.Update:
    """One ``UPDATE ... RETURNING`` moving ``count`` sequences (parameters ``d<i>``,
    ``n<i>``, ``c<i>``: directory id, name, values to reserve), instead of one statement
    each. On PostgreSQL the rows are first locked in (directory id, name) order, the
    order ``take`` locks them in one by one (a materialised ``SELECT ... ORDER BY ... FOR
    UPDATE``: LockRows above the sort), so two callers reserving overlapping sequences
    wait for each other, never in a cycle; SQLite's ``BEGIN IMMEDIATE`` serialises
    writers already."""
    key = (dialect, count)
    statement = _TOGETHER.get(key)
    if statement is not None:
        return statement
    keys = [
        (_SEQ.directory_id == sa.bindparam(f"d{i}")) & (_SEQ.name == sa.bindparam(f"n{i}"))
        for i in range(count)
    ]
    wanted = sa.case(*((k, sa.bindparam(f"c{i}", type_=sa.BigInteger)) for i, k in enumerate(keys)))
    moved = _SEQ.next_value + _SEQ.increment * wanted
    chosen: sa.ColumnElement[bool] = sa.or_(*keys)
    if dialect == "postgresql":
        locked = (
            sa.select(_SEQ.id)
            .where(chosen)
            .order_by(_SEQ.directory_id, _SEQ.name)
            .with_for_update()
            .cte("locked")
        ).prefix_with("MATERIALIZED")
        chosen = _SEQ.id.in_(sa.select(locked.c.id))
    statement = (
        st.sequences.update()
        .where(chosen, moved.between(-_BIGINT, _BIGINT))
        .values(next_value=moved)
        .returning(_SEQ.directory_id, _SEQ.name, _SEQ.next_value, _SEQ.increment)
    )
    _TOGETHER[key] = statement
    return statement


class _Incomplete(Exception):
    """The one-statement reservation did not move every sequence (one is missing or
    would overflow): its transaction is rolled back and the sequences taken one by one,
    which tells which."""


MAX_BLOCK = 10_000_000  # values per reservation: far above any batch, far below bigint


def _check_count(path: str, count: object) -> int:
    # bool is an int subclass: True would silently mean one value.
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_BLOCK:
        raise InvalidValue(
            f"sequence {path}: the number of values to reserve must be a whole number "
            f"from 1 to {MAX_BLOCK}, not {count!r}"
        )
    return count


# Integer overflow, by each back-end's error code: PostgreSQL's SQLSTATE 22003
# (numeric_value_out_of_range), MariaDB's error 1690 (ER_DATA_OUT_OF_RANGE), Oracle's
# ORA-01426 (numeric overflow). SQLite overflows to REAL silently (see sequences_next).
_OVERFLOW_CODES: dict[str, object] = {"postgresql": "22003", "mariadb": 1690, "oracle": 1426}


def error_code(backend: str, exc: sa.exc.DBAPIError) -> object:
    """The database's own code for a driver error: psycopg's SQLSTATE on PostgreSQL,
    PyMySQL's error number (its first argument) on MariaDB, oracledb's ORA number
    (``args[0].code``) on Oracle; None when there is none."""
    orig = exc.orig
    if backend == "postgresql":
        return getattr(orig, "sqlstate", None)
    args = getattr(orig, "args", ())
    first = args[0] if args else None
    if backend == "mariadb":
        return first if isinstance(first, int) else None
    if backend == "oracle":
        return getattr(first, "code", None)
    return None


def is_overflow(backend: str, exc: sa.exc.DBAPIError) -> bool:
    return backend in _OVERFLOW_CODES and error_code(backend, exc) == _OVERFLOW_CODES[backend]


class Sequences:
    """A session's ``sequences`` service."""

    def __init__(self, core: SessionCore, meta: MetaLog) -> None:
        self.core = core
        self.meta = meta

    def sequence_create(
        self, name: str, directory: str, increment: int = 1, start: int = 1
    ) -> None:
        paths.check_name("sequence", name)
        increment, start = int(increment), int(start)
        if increment == 0 or not (abs(increment) <= _BIGINT and abs(start) <= _BIGINT):
            raise InvalidValue(f"sequence {name!r}: increment must be non-zero, both in bigint")
        target = self.core.absolute(directory)

        def create(connection: sa.Connection) -> None:
            info = self.core.directory(connection, target)
            self.core.principal.require(info, "w", "create sequences")
            connection.execute(
                st.sequences.insert().values(
                    directory_id=info.id, name=name, increment=increment, next_value=start
                )
            )

        try:
            self.core.run(create, write=True)
        except sa.exc.IntegrityError:
            raise SequenceExists(f"sequence exists: {paths.join(target, name)}") from None
        self.meta.directory_changed(target)

    def sequence_next(self, path: str, count: int = 1) -> int:
        """The next value of the sequence at ``path``; with ``count`` = n, the first of n
        values reserved at once."""
        return self.sequences_next({path: count})[path]

    def sequences_next(self, blocks: Mapping[str, int]) -> dict[str, int]:
        """Reserve ``blocks[path]`` values of each sequence, all in one transaction; returns
        the first value reserved for each path. Nothing is reserved if any path fails."""
        wanted: dict[tuple[str, str], tuple[str, int]] = {}
        for path, count in blocks.items():
            key = paths.split(paths.require_single(self.core.absolute(path)))
            wanted[key] = (path, _check_count(path, count))

        def take(connection: sa.Connection) -> dict[str, int]:
            firsts: dict[str, int] = {}
            infos = {}
            for directory, name in sorted(wanted):
                info = self.core.directory(connection, directory)
                self.core.principal.require(info, "w", "use sequences")
                infos[directory, name] = info
            # A fixed locking order (by directory id, then name, as take_together's): two
            # callers reserving the same sequences can wait for each other but never
            # deadlock.
            for directory, name in sorted(infos, key=lambda k: (infos[k].id, k[1])):
                path, count = wanted[directory, name]
                info = infos[directory, name]
                params = {"sequence_directory": info.id, "sequence_name": name, "count": count}
                overflow = InvalidValue(
                    f"sequence {paths.join(directory, name)}: reserving {count} values "
                    "would leave the bigint range"
                )
                try:
                    if connection.dialect.update_returning:  # one round trip, not two
                        row = connection.execute(_ADVANCE_RETURNING, params).first()
                    elif connection.execute(_ADVANCE, params).rowcount:
                        row = connection.execute(_MOVED_TO, params).one()
                    else:
                        row = None
                except sa.exc.DBAPIError as exc:
                    if is_overflow(self.core.catalogue.backend, exc):
                        raise overflow from None
                    raise
                if row is None:
                    if connection.execute(_EXISTS, params).first() is not None:
                        raise overflow
                    raise NoSuchSequence(f"no such sequence: {paths.join(directory, name)}")
                firsts[path] = int(row.next_value - row.increment * count)
            return firsts

        def take_together(connection: sa.Connection) -> dict[str, int]:
            ids: dict[tuple[int, str], tuple[str, int]] = {}
            params: dict[str, object] = {}
            for i, (directory, name) in enumerate(sorted(wanted)):
                path, count = wanted[directory, name]
                info = self.core.directory(connection, directory)
                self.core.principal.require(info, "w", "use sequences")
                ids[info.id, name] = path, count
                params.update({f"d{i}": info.id, f"n{i}": name, f"c{i}": count})
            statement = _advance_together(connection.dialect.name, len(wanted))
            try:
                found = connection.execute(statement, params).all()
            except sa.exc.DBAPIError as exc:
                if is_overflow(self.core.catalogue.backend, exc):
                    raise _Incomplete from None
                raise
            if len(found) != len(wanted):
                raise _Incomplete
            firsts: dict[str, int] = {}
            for row in found:
                path, count = ids[row.directory_id, row.name]
                firsts[path] = int(row.next_value - row.increment * count)
            return firsts

        # Several sequences in one statement where the database returns updated rows and
        # locks them in a fixed order (see _advance_together); MariaDB has no UPDATE
        # RETURNING and takes them one by one.
        # Only in a transaction of its own: a failed attempt must leave nothing behind.
        engine = self.core.catalogue.engine
        together = (
            len(wanted) > 1
            and not self.core.in_transaction
            and engine.dialect.name in {"postgresql", "sqlite"}
            and engine.dialect.update_returning
        )
        try:
            firsts = self.core.run(take_together if together else take, write=True)
        except _Incomplete:
            firsts = self.core.run(take, write=True)
        for directory in sorted({directory for directory, _ in wanted}):
            self.meta.directory_changed(directory)
        return firsts

    def sequence_remove(self, path: str) -> None:
        directory, name = paths.split(paths.require_single(self.core.absolute(path)))

        def remove(connection: sa.Connection) -> None:
            info = self.core.directory(connection, directory)
            self.core.principal.require(info, "w", "remove sequences")
            removed = connection.execute(
                st.sequences.delete().where(
                    st.sequences.c.directory_id == info.id, st.sequences.c.name == name
                )
            ).rowcount
            if not removed:
                raise NoSuchSequence(f"no such sequence: {paths.join(directory, name)}")

        self.core.run(remove, write=True)
        self.meta.directory_changed(directory)
