"""Warehouse ids, handed out in blocks from counter rows (``idCounters``).

Why a counter table and not the databases' own sequences: SQLite has none; PostgreSQL's
and Oracle's ``nextval`` hand out one value per call, so a block of n consecutive ids would
need a sequence whose increment is the block size, fixed in advance; MariaDB's sequences
exist only from 10.3 and differ again. One table with one row per kind of id works the same
on all four, and a block of any size costs one UPDATE. Ids are consecutive within a block,
and with one writer blocks follow one another, so the ids are what ``max + 1`` would have
given: the catalogue implementation (catalogue sequences, same rule) gives the same ids.

A block is reserved in a short transaction of its own, committed at once: the counter row
is locked for milliseconds, never for the length of the writer's data transaction, so
parallel writers do not queue on it. An id of a block whose data transaction then fails is
never used (a gap); nothing else is lost.

A counter that does not exist yet (a database made from the metadata, or before revision
0005 initialised it) starts above the largest id already recorded.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from bookkeeping.engines import write_transaction
from bookkeeping.warehouse.tables import files, id_counters, jobs, type_params
from bookkeeping.writer.model import TYPE_PARAMETER_NAME, TYPE_PARAMETER_VERSION
from bookkeeping.writer.planning import FileTypeKey

JOBS = "jobs"
FILES = "files"
FILE_TYPES = "file_types"

# The id column each counter numbers (its largest value starts a new counter).
_NUMBERED: dict[str, sa.Column] = {
    JOBS: jobs.c.job_id,
    FILES: files.c.file_id,
    FILE_TYPES: type_params.c.type_id,
}


class _MissingCounter(Exception):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


def reserve(engine: Engine, counts: Mapping[str, int]) -> dict[str, int]:
    """Reserve ``counts[name]`` ids of each counter, in one committed transaction; returns
    the first id of each block (the block is ``first .. first + count - 1``). Counts of
    zero reserve nothing and return no entry."""
    wanted = {name: count for name, count in counts.items() if count > 0}
    if not wanted:
        return {}
    for _ in range(len(wanted) + 1):
        try:
            with write_transaction(engine) as connection:
                return {name: _advance(connection, name, wanted[name]) for name in sorted(wanted)}
        except _MissingCounter as missing:  # rolled back: nothing was reserved
            _initialise(engine, missing.name)
    raise AssertionError("unreachable: every counter exists after initialisation")


def ensure_file_types(
    engine: Engine, keys: Iterable[FileTypeKey], known: Mapping[FileTypeKey, int]
) -> dict[FileTypeKey, int]:
    """The ids of the file types ``keys``, creating the missing ones (in the order given)
    in a short committed transaction; returns ``known`` plus the ids of ``keys``.

    typeParams stores a file type as two name/value rows, which no unique constraint can
    cover; instead every creator first locks the file-type counter row and then reads the
    file types again, so two writers racing for a new file type create it once and both
    use its id.
    """
    result = dict(known)
    wanted = [key for key in dict.fromkeys(keys) if key not in result]
    if not wanted:
        return result
    for _ in range(2):
        try:
            with write_transaction(engine) as connection:
                next_value = _locked_value(connection, FILE_TYPES)
                result.update(known_file_types(connection))
                missing = [key for key in wanted if key not in result]
                if missing:
                    rows = []
                    for offset, (name, version) in enumerate(missing):
                        type_id = result[name, version] = next_value + offset
                        rows += [
                            {"type_id": type_id, "name": TYPE_PARAMETER_NAME, "value": name},
                            {"type_id": type_id, "name": TYPE_PARAMETER_VERSION, "value": version},
                        ]
                    connection.execute(type_params.insert(), rows)
                    connection.execute(
                        id_counters.update()
                        .where(id_counters.c.name == FILE_TYPES)
                        .values(next_value=next_value + len(missing))
                    )
                return result
        except _MissingCounter as missing_counter:
            _initialise(engine, missing_counter.name)
    raise AssertionError("unreachable: the counter exists after initialisation")


def known_file_types(connection: Connection) -> dict[FileTypeKey, int]:
    """(Name, Version) -> type_id: the typeParams self-join (file types are few)."""
    name = type_params.alias("type_name")
    version = type_params.alias("type_version")
    query = sa.select(name.c.type_id, name.c.value, version.c.value).join(
        version,
        sa.and_(version.c.type_id == name.c.type_id, version.c.name == TYPE_PARAMETER_VERSION),
    )
    query = query.where(name.c.name == TYPE_PARAMETER_NAME)
    return {(n, v): type_id for type_id, n, v in connection.execute(query)}


def _advance(connection: Connection, name: str, count: int) -> int:
    """Move the counter ``name`` on by ``count``; the first value of the block."""
    row = id_counters.c.name == name
    moved = id_counters.c.next_value + count
    if connection.dialect.update_returning:  # one round trip (not on MariaDB)
        value = connection.scalar(
            id_counters.update()
            .where(row)
            .values(next_value=moved)
            .returning(id_counters.c.next_value)
        )
    else:
        if not connection.execute(
            id_counters.update().where(row).values(next_value=moved)
        ).rowcount:
            raise _MissingCounter(name)
        value = connection.scalar(sa.select(id_counters.c.next_value).where(row))
    if value is None:
        raise _MissingCounter(name)
    return int(value) - count


def _locked_value(connection: Connection, name: str) -> int:
    """The counter's value, its row locked until the transaction ends (``FOR UPDATE``;
    SQLite's ``BEGIN IMMEDIATE`` has locked the whole database already)."""
    value = connection.scalar(
        sa.select(id_counters.c.next_value).where(id_counters.c.name == name).with_for_update()
    )
    if value is None:
        raise _MissingCounter(name)
    return int(value)


def _initialise(engine: Engine, name: str) -> None:
    """Create the counter ``name`` above the largest id recorded; a writer that races us
    to it makes the same row (the primary key keeps one)."""
    column = _NUMBERED[name]
    try:
        with write_transaction(engine) as connection:
            largest = connection.scalar(sa.select(sa.func.coalesce(sa.func.max(column), 0)))
            next_value = int(largest or 0) + 1
            connection.execute(id_counters.insert().values(name=name, next_value=next_value))
    except sa.exc.IntegrityError:
        pass
