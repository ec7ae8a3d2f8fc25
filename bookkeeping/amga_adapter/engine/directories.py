"""Directory operations of a session (its ``directories`` service): createdir, rmdir,
dir, cd, pwd. Removing a directory is recorded in the update log (``update_log.py``)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import sqlalchemy as sa

from bookkeeping.amga_adapter.engine import paths
from bookkeeping.amga_adapter.engine import system_tables as st
from bookkeeping.amga_adapter.engine.directory_info import (
    Attribute,
    DirectoryInfo,
    load_directory,
)
from bookkeeping.amga_adapter.engine.directory_tables import create_table, drop_table
from bookkeeping.amga_adapter.engine.errors import (
    DirectoryExists,
    DirectoryNotEmpty,
    EntryExists,
    InvalidName,
    NoSuchDirectory,
    PermissionDenied,
)
from bookkeeping.amga_adapter.engine.permissions import (
    DEFAULT_DIRECTORY_GROUP_RIGHTS,
    DEFAULT_DIRECTORY_PERMISSIONS,
)
from bookkeeping.amga_adapter.engine.session_core import SessionCore
from bookkeeping.amga_adapter.engine.streams import ResultStream, chained
from bookkeeping.amga_adapter.engine.types import parse_type
from bookkeeping.amga_adapter.engine.update_log import UpdateLog

COLLECTION = "collection"
ENTRY = "entry"


class Directories:
    def __init__(self, core: SessionCore, log: UpdateLog) -> None:
        self.core = core
        self.log = log

    def whoami(self) -> str:
        return self.core.user

    def pwd(self) -> str:
        return self.core.cwd

    def cd(self, path: str) -> None:
        target = self.core.absolute(path)

        def check(connection: sa.Connection) -> None:
            info = self.core.directory(connection, target)
            self.core.principal.require(info, "x", "enter the directory")

        self.core.run(check, write=False)
        self.core.cwd = target

    def createdir(
        self,
        path: str,
        *,
        plain: bool = False,
        attributes: Mapping[str, str | None] | None = None,
    ) -> None:
        """Create the directory ``path``. ``attributes`` (name -> type, ``None`` =
        varchar(255); an extension of ours) are created with it: the table is made with
        their columns in one ``CREATE TABLE``, instead of a column added per attribute
        afterwards (each an ``ALTER TABLE``; a new view shard has sixteen)."""
        target = paths.require_single(self.core.absolute(path))
        parent_path, name = paths.split(target)
        paths.check_name("directory", name)
        if len(target) > paths.MAX_PATH:
            raise InvalidName(f"directory path longer than {paths.MAX_PATH} characters")
        wanted = {
            paths.check_attribute_name(n): parse_type(t) for n, t in (attributes or {}).items()
        }

        def create(connection: sa.Connection) -> int:
            parent = self.core.directory(connection, parent_path)
            self.core.principal.require(parent, "w", "create directories")
            if connection.scalar(
                sa.select(st.directories.c.id).where(st.directories.c.path == target)
            ):
                raise DirectoryExists(f"directory exists: {target}", path=target)
            if connection.execute(
                sa.select(parent.table.c.name).where(parent.table.c.name == name)
            ).first():
                raise EntryExists(f"an entry named {target} exists", path=target)
            try:
                directory_id = connection.execute(
                    st.directories.insert().values(
                        path=target,
                        parent_id=parent.id,
                        name=name,
                        owner=self.core.user,
                        group_name=parent.group_name,
                        permissions=DEFAULT_DIRECTORY_PERMISSIONS,
                        group_rights=DEFAULT_DIRECTORY_GROUP_RIGHTS,
                        plain=plain,
                    )
                ).inserted_primary_key[0]  # type: ignore[index]  # set after an INSERT
            except sa.exc.IntegrityError:
                raise DirectoryExists(f"directory exists: {target}", path=target) from None
            # A new directory starts with its parent's ACL.
            if parent.acl:
                connection.execute(
                    st.acls.insert(),
                    [
                        {"directory_id": directory_id, "principal": p, "rights": r}
                        for p, r in parent.acl.items()
                    ],
                )
            return int(directory_id)

        def add_attributes(connection: sa.Connection, directory_id: int) -> list[Attribute]:
            # Ready at once: their columns are made with the table, in this transaction
            # (on MariaDB the CREATE commits both; a failed one takes the rows back below).
            if not wanted:
                return []
            rows = st.attributes.c
            connection.execute(
                st.attributes.insert(),
                [
                    {"directory_id": directory_id, "name": n, "type": t.spec, "ready": True}
                    for n, t in wanted.items()
                ],
            )
            found = connection.execute(
                sa.select(rows.id, rows.name)
                .where(rows.directory_id == directory_id)
                .order_by(rows.id)
            )
            return [Attribute(int(i), n, wanted[n]) for i, n in found]

        with self.core.schema_connection(target) as connection:
            directory_id = create(connection)
            columns = add_attributes(connection, directory_id)
            # On MariaDB this commits the rows above as well; if it fails there, the rows
            # are taken back below so no directory without a table remains.
            try:
                create_table(connection, directory_id, columns)
            except sa.exc.DBAPIError:
                if self.core.catalogue.backend == "mariadb" and not self.core.in_transaction:
                    self._delete_directory_rows([directory_id])
                raise
        self.core.schema_changed(target)

    def rmdir(self, path: str, *, recursive: bool = False) -> None:
        target = paths.require_single(self.core.absolute(path))
        if target == "/":
            raise PermissionDenied("the root directory cannot be removed")
        parent_path, _ = paths.split(target)

        def collect(connection: sa.Connection) -> list[DirectoryInfo]:
            parent = self.core.directory(connection, parent_path, fresh=True)
            self.core.principal.require(parent, "w", "remove directories")
            info = load_directory(connection, target)
            if not recursive:
                self._require_empty(connection, info)
                return [info]
            below = connection.scalars(
                sa.select(st.directories.c.path)
                .where(paths.strictly_below(st.directories.c.path, target))
                .order_by(sa.func.length(st.directories.c.path).desc())
            ).all()
            doomed = [load_directory(connection, p) for p in below] + [info]
            for directory in doomed:
                self.core.principal.require(directory, "w", "remove it and everything in it")
            return doomed

        with self.core.schema_connection(target) as connection:
            doomed = collect(connection)
            # Rows first (deepest first, for the parent foreign key), then the tables: on
            # MariaDB each DROP commits, and a crash between them leaves only unused tables.
            for directory in doomed:
                connection.execute(
                    st.directories.delete().where(st.directories.c.id == directory.id)
                )
            for directory in doomed:
                drop_table(connection, directory.id)
        self.core.schema_changed(target)
        if self.core.cwd == target or self.core.cwd.startswith(target.rstrip("/") + "/"):
            self.core.cwd = parent_path
        self.log.schema_removed(target, "rmdir", {})

    def _require_empty(self, connection: sa.Connection, info: DirectoryInfo) -> None:
        child = connection.scalar(
            sa.select(st.directories.c.id).where(st.directories.c.parent_id == info.id).limit(1)
        )
        entry = connection.execute(sa.select(info.table.c.name).limit(1)).first()
        if child is not None or entry is not None:
            raise DirectoryNotEmpty(f"directory not empty: {info.path}", path=info.path)

    def _delete_directory_rows(self, ids: list[int]) -> None:
        with self.core.connection(write=True) as connection:
            connection.execute(st.directories.delete().where(st.directories.c.id.in_(ids)))

    def dir(self, pattern: str = ".") -> Iterator[tuple[str, str]]:
        """Sub-directories, then readable entries, as (absolute path, type), by name.

        ``pattern`` is a directory (list its contents) or ``dir/glob`` with ``*``/``?``.
        """
        target = self.core.absolute(pattern)
        state: dict[str, object] = {}

        def build(connection: sa.Connection) -> sa.Select[tuple[str]]:
            directory, glob = self._listing_target(connection, target)
            self.core.principal.require(directory, "r", "list the directory")
            children = sa.select(st.directories.c.path).where(
                st.directories.c.parent_id == directory.id
            )
            table = directory.table
            entries = sa.select(table.c.name)
            if glob is not None:
                children = children.where(paths.name_matches(st.directories.c.name, glob))
                entries = entries.where(paths.name_matches(table.c.name, glob))
            readable = self.core.principal.entry_filter(directory, table, "r")
            if readable is not None:
                entries = entries.where(readable)
            state["collections"] = connection.scalars(
                children.order_by(st.directories.c.name)
            ).all()
            state["directory"] = directory.path
            return entries.order_by(table.c.name)

        def entry(row: sa.Row[Any]) -> tuple[str, str]:
            return paths.join(str(state["directory"]), row[0]), ENTRY

        stream: ResultStream[tuple[str, str]] = self.core.stream(build, entry)
        collections = [(p, COLLECTION) for p in state["collections"]]  # type: ignore[attr-defined]
        return chained(collections, stream)

    def _listing_target(
        self, connection: sa.Connection, target: str
    ) -> tuple[DirectoryInfo, str | None]:
        name = target.rsplit("/", 1)[-1]
        if not paths.is_pattern(name):
            try:
                return self.core.directory(connection, target), None
            except NoSuchDirectory:
                if target == "/":
                    raise
        parent_path, glob = paths.split(target)
        return self.core.directory(connection, parent_path), glob
