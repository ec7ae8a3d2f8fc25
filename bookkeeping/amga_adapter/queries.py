"""Query operations of a session: find, selectattr, selectattr_union, select_query,
updateattr.

The query package parses and compiles; this module supplies the ``Resolver`` it needs:
directory paths resolved against the session's current directory, attribute names mapped to
the generated columns, and the permission clause that keeps unreadable entries out.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import sqlalchemy as sa

from bookkeeping.amga_adapter import paths
from bookkeeping.amga_adapter.directory_batch import warm
from bookkeeping.amga_adapter.directory_info import DirectoryInfo
from bookkeeping.amga_adapter.entries import EntryOps
from bookkeeping.amga_adapter.errors import ConstraintViolation, NoSuchAttribute, NoSuchDirectory
from bookkeeping.amga_adapter.permissions import Principal
from bookkeeping.amga_adapter.query import (
    compile_find,
    compile_select,
    compile_update,
    glob_to_like,
)
from bookkeeping.amga_adapter.query.union import check_union_text, compile_union
from bookkeeping.amga_adapter.streams import ResultStream

FILE = "FILE"
T = TypeVar("T")


@dataclass
class ResolvedCatalogueDirectory:
    """A directory as the query compiler sees it (``query.ResolvedDirectory``)."""

    info: DirectoryInfo
    principal: Principal
    aliases_used: int = 0  # this compilation's aliases of the directory so far

    @property
    def path(self) -> str:
        return self.info.path

    def new_alias(self) -> sa.FromClause:
        """An alias distinct from the others of this compilation (one resolver each)."""
        alias = self.info.alias(self.aliases_used)
        self.aliases_used += 1
        return alias

    def column(self, source: sa.FromClause, attribute: str) -> sa.ColumnElement[Any]:
        if attribute.upper() == FILE:
            return source.c.name
        try:
            return source.c[self.info.attributes[attribute].column]
        except KeyError:
            raise NoSuchAttribute(
                f"directory {self.info.path} has no attribute {attribute!r}",
                attribute=attribute,
                path=self.info.path,
            ) from None

    def read_filter(self, source: sa.FromClause) -> sa.ColumnElement[bool] | None:
        return self.principal.entry_filter(self.info, source, "r")


class SessionResolver:
    """``query.Resolver`` for one session and one connection; every directory it resolves
    must be readable by the session's user."""

    def __init__(
        self,
        session: QueryOps,
        connection: sa.Connection,
        principal: Principal | None = None,
        *,
        fresh: bool = False,
    ) -> None:
        self.session = session
        self.connection = connection
        self.principal = principal or session.principal
        self.fresh = fresh
        self._resolved: dict[str, ResolvedCatalogueDirectory] = {}

    def directory(self, raw_path: str) -> ResolvedCatalogueDirectory:
        path = self.session._abs(raw_path)
        if path not in self._resolved:
            info = self.session._directory(self.connection, path, fresh=self.fresh)
            self.principal.require(info, "r", "query the directory")
            self._resolved[path] = ResolvedCatalogueDirectory(info, self.principal)
        return self._resolved[path]


def compiled(
    session: QueryOps, connection: sa.Connection, compile_: Callable[[SessionResolver], T]
) -> T:
    """``compile_`` with the cached schema; on an unknown attribute once more with every
    directory reloaded: another process may have added it since it was cached."""
    try:
        return compile_(SessionResolver(session, connection))
    except NoSuchAttribute:
        return compile_(SessionResolver(session, connection, fresh=True))


class QueryOps(EntryOps):
    def find(self, pattern: str, condition: str = "") -> Iterator[str]:
        """Absolute paths of the readable entries matching ``pattern`` and ``condition``."""
        target = self._abs(pattern)
        state: dict[str, str] = {}

        def build(connection: sa.Connection) -> sa.Select[Any]:
            directory, name_like = self._find_target(connection, target)
            state["directory"] = directory
            return compiled(
                self,
                connection,
                lambda resolver: compile_find(directory, condition, resolver, name_like=name_like),
            )

        return self._stream(build, lambda row: paths.join(state["directory"], row[0]))

    def selectattr(self, items: Sequence[str], condition: str = "") -> Iterator[tuple[object, ...]]:
        """One tuple per result row, one value per selected item."""

        def build(connection: sa.Connection) -> sa.Select[Any]:
            return compiled(
                self, connection, lambda resolver: compile_select(list(items), condition, resolver)
            )

        return self._stream(build, tuple)

    def selectattr_union(
        self,
        directories: Sequence[str],
        items: Sequence[str],
        condition: str = "",
        *,
        with_directory: bool = False,
    ) -> Iterator[tuple[object, ...]]:
        """``selectattr items condition`` in every directory of ``directories`` as one
        statement (engine extension, not an AMGA command; see docs/catalogue.md).

        Bare attribute names refer to each directory in turn; the rows are the UNION ALL
        of what ``selectattr`` would return with each directory as the current one (the
        read right and entry read filter of each directory apply), and ``order by``,
        ``limit``, ``offset`` apply to the union (``distinct``: UNION). With
        ``with_directory`` each row starts with the absolute path it came from. No
        directories: no rows."""
        if isinstance(directories, str):
            raise TypeError("directories must be a sequence of paths, not one string")
        targets = [self._abs(directory) for directory in directories]
        keys = list(items)
        if not targets:
            check_union_text(keys, condition)  # bad text is an error even with no directory
            return ResultStream([], tuple)

        def build(connection: sa.Connection) -> sa.Select[Any]:
            if not self.in_transaction:
                warm(self.catalogue.cache, connection, targets)
            return compiled(
                self,
                connection,
                lambda resolver: compile_union(
                    targets, keys, condition, resolver, with_directory=with_directory
                ),
            )

        if not with_directory:
            return self._stream(build, tuple)
        return self._stream(build, lambda row: (targets[row[0]], *row[1:]))

    def select_query(
        self, items: Sequence[str], condition: str = ""
    ) -> Iterator[dict[str, object]]:
        """Like selectattr, each row a dict keyed by the item as written."""
        keys = list(items)
        return self._stream(
            lambda connection: compiled(
                self, connection, lambda resolver: compile_select(keys, condition, resolver)
            ),
            lambda row: dict(zip(keys, row, strict=True)),
        )

    def updateattr(
        self, pattern: str, assignments: Sequence[tuple[str, str]], condition: str = ""
    ) -> int:
        """Set attributes to expressions (``Size+1``) on the writable matching entries."""
        target = self._abs(pattern)

        def update(connection: sa.Connection) -> int:
            directory, name_like = self._find_target(connection, target)
            info = self._directory(connection, directory)
            self.principal.require(info, "w", "change entries")
            statement = compiled(
                self,
                connection,
                lambda resolver: compile_update(
                    directory, list(assignments), condition, resolver, name_like=name_like
                ),
            )
            table = statement.table
            writable = self.principal.entry_filter(info, table, "w")  # type: ignore[arg-type]
            if writable is not None:
                statement = statement.where(writable)
            count = connection.execute(statement).rowcount
            self._after_write(connection, info, None)
            return count

        try:
            return self._run(update, write=True)
        except sa.exc.IntegrityError:
            raise ConstraintViolation(
                f"updateattr {pattern}: the new values break a unique constraint"
            ) from None

    def _find_target(
        self, connection: sa.Connection, target: str
    ) -> tuple[str, tuple[str, str] | None]:
        """``/dir`` (every entry) or ``/dir/glob`` -> (directory, name LIKE or None)."""
        name = target.rsplit("/", 1)[-1]
        if not paths.is_pattern(name):
            try:
                return self._directory(connection, target).path, None
            except NoSuchDirectory:
                if target == "/":
                    raise
        directory, glob = paths.split(target)
        return directory, glob_to_like(glob)
