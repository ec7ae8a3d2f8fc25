"""Query operations of a session (its ``queries`` service): find, selectattr,
selectattr_union, select_query, updateattr.

The query package parses and compiles, through the session's ``Resolver``
(``resolver.py``). ``updateattr`` writes entries: it calls ``entries.written`` after.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, TypeVar

import sqlalchemy as sa

from bookkeeping.amga_adapter.engine import paths
from bookkeeping.amga_adapter.engine.directory_batch import warm
from bookkeeping.amga_adapter.engine.entries import Entries
from bookkeeping.amga_adapter.engine.errors import (
    ConstraintViolation,
    NoSuchDirectory,
)
from bookkeeping.amga_adapter.engine.resolver import compiled
from bookkeeping.amga_adapter.engine.session_core import SessionCore
from bookkeeping.amga_adapter.engine.streams import ResultStream
from bookkeeping.amga_adapter.query import (
    compile_find,
    compile_select,
    compile_update,
    glob_to_like,
)
from bookkeeping.amga_adapter.query.union import check_union_text, compile_union

FILE = "FILE"
T = TypeVar("T")


class Queries:
    """A session's ``queries`` service."""

    def __init__(self, core: SessionCore, entries: Entries) -> None:
        self.core = core
        self.entries = entries

    def find(self, pattern: str, condition: str = "") -> Iterator[str]:
        """Absolute paths of the readable entries matching ``pattern`` and ``condition``."""
        target = self.core.absolute(pattern)
        state: dict[str, str] = {}

        def build(connection: sa.Connection) -> sa.Select[Any]:
            directory, name_like = self._find_target(connection, target)
            state["directory"] = directory
            return compiled(
                self.core,
                connection,
                lambda resolver: compile_find(directory, condition, resolver, name_like=name_like),
            )

        return self.core.stream(build, lambda row: paths.join(state["directory"], row[0]))

    def selectattr(self, items: Sequence[str], condition: str = "") -> Iterator[tuple[Any, ...]]:
        """One tuple per result row, one value per selected item."""

        def build(connection: sa.Connection) -> sa.Select[Any]:
            return compiled(
                self.core,
                connection,
                lambda resolver: compile_select(list(items), condition, resolver),
            )

        return self.core.stream(build, tuple)

    def selectattr_union(
        self,
        directories: Sequence[str],
        items: Sequence[str],
        condition: str = "",
        *,
        with_directory: bool = False,
    ) -> Iterator[tuple[Any, ...]]:
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
        targets = [self.core.absolute(directory) for directory in directories]
        keys = list(items)
        if not targets:
            check_union_text(keys, condition)  # bad text is an error even with no directory
            return ResultStream([], tuple)

        def build(connection: sa.Connection) -> sa.Select[Any]:
            if not self.core.in_transaction:
                warm(self.core.catalogue.cache, connection, targets)
            return compiled(
                self.core,
                connection,
                lambda resolver: compile_union(
                    targets, keys, condition, resolver, with_directory=with_directory
                ),
            )

        if not with_directory:
            return self.core.stream(build, tuple)
        return self.core.stream(build, lambda row: (targets[row[0]], *row[1:]))

    def select_query(
        self, items: Sequence[str], condition: str = ""
    ) -> Iterator[dict[str, object]]:
        """Like selectattr, each row a dict keyed by the item as written."""
        keys = list(items)
        return self.core.stream(
            lambda connection: compiled(
                self.core, connection, lambda resolver: compile_select(keys, condition, resolver)
            ),
            lambda row: dict(zip(keys, row, strict=True)),
        )

    def updateattr(
        self, pattern: str, assignments: Sequence[tuple[str, str]], condition: str = ""
    ) -> int:
        """Set attributes to expressions (``Size+1``) on the writable matching entries."""
        target = self.core.absolute(pattern)

        def update(connection: sa.Connection) -> int:
            directory, name_like = self._find_target(connection, target)
            info = self.core.directory(connection, directory)
            self.core.principal.require(info, "w", "change entries")
            statement = compiled(
                self.core,
                connection,
                lambda resolver: compile_update(
                    directory, list(assignments), condition, resolver, name_like=name_like
                ),
            )
            table = statement.table
            writable = self.core.principal.entry_filter(info, table, "w")
            if writable is not None:
                statement = statement.where(writable)
            count = connection.execute(statement).rowcount
            self.entries.written(connection, info, None)
            return count

        try:
            return self.core.run(update, write=True)
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
                return self.core.directory(connection, target).path, None
            except NoSuchDirectory:
                if target == "/":
                    raise
        directory, glob = paths.split(target)
        return directory, glob_to_like(glob)
