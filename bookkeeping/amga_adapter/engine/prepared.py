"""Prepared reads: SQLAlchemy Core statements over directories, built once per call shape
(an engine extension for in-process callers such as the catalogue bookkeeping).

The query language is how users and the protocol speak; a caller in this process that
asks the same questions over and over (the bookkeeping) need not spell them as text to be
parsed, typed and compiled again on each call. It names the directories a statement reads
and a function building the statement from them, with bound parameters for every value;
the statement is built once per (shape, principal, schema of those directories) and reused
with new values, so SQLAlchemy's compiled cache serves it too.

Permissions are the engine's, as for any query: each directory must be readable by the
session's user (``r``), and the builder sees only its readable entries (a directory with an
entry read filter is given as the filtered rows, which the databases fold into the outer
statement). The statement runs on the session's connection like any read (inside
``reading()``: the block's connection, rows read at once, no server-side cursor).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import sqlalchemy as sa

from bookkeeping.amga_adapter.engine import schema_version
from bookkeeping.amga_adapter.engine.directory_info import DirectoryInfo
from bookkeeping.amga_adapter.engine.errors import NoSuchAttribute
from bookkeeping.amga_adapter.engine.permissions import Principal

if TYPE_CHECKING:
    from bookkeeping.amga_adapter.engine.session_core import SessionCore

M = TypeVar("M")
CACHE_SIZE = 1024  # statements kept per catalogue (call shapes x principals)


@dataclass(frozen=True)
class Source:
    """One directory as a prepared statement may read it: its readable entries."""

    info: DirectoryInfo
    table: sa.FromClause

    @property
    def path(self) -> str:
        return self.info.path

    @property
    def entry_name(self) -> sa.ColumnElement[str]:
        """The entry's name (the table's primary key)."""
        return self.table.c.name

    def has(self, attribute: str) -> bool:
        return attribute in self.info.attributes

    def __getitem__(self, attribute: str) -> sa.ColumnElement[Any]:
        return self.table.c[self.info.attribute(attribute).column]


@dataclass(frozen=True)
class Prepared(Generic[M]):
    """A built statement and what its builder wants to remember about it (column names,
    say), reused while the schema of its directories is the same."""

    statement: sa.Executable
    meta: M
    # The statement with the schema version as its last column (plain selects only).
    versioned: sa.Executable | None = None


Builder = Callable[[Sequence[Source]], Prepared[M]]


def readable(info: DirectoryInfo, principal: Principal, occurrence: int) -> sa.FromClause:
    """The ``occurrence``-th reference to ``info``'s table, cut to the entries
    ``principal`` may read."""
    alias = info.alias(occurrence)
    condition = principal.entry_filter(info, alias, "r")
    if condition is None:
        return alias
    return sa.select(alias).where(condition).subquery()


def _with_version(prepared: Prepared[M]) -> Prepared[M]:
    statement = prepared.statement
    if not isinstance(statement, sa.Select):
        return prepared
    versioned = statement.add_columns(schema_version.scalar().label("bk_schema_version"))
    return Prepared(statement, prepared.meta, versioned)


class StatementCache:
    """Prepared statements of a catalogue, shared by its sessions (thread-safe, bounded)."""

    def __init__(self, size: int = CACHE_SIZE) -> None:
        self.size = size
        self._lock = threading.Lock()
        self._entries: OrderedDict[Hashable, tuple[tuple[DirectoryInfo, ...], Prepared[Any]]] = (
            OrderedDict()
        )

    def get(self, key: Hashable, infos: Sequence[DirectoryInfo]) -> Prepared[Any] | None:
        """The statement of ``key`` if it was built from exactly ``infos`` (a reloaded
        directory is a new ``DirectoryInfo``: identity says the schema is the same)."""
        with self._lock:
            found = self._entries.get(key)
            if found is None or len(found[0]) != len(infos):
                return None
            if any(old is not new for old, new in zip(found[0], infos, strict=True)):
                return None
            self._entries.move_to_end(key)
            return found[1]

    def put(self, key: Hashable, infos: Sequence[DirectoryInfo], prepared: Prepared[Any]) -> None:
        with self._lock:
            self._entries[key] = (tuple(infos), prepared)
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


class PreparedReads:
    """A session's prepared reads (``session.prepared``)."""

    def __init__(self, session: SessionCore) -> None:
        self._session = session

    def rows(
        self,
        key: Hashable,
        directories: Sequence[str],
        build: Builder[M],
        params: Mapping[str, Any] | None = None,
    ) -> tuple[M, list[Any]]:
        """Run the statement ``build`` makes from ``directories`` (absolute paths) with
        ``params``; its meta and every row, read at once (for bounded answers)."""
        session = self._session
        values = dict(params or {})

        def read(connection: sa.Connection) -> tuple[M, list[Any]]:
            if session.schema.validated:
                prepared = self._prepared(connection, key, directories, build)
                return prepared.meta, list(connection.execute(prepared.statement, values).all())
            # Not validated yet in this operation: the statement reads the schema version
            # along with its rows (one round trip); if the version moved, the caches were
            # emptied and the answer is computed again from the new schema.
            with session.schema.deferred():
                prepared = self._prepared(connection, key, directories, build)
            found: list[Any] | None = None
            if prepared.versioned is not None:
                rows = connection.execute(prepared.versioned, values).all()
                found = [row[:-1] for row in rows]
                if rows:
                    session.schema.validated_by(rows[0][-1])
            if not found:  # no row to carry the version: read it alone
                session.schema.validate(connection)
            again = self._prepared(connection, key, directories, build)
            if found is None or again is not prepared:  # not run yet, or on a stale schema
                found = list(connection.execute(again.statement, values).all())
            return again.meta, found

        return session.run(read, write=False)

    def subdirectories(self, path: str) -> list[str]:
        """The names of the sub-directories of ``path`` (absolute), sorted, from the
        schema cache (``r`` on ``path`` needed)."""
        session = self._session

        def read(connection: sa.Connection) -> list[str]:
            info = session.directory(connection, path)
            session.principal.require(info, "r", "list the directory")
            return session.catalogue.cache.children(connection, info)

        return session.run(read, write=False)

    def stream(
        self,
        key: Hashable,
        directories: Sequence[str],
        build: Builder[Any],
        params: Mapping[str, Any] | None = None,
    ) -> Iterator[tuple[Any, ...]]:
        """Like ``rows``, streamed (a server-side cursor outside ``reading()`` and
        transactions), for answers of any size."""
        values = dict(params or {})

        def statement(connection: sa.Connection) -> sa.Executable:
            prepared = self._prepared(connection, key, directories, build)
            # Bound values on a copy: the cache key, and so the compiled form, is the same.
            # A select()'s Executable has params(); the stub's Executable does not say so.
            return prepared.statement.params(values)  # type: ignore[attr-defined]

        return self._session.stream(statement, tuple)

    def _prepared(
        self,
        connection: sa.Connection,
        key: Hashable,
        directories: Sequence[str],
        build: Builder[M],
    ) -> Prepared[M]:
        session = self._session
        principal = session.principal
        cache = session.catalogue.statements
        for fresh in (False, True):
            infos = [session.directory(connection, path, fresh=fresh) for path in directories]
            for info in infos:
                principal.require(info, "r", "query the directory")
            full_key = (key, principal, tuple(directories))
            found = cache.get(full_key, infos)
            if found is not None:
                return found
            seen: dict[str, int] = {}
            sources = []
            for info in infos:
                occurrence = seen.get(info.path, 0)
                seen[info.path] = occurrence + 1
                sources.append(Source(info, readable(info, principal, occurrence)))
            try:
                prepared = _with_version(build(sources))
            except NoSuchAttribute:
                if fresh or session.in_transaction:
                    raise
                continue  # another process may have added it since it was cached
            if not session.in_transaction:  # an uncommitted schema stays out of the cache
                cache.put(full_key, infos, prepared)
            return prepared
        raise AssertionError("unreachable")
