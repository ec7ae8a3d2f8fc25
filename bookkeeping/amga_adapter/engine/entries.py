"""Entry operations of a session (its ``entries`` service): addentry, addentries, setattr,
getattr, rm, select_in.

Every entry write checks not-null constraints before it and, in its own transaction, calls
``written`` after it: the constraints are verified on the entries written, then the update
log records them (``update_log.py``). A removal tells the update log first.

An entry path is ``<directory>/<name>``; where a pattern is allowed the name may contain
``*`` and ``?``. Bulk inserts go to the database in batches of ``INSERT_BATCH`` rows through
``executemany``, all of them in one transaction: a failed ``addentries`` adds nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from itertools import islice
from typing import Any

import sqlalchemy as sa

from bookkeeping.amga_adapter.engine import paths
from bookkeeping.amga_adapter.engine.attributes import Attributes
from bookkeeping.amga_adapter.engine.constraints import Constraints
from bookkeeping.amga_adapter.engine.directory_info import DirectoryInfo
from bookkeeping.amga_adapter.engine.errors import (
    ConstraintViolation,
    EntryExists,
    NoSuchEntry,
    PermissionDenied,
)
from bookkeeping.amga_adapter.engine.permissions import (
    DEFAULT_ENTRY_GROUP_RIGHTS,
    DEFAULT_ENTRY_PERMISSIONS,
)
from bookkeeping.amga_adapter.engine.session_core import SessionCore
from bookkeeping.amga_adapter.engine.streams import ResultStream
from bookkeeping.amga_adapter.engine.types import check_text
from bookkeeping.amga_adapter.engine.update_log import UpdateLog
from bookkeeping.bulk import insert_rows
from bookkeeping.chunking import chunked

INSERT_BATCH = 2000
# Values per IN list of select_in. Small enough that PostgreSQL probes an index instead of
# scanning the table: with 1000 values its cost model prefers a sequential scan of a
# 100,000-entry directory (17 ms, against 0.2 ms for 500 index probes).
IN_CHUNK = 200


_SELECT_IN: dict[tuple[sa.Table, tuple[str, ...]], sa.Select[Any]] = {}
_MAX_SELECT_IN = 1024  # tables come and go (scratch databases, rebuilt views): bounded


def _select_in_query(table: sa.Table, columns: tuple[str, ...]) -> sa.Select[Any]:
    """``select_in``'s statement, built once per table and columns: a writer looks up a few
    names per report, and building and keying the statement cost more than the look-up."""
    key = (table, columns)
    query = _SELECT_IN.get(key)
    if query is None:
        query = sa.select(*(table.c[column] for column in columns)).where(
            table.c[columns[0]].in_(sa.bindparam("wanted", expanding=True))
        )
        if len(_SELECT_IN) >= _MAX_SELECT_IN:
            _SELECT_IN.clear()
        _SELECT_IN[key] = query
    return query


class Entries:
    """A session's ``entries`` service."""

    def __init__(
        self,
        core: SessionCore,
        attributes: Attributes,
        constraints: Constraints,
        log: UpdateLog,
    ) -> None:
        self.core = core
        self.attributes = attributes
        self.constraints = constraints
        self.log = log

    # -- writing ---------------------------------------------------------------------

    def addentry(self, path: str, values: Mapping[str, object], *, extend: bool = False) -> None:
        directory, name = paths.split(paths.require_single(self.core.absolute(path)))
        self.addentries(directory, [(name, values)], extend=extend)

    def addentries(
        self,
        directory: str,
        rows: Iterable[tuple[str, Mapping[str, object]]],
        *,
        extend: bool = False,
    ) -> int:
        """Add entries ``(name, {attribute: value})`` to ``directory``; returns how many.

        With ``extend`` missing attributes are added first (varchar(255)), which needs every
        row in memory before the data transaction; without it rows stream in batches.
        """
        target = self.core.absolute(directory)
        if extend:
            rows = list(rows)
            names = {attribute for _, values in rows for attribute in values}
            if names:
                self.attributes.ensure_attributes(target, dict.fromkeys(names))
        source = iter(rows)
        written: list[str] = []
        seen: set[str] = set()

        def insert_all(connection: sa.Connection) -> int:
            info = self.core.directory(connection, target)
            self.core.principal.require(info, "w", "add entries")
            total = 0
            while batch := list(islice(source, INSERT_BATCH)):
                info, columns, records = self._records(connection, info, batch, seen)
                written[:] = [str(record[0]) for record in records]
                insert_rows(connection, info.table, columns, records)
                self.written(connection, info, written)
                total += len(records)
            return total

        try:
            return self.core.run(insert_all, write=True, retry=False)
        except sa.exc.IntegrityError:
            raise self._explain_conflict(target, written) from None

    def setattr(
        self, path_or_pattern: str, values: Mapping[str, object], *, extend: bool = False
    ) -> int:
        """Set attributes of one entry or of every writable entry matching a pattern."""
        directory, name = paths.split(self.core.absolute(path_or_pattern))
        if not values:
            return 0
        if extend:
            self.attributes.ensure_attributes(directory, dict.fromkeys(values))

        def update(connection: sa.Connection) -> int:
            info = self.core.directory(connection, directory)
            self.core.principal.require(info, "w", "change entries")
            info, attributes = self.core.named_attributes(connection, info, list(values))
            assignments = {a.column: a.type.coerce(a.name, values[a.name]) for a in attributes}
            self.constraints.check_not_null(connection, info, {a: values[a] for a in values})
            selector = self._name_selector(info, name)
            statement = info.table.update().where(selector).values(assignments)
            writable = self.core.principal.entry_filter(info, info.table, "w")
            if writable is not None:
                statement = statement.where(writable)
            count = connection.execute(statement).rowcount
            if count == 0 and not paths.is_pattern(name):
                self._explain_missing(connection, info, name, "change")
            self.written(connection, info, None if paths.is_pattern(name) else [name])
            return count

        try:
            return self.core.run(update, write=True)
        except sa.exc.IntegrityError:
            raise ConstraintViolation(
                f"setattr {path_or_pattern}: the new values break a unique constraint"
            ) from None

    def rm(self, path_or_pattern: str) -> int:
        directory, name = paths.split(self.core.absolute(path_or_pattern))

        def delete(connection: sa.Connection) -> int:
            info = self.core.directory(connection, directory)
            self.core.principal.require(info, "w", "remove entries")
            where = self._name_selector(info, name)
            writable = self.core.principal.entry_filter(info, info.table, "w")
            if writable is not None:
                where = sa.and_(where, writable)
            self.log.entries_removing(connection, info, where)
            count = connection.execute(info.table.delete().where(where)).rowcount
            if count == 0 and not paths.is_pattern(name):
                self._explain_missing(connection, info, name, "remove")
            return count

        return self.core.run(delete, write=True)

    def written(
        self, connection: sa.Connection, info: DirectoryInfo, names: Sequence[str] | None
    ) -> None:
        """What follows every write of entries (``names``; ``None``: any of ``info``), in
        its transaction: the constraints are verified on them (a violation rolls the write
        back), then the update log records them."""
        self.constraints.verify_written(connection, info, names)
        self.log.entries_written(connection, info, names)

    # -- reading ---------------------------------------------------------------------

    def getattr(
        self, path_or_pattern: str, attributes: Sequence[str]
    ) -> Iterator[tuple[str, list[Any]]]:
        """(entry name, values) for one entry or every readable entry matching a pattern."""
        directory, name = paths.split(self.core.absolute(path_or_pattern))
        wanted = list(attributes)

        def build(connection: sa.Connection) -> sa.Select[Any]:
            info = self.core.directory(connection, directory)
            self.core.principal.require(info, "r", "read entries")
            info, found = self.core.named_attributes(connection, info, wanted)
            table = info.table
            query = sa.select(table.c.name, *(table.c[a.column] for a in found)).where(
                self._name_selector(info, name)
            )
            readable = self.core.principal.entry_filter(info, table, "r")
            if readable is not None:
                query = query.where(readable)
            return query.order_by(table.c.name)

        def convert(row: Any) -> tuple[str, list[object]]:
            return row[0], list(row[1:])

        if paths.is_pattern(name):
            return self.core.stream(build, convert)

        def read_one(connection: sa.Connection) -> Sequence[Any]:
            # One entry: one row at most, read in the same statement that proves it exists.
            rows = connection.execute(build(connection)).all()
            if not rows:
                info = self.core.directory(connection, directory)
                self._explain_missing(connection, info, name, "read")
            return rows

        return ResultStream(self.core.run(read_one, write=False), convert)

    def select_in(
        self,
        directory: str,
        key: str,
        values: Iterable[object],
        attributes: Sequence[str],
    ) -> list[tuple[Any, ...]]:
        """(``key``, *``attributes``) of the readable entries of ``directory`` whose ``key``
        attribute is one of ``values`` (engine extension, not an AMGA command).

        What ``selectattr`` answers for ``key in (v1, v2, ...)``, without query text: bulk
        writers look up thousands of ids or names per batch, and parsing and compiling a
        condition of thousands of literals cost more than the look-up. The values are
        checked against the attribute's type and bound as parameters, ``IN_CHUNK`` per
        statement; the read right and entry read filter apply as for ``selectattr``.
        """
        if isinstance(values, str | bytes):
            raise TypeError("values must be a collection of key values, not a string")
        if isinstance(attributes, str):
            raise TypeError("attributes must be a sequence of attribute names, not a string")
        target = self.core.absolute(directory)
        wanted = list(values)
        names = [key, *attributes]

        def read(connection: sa.Connection) -> list[tuple[Any, ...]]:
            info = self.core.directory(connection, target)
            self.core.principal.require(info, "r", "query the directory")
            info, found = self.core.named_attributes(connection, info, names)
            table = info.table
            coerce = found[0].type.coerce
            # Duplicates go after coercion: 5 and "5" are one key, which two chunks must
            # not both return.
            keys = list(dict.fromkeys(coerce(key, value) for value in wanted))
            readable = self.core.principal.entry_filter(info, table, "r")
            if readable is None:
                query = _select_in_query(table, tuple(a.column for a in found))
            else:
                query = _select_in_query(table, tuple(a.column for a in found)).where(readable)
            rows: list[tuple[object, ...]] = []
            for chunk in chunked(keys, IN_CHUNK):
                rows.extend(tuple(row) for row in connection.execute(query, {"wanted": chunk}))
            return rows

        return self.core.run(read, write=False)

    # -- internals -------------------------------------------------------------------

    def _name_selector(self, info: DirectoryInfo, name: str) -> sa.ColumnElement[bool]:
        check_text("entry name", name)
        if paths.is_pattern(name):
            return paths.name_matches(info.table.c.name, name)
        return info.table.c.name == name

    def _records(
        self,
        connection: sa.Connection,
        info: DirectoryInfo,
        batch: list[tuple[str, Mapping[str, object]]],
        seen: set[str],
    ) -> tuple[DirectoryInfo, list[str], list[tuple[object, ...]]]:
        """The columns the batch uses and one tuple of values per entry (NULL where an
        entry lacks an attribute), checked and coerced: ready for ``insert_rows``."""
        used = list(dict.fromkeys(attribute for _, values in batch for attribute in values))
        info, attributes = self.core.named_attributes(connection, info, used)
        # Looked up once per batch, not per value: this loop is the bulk path.
        columns = ["name", "owner", "permissions", "group_rights", *(a.column for a in attributes)]
        position = {a.name: index for index, a in enumerate(attributes, start=4)}
        coerce = [None] * 4 + [a.type.coerce for a in attributes]
        blank: list[Any] = [
            None,
            self.core.user,
            DEFAULT_ENTRY_PERMISSIONS,
            DEFAULT_ENTRY_GROUP_RIGHTS,
        ]
        blank += [None] * len(attributes)
        checks_not_null = any(c.kind == "not_null" for c in info.constraints)
        records: list[tuple[object, ...]] = []
        for name, values in batch:
            paths.check_name("entry", name)
            if name in seen:
                path = paths.join(info.path, name)
                raise EntryExists(f"entry {path} given twice", path=path)
            seen.add(name)
            if checks_not_null:
                self.constraints.check_not_null(connection, info, values, insert=True)
            record = blank.copy()
            record[0] = name
            for key, value in values.items():
                index = position[key]
                record[index] = coerce[index](key, value)  # type: ignore[misc]
            records.append(tuple(record))
        return info, columns, records

    def _explain_missing(
        self, connection: sa.Connection, info: DirectoryInfo, name: str, verb: str
    ) -> None:
        """No row matched one entry name: it does not exist, or the user may not ``verb`` it."""
        exists = connection.execute(
            sa.select(info.table.c.name).where(info.table.c.name == name)
        ).first()
        path = paths.join(info.path, name)
        if exists is None:
            raise NoSuchEntry(f"no such entry: {path}", path=path)
        raise PermissionDenied(
            f"permission denied: {self.core.user} may not {verb} {path}", path=path
        )

    def _explain_conflict(self, directory: str, names: list[str]) -> Exception:
        """Name the entry that made an insert fail: an existing one, or a unique constraint."""

        def existing(connection: sa.Connection) -> list[str]:
            info = self.core.directory(connection, directory)
            found: list[str] = []
            for chunk in chunked(names, INSERT_BATCH):
                found += connection.scalars(
                    sa.select(info.table.c.name).where(info.table.c.name.in_(chunk)).limit(1)
                ).all()
                if found:
                    break
            return found

        clash = self.core.explaining_read(existing)
        if clash:
            path = paths.join(directory, clash[0])
            return EntryExists(f"entry exists: {path}", path=path)
        return ConstraintViolation(f"adding entries to {directory} breaks a unique constraint")
