"""Attribute (schema) operations of a session, including add-on-first-use.

Adding an attribute takes three steps, each idempotent, so two connections adding the same
attribute at once both succeed and a crash at any point leaves something the next attempt
completes:

1. insert the attribute row with ``ready = false``; the unique (directory, name) constraint
   decides which connection created it, the loser reads the winner's row;
2. ``ALTER TABLE catd_<dir> ADD COLUMN IF NOT EXISTS a<attribute id>`` (whoever sees the row
   not ready runs it; the statement is a no-op the second time);
3. mark the row ready. Only ready attributes are visible to queries and writes.

Removing an attribute also forgets the constraints and drops the indexes that name it, and
is recorded in the update log: the service calls ``constraints``, ``indexes`` and ``log``.
"""

from __future__ import annotations

from collections.abc import Mapping

import sqlalchemy as sa

from bookkeeping import db_errors
from bookkeeping.amga_adapter.engine import paths
from bookkeeping.amga_adapter.engine import system_tables as st
from bookkeeping.amga_adapter.engine.constraints import Constraints
from bookkeeping.amga_adapter.engine.directory_info import Attribute, DirectoryInfo
from bookkeeping.amga_adapter.engine.directory_tables import add_column, add_columns, drop_column
from bookkeeping.amga_adapter.engine.errors import (
    AttributeExists,
    AttributeInUse,
    NoSuchDirectory,
)
from bookkeeping.amga_adapter.engine.indexes import Indexes
from bookkeeping.amga_adapter.engine.session_core import SessionCore
from bookkeeping.amga_adapter.engine.types import AttributeType, parse_type
from bookkeeping.amga_adapter.engine.update_log import UpdateLog
from bookkeeping.retry import retrying

# Attempts at adding attributes when the database breaks a lock cycle between writers
# adding overlapping sets (InnoDB's unique-index locks make this a normal event there).
ENSURE_ATTEMPTS = 4


class Attributes:
    """A session's ``attributes`` service."""

    def __init__(
        self, core: SessionCore, constraints: Constraints, indexes: Indexes, log: UpdateLog
    ) -> None:
        self.core = core
        self.constraints = constraints
        self.indexes = indexes
        self.log = log

    def listattr(self, path: str) -> list[tuple[str, str]]:
        """(name, type) of the attributes of a directory, or of the entry's directory."""
        target = self.core.absolute(path)

        def read(connection: sa.Connection) -> list[tuple[str, str]]:
            try:
                # The cache, validated by the schema version: no reload.
                info = self.core.directory(connection, target)
            except NoSuchDirectory:
                if target == "/":
                    raise
                info = self.core.directory(connection, paths.split(target)[0])
            self.core.principal.require(info, "r", "read the attributes")
            return [(a.name, a.type.spec) for a in info.attributes.values()]

        return self.core.run(read, write=False)

    def addattr(self, directory: str, name: str, type_: str) -> None:
        paths.check_attribute_name(name)
        wanted = {name: parse_type(type_)}
        target = self.core.absolute(directory)
        info = self._writable_directory(target, "add attributes")
        if name in info.attributes:
            raise AttributeExists(f"attribute {name!r} exists in {target}", attribute=name)
        if not self._add_attributes(info, wanted, exclusive=True):
            raise AttributeExists(f"attribute {name!r} exists in {target}", attribute=name)

    def ensure_attributes(self, directory: str, attributes: Mapping[str, str | None]) -> list[str]:
        """Add the attributes ``directory`` lacks (``None`` type = varchar(255)); returns the
        names this call added. Existing attributes keep their type."""
        wanted = {
            paths.check_attribute_name(name): parse_type(type_)
            for name, type_ in attributes.items()
        }
        target = self.core.absolute(directory)
        info = self.core.run(lambda c: self.core.directory(c, target), write=False)
        if all(name in info.attributes for name in wanted):
            return []  # the common case: no round trip beyond the cached lookup
        added: list[str] = []

        def attempt() -> None:
            info = self._writable_directory(target, "add attributes")
            self._add_attributes(info, wanted, exclusive=False, added=added)

        if self.core.in_transaction:
            attempt()  # a broken lock cycle aborted the caller's transaction: no retry
        else:
            # Every step is idempotent and ``added`` keeps what earlier attempts claimed.
            retrying(
                attempt,
                retry_on=_lock_conflict,
                attempts=ENSURE_ATTEMPTS,
                before_retry=lambda: self.core.catalogue.cache.invalidate(target),
            )
        return added

    def removeattr(self, directory: str, name: str, *, force: bool = False) -> None:
        target = self.core.absolute(directory)

        def remove(connection: sa.Connection) -> Attribute:
            info = self.core.directory(connection, target, fresh=True)
            self.core.principal.require(info, "w", "remove attributes")
            attribute = info.attribute(name)
            column = info.table.c[attribute.column]
            if (
                not force
                and connection.execute(
                    sa.select(info.table.c.name).where(column.is_not(None)).limit(1)
                ).first()
            ):
                raise AttributeInUse(
                    f"attribute {name!r} of {target} still has values (use force to drop it)",
                    attribute=name,
                )
            # The row goes first: from then on nobody writes the column it described.
            connection.execute(st.attributes.delete().where(st.attributes.c.id == attribute.id))
            self.constraints.drop_on(connection, info, name)
            self.indexes.drop_on(connection, info, attribute)
            return attribute

        with self.core.schema_connection(target) as connection:
            attribute = remove(connection)
        self.core.schema_changed(target)
        with self.core.schema_connection(target) as connection:
            info = self.core.directory(connection, target, fresh=True)
            drop_column(connection, info.id, attribute.column)
        self.log.schema_removed(target, "removeattr", {"name": name})

    def clearattr(self, directory: str, name: str) -> None:
        target = self.core.absolute(directory)

        def clear(connection: sa.Connection) -> None:
            info = self.core.directory(connection, target)
            self.core.principal.require(info, "w", "clear attributes")
            column = info.attribute(name).column
            update = info.table.update().values({column: None})
            writable = self.core.principal.entry_filter(info, info.table, "w")
            if writable is not None:
                update = update.where(writable)
            self.constraints.check_not_null(connection, info, {name: None})
            connection.execute(update)

        self.core.run(clear, write=True)

    # -- internals -------------------------------------------------------------------

    def _writable_directory(self, target: str, action: str) -> DirectoryInfo:
        def load(connection: sa.Connection) -> DirectoryInfo:
            info = self.core.directory(connection, target, fresh=True)
            self.core.principal.require(info, "w", action)
            return info

        return self.core.run(load, write=False)

    def _add_attributes(
        self,
        info: DirectoryInfo,
        wanted: Mapping[str, AttributeType],
        *,
        exclusive: bool,
        added: list[str] | None = None,
    ) -> list[str]:
        """Steps 1-3 of the module docstring for every attribute ``info`` lacks. The names
        this call claims are appended to ``added`` as their claims commit (so a caller that
        tries again after a failure still knows them) and returned."""
        if added is None:
            added = []
        missing = {name: type_ for name, type_ in wanted.items() if name not in info.attributes}
        if len(missing) > 1 and not exclusive:
            try:
                self._add_attributes_together(info, missing, added)
            except sa.exc.IntegrityError:
                pass  # a concurrent writer claimed one of them first: one at a time below
            else:
                self.core.schema_changed(info.path)
                return added
        for name, type_ in wanted.items():
            if name in info.attributes:
                continue
            with self.core.schema_connection(info.path) as connection:
                attribute_id, ready, created = self._claim(connection, info.id, name, type_)
            if created:
                added.append(name)
            elif exclusive:
                continue
            if ready:
                continue
            stored = Attribute(attribute_id, name, type_)
            try:
                with self.core.schema_connection(info.path) as connection:
                    row = connection.execute(
                        sa.select(st.attributes.c.type).where(st.attributes.c.id == attribute_id)
                    ).one()
                    stored = Attribute(attribute_id, name, parse_type(row.type))
                    add_column(connection, info.id, stored)
            except sa.exc.DBAPIError:
                if created:
                    self._unclaim(attribute_id)
                    added.remove(name)
                raise
            with self.core.schema_connection(info.path) as connection:
                connection.execute(
                    st.attributes.update()
                    .where(st.attributes.c.id == attribute_id)
                    .values(ready=True)
                )
        if added:
            self.core.schema_changed(info.path)
        else:  # other sessions added them (and announced it)
            self.core.catalogue.cache.invalidate(info.path)
        return added

    def _add_attributes_together(
        self, info: DirectoryInfo, missing: Mapping[str, AttributeType], added: list[str]
    ) -> None:
        """Steps 1-3 for several attributes, each step once for all of them (a new
        directory of many attributes costs three transactions, not three per attribute);
        the names it claims go to ``added``. Raises IntegrityError, having changed nothing,
        if another connection claimed one of them meanwhile."""
        rows = st.attributes.c
        existing = sa.select(rows.id, rows.name, rows.type, rows.ready).where(
            rows.directory_id == info.id, rows.name.in_(list(missing))
        )
        with self.core.schema_connection(info.path) as connection:
            found = {row.name: row for row in connection.execute(existing)}
            created = [name for name in missing if name not in found]
            if created:
                connection.execute(
                    st.attributes.insert(),
                    [
                        {
                            "directory_id": info.id,
                            "name": name,
                            "type": missing[name].spec,
                            "ready": False,
                        }
                        for name in created
                    ],
                )
                found = {row.name: row for row in connection.execute(existing)}
        added.extend(created)
        # The stored type decides: another process may have created the attribute first.
        pending = [
            Attribute(int(row.id), row.name, parse_type(row.type))
            for row in found.values()
            if not row.ready
        ]
        if pending:
            try:
                with self.core.schema_connection(info.path) as connection:
                    add_columns(connection, info.id, pending)
            except sa.exc.DBAPIError:
                for name in created:
                    self._unclaim(int(found[name].id))
                    added.remove(name)
                raise
            with self.core.schema_connection(info.path) as connection:
                connection.execute(
                    st.attributes.update()
                    .where(rows.id.in_([attribute.id for attribute in pending]))
                    .values(ready=True)
                )

    def _claim(
        self, connection: sa.Connection, directory_id: int, name: str, type_: AttributeType
    ) -> tuple[int, bool, bool]:
        """(attribute id, ready, created by us)."""
        existing = sa.select(st.attributes.c.id, st.attributes.c.ready).where(
            st.attributes.c.directory_id == directory_id, st.attributes.c.name == name
        )
        row = connection.execute(existing).first()
        if row is not None:
            return int(row.id), bool(row.ready), False
        try:
            with connection.begin_nested():
                attribute_id = connection.execute(
                    st.attributes.insert().values(
                        directory_id=directory_id, name=name, type=type_.spec, ready=False
                    )
                ).inserted_primary_key[0]  # type: ignore[index]  # set after an INSERT
        except sa.exc.IntegrityError:
            row = connection.execute(existing).one()
            return int(row.id), bool(row.ready), False
        return int(attribute_id), False, True

    def _unclaim(self, attribute_id: int) -> None:
        if self.core.in_transaction:
            return  # the transaction's rollback takes the row back
        with self.core.connection(write=True) as connection:
            connection.execute(st.attributes.delete().where(st.attributes.c.id == attribute_id))


def _lock_conflict(exc: BaseException) -> bool:
    """A deadlock or lock timeout the database broke by failing this writer's statement."""
    return (
        isinstance(exc, sa.exc.DBAPIError)
        and db_errors.classify(exc) is db_errors.Failure.CONTENTION
    )
