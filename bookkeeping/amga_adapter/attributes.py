"""Attribute (schema) operations of a session, including add-on-first-use.

Adding an attribute takes three steps, each idempotent, so two connections adding the same
attribute at once both succeed and a crash at any point leaves something the next attempt
completes:

1. insert the attribute row with ``ready = false``; the unique (directory, name) constraint
   decides which connection created it, the loser reads the winner's row;
2. ``ALTER TABLE catd_<dir> ADD COLUMN IF NOT EXISTS a<attribute id>`` (whoever sees the row
   not ready runs it; the statement is a no-op the second time);
3. mark the row ready. Only ready attributes are visible to queries and writes.
"""

from __future__ import annotations

from collections.abc import Mapping

import sqlalchemy as sa

from bookkeeping.amga_adapter import paths
from bookkeeping.amga_adapter import system_tables as st
from bookkeeping.amga_adapter.directory_info import Attribute, DirectoryInfo
from bookkeeping.amga_adapter.directory_tables import add_column, drop_column
from bookkeeping.amga_adapter.errors import (
    AttributeExists,
    AttributeInUse,
    NoSuchAttribute,
    NoSuchDirectory,
)
from bookkeeping.amga_adapter.session_core import SessionCore
from bookkeeping.amga_adapter.types import AttributeType, parse_type


class AttributeOps(SessionCore):
    def listattr(self, path: str) -> list[tuple[str, str]]:
        """(name, type) of the attributes of a directory, or of the entry's directory."""
        target = self._abs(path)

        def read(connection: sa.Connection) -> list[tuple[str, str]]:
            try:
                info = self._directory(connection, target, fresh=True)
            except NoSuchDirectory:
                if target == "/":
                    raise
                info = self._directory(connection, paths.split(target)[0], fresh=True)
            self.principal.require(info, "r", "read the attributes")
            return [(a.name, a.type.spec) for a in info.attributes.values()]

        return self._run(read, write=False)

    def addattr(self, directory: str, name: str, type_: str) -> None:
        paths.check_attribute_name(name)
        wanted = {name: parse_type(type_)}
        target = self._abs(directory)
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
        target = self._abs(directory)
        info = self._run(lambda c: self._directory(c, target), write=False)
        if all(name in info.attributes for name in wanted):
            return []  # the common case: no round trip beyond the cached lookup
        info = self._writable_directory(target, "add attributes")
        return self._add_attributes(info, wanted, exclusive=False)

    def removeattr(self, directory: str, name: str, *, force: bool = False) -> None:
        target = self._abs(directory)

        def remove(connection: sa.Connection) -> Attribute:
            info = self._directory(connection, target, fresh=True)
            self.principal.require(info, "w", "remove attributes")
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
            self._drop_constraints_on(connection, info, name)
            self._drop_indexes_on(connection, info, attribute)
            return attribute

        with self._schema_connection(target) as connection:
            attribute = remove(connection)
        self.catalogue.cache.invalidate(target)
        with self._schema_connection(target) as connection:
            info = self._directory(connection, target, fresh=True)
            drop_column(connection, info.id, attribute.column)

    def clearattr(self, directory: str, name: str) -> None:
        target = self._abs(directory)

        def clear(connection: sa.Connection) -> None:
            info = self._directory(connection, target)
            self.principal.require(info, "w", "clear attributes")
            column = info.attribute(name).column
            update = info.table.update().values({column: None})
            writable = self.principal.entry_filter(info, info.table, "w")
            if writable is not None:
                update = update.where(writable)
            self._check_not_null(connection, info, {name: None})
            connection.execute(update)

        self._run(clear, write=True)

    # -- internals -------------------------------------------------------------------

    def _writable_directory(self, target: str, action: str) -> DirectoryInfo:
        def load(connection: sa.Connection) -> DirectoryInfo:
            info = self._directory(connection, target, fresh=True)
            self.principal.require(info, "w", action)
            return info

        return self._run(load, write=False)

    def _add_attributes(
        self, info: DirectoryInfo, wanted: Mapping[str, AttributeType], *, exclusive: bool
    ) -> list[str]:
        """Steps 1-3 of the module docstring for every attribute ``info`` lacks."""
        missing = {name: type_ for name, type_ in wanted.items() if name not in info.attributes}
        if len(missing) > 1 and not exclusive:
            try:
                together = self._add_attributes_together(info, missing)
            except sa.exc.IntegrityError:
                pass  # a concurrent writer claimed one of them first: one at a time below
            else:
                self.catalogue.cache.invalidate(info.path)
                return together
        added: list[str] = []
        for name, type_ in wanted.items():
            if name in info.attributes:
                continue
            with self._schema_connection(info.path) as connection:
                attribute_id, ready, created = self._claim(connection, info.id, name, type_)
            if created:
                added.append(name)
            elif exclusive:
                continue
            if ready:
                continue
            stored = Attribute(attribute_id, name, type_)
            try:
                with self._schema_connection(info.path) as connection:
                    row = connection.execute(
                        sa.select(st.attributes.c.type).where(st.attributes.c.id == attribute_id)
                    ).one()
                    stored = Attribute(attribute_id, name, parse_type(row.type))
                    add_column(connection, info.id, stored)
            except sa.exc.DBAPIError:
                if created:
                    self._unclaim(attribute_id)
                raise
            with self._schema_connection(info.path) as connection:
                connection.execute(
                    st.attributes.update()
                    .where(st.attributes.c.id == attribute_id)
                    .values(ready=True)
                )
        self.catalogue.cache.invalidate(info.path)
        return added

    def _add_attributes_together(
        self, info: DirectoryInfo, missing: Mapping[str, AttributeType]
    ) -> list[str]:
        """Steps 1-3 for several attributes, each step once for all of them (a new
        directory of many attributes costs three transactions, not three per attribute).
        Raises IntegrityError, having changed nothing, if another connection claimed one of
        them meanwhile."""
        rows = st.attributes.c
        existing = sa.select(rows.id, rows.name, rows.type, rows.ready).where(
            rows.directory_id == info.id, rows.name.in_(list(missing))
        )
        with self._schema_connection(info.path) as connection:
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
        # The stored type decides: another process may have created the attribute first.
        pending = [
            Attribute(int(row.id), row.name, parse_type(row.type))
            for row in found.values()
            if not row.ready
        ]
        if pending:
            try:
                with self._schema_connection(info.path) as connection:
                    for attribute in pending:
                        add_column(connection, info.id, attribute)
            except sa.exc.DBAPIError:
                for name in created:
                    self._unclaim(int(found[name].id))
                raise
            with self._schema_connection(info.path) as connection:
                connection.execute(
                    st.attributes.update()
                    .where(rows.id.in_([attribute.id for attribute in pending]))
                    .values(ready=True)
                )
        return created

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
                ).inserted_primary_key[0]
        except sa.exc.IntegrityError:
            row = connection.execute(existing).one()
            return int(row.id), bool(row.ready), False
        return int(attribute_id), False, True

    def _unclaim(self, attribute_id: int) -> None:
        if self.in_transaction:
            return  # the transaction's rollback takes the row back
        with self._connection(write=True) as connection:
            connection.execute(st.attributes.delete().where(st.attributes.c.id == attribute_id))

    def _attributes(
        self, connection: sa.Connection, info: DirectoryInfo, names: list[str] | tuple[str, ...]
    ) -> tuple[DirectoryInfo, list[Attribute]]:
        """The named attributes, reloading the directory once if the cache lacks one."""
        if any(name not in info.attributes for name in names):
            info = self._directory(connection, info.path, fresh=True)
        missing = [name for name in names if name not in info.attributes]
        if missing:
            raise NoSuchAttribute(
                f"directory {info.path} has no attribute {missing[0]!r}", attribute=missing[0]
            )
        return info, [info.attributes[name] for name in names]
