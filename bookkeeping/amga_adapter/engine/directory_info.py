"""What the engine knows about one directory, loaded from the system tables, and its cache.

Each directory's entries live in the table ``catd_<id>``. Its columns are the system columns
(``name``, ``owner``, ``permissions``, ``group_rights``, ``link``) and one ``a<attribute id>``
column per attribute, so a user's attribute name is never an SQL identifier.

The cache makes an attribute that exists cost no round trip. It is kept correct against other
processes by the schema version (``schema_version.py``), which every schema change bumps and
every operation reads once; and, for the moment between a change and its bump, by two rules:
an attribute missing from the cache reloads the directory once; a statement failing on a
missing table or column reloads and retries once (``session_core.SessionCore._run``).
Entries may also expire after ``ttl`` seconds (``None``: never; tests use it).
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, cast

import sqlalchemy as sa

from bookkeeping.amga_adapter.engine import system_tables as st
from bookkeeping.amga_adapter.engine.errors import NoSuchAttribute, NoSuchDirectory
from bookkeeping.amga_adapter.engine.types import AttributeType, parse_type
from bookkeeping.metadata import DYNAMIC_TABLE_PREFIX

SYSTEM_COLUMNS = ("name", "owner", "permissions", "group_rights", "link")
ENTRY_NAME_LENGTH = 255
LINK_LENGTH = 1024


def table_name(directory_id: int) -> str:
    return f"{DYNAMIC_TABLE_PREFIX}{directory_id}"


def column_name(attribute_id: int) -> str:
    return f"a{attribute_id}"


@dataclass(frozen=True)
class Attribute:
    id: int
    name: str
    type: AttributeType

    @cached_property
    def column(self) -> str:
        return column_name(self.id)


def system_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("name", sa.String(ENTRY_NAME_LENGTH), primary_key=True),
        sa.Column("owner", sa.String(255), nullable=False),
        sa.Column("permissions", sa.String(3), nullable=False),
        sa.Column("group_rights", sa.String(3), nullable=False),
        sa.Column("link", sa.String(LINK_LENGTH), nullable=True),
    ]


def attribute_column(attribute: Attribute) -> sa.Column[object]:
    return sa.Column(attribute.column, attribute.type.sql_type(), nullable=True)


def entry_table(directory_id: int, attrs: list[Attribute] | tuple[Attribute, ...] = ()) -> sa.Table:
    """The SQLAlchemy description of a directory table (a private MetaData each time)."""
    return sa.Table(
        table_name(directory_id),
        sa.MetaData(),
        *system_columns(),
        *(attribute_column(a) for a in attrs),
        # Strings compare by code point on MariaDB whatever the database's default (the
        # query language relies on it: query/constructs.py).
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_bin",
    )


@dataclass(frozen=True)
class ConstraintInfo:
    id: int
    name: str
    kind: str  # not_null, unique, reference, check
    definition: dict[str, Any]

    def attributes(self) -> list[str]:
        """The attributes of this directory the constraint names (for a check: none known
        without parsing; the constraint module parses it)."""
        if self.kind == "unique":
            return list(self.definition["attributes"])
        if self.kind in {"not_null", "reference"}:
            return [self.definition["attribute"]]
        return []

    def describe(self) -> str:
        if self.kind == "unique":
            detail = ",".join(self.definition["attributes"])
        elif self.kind == "reference":
            detail = f"{self.definition['attribute']} -> {self.definition['target']}"
        elif self.kind == "check":
            detail = self.definition["condition"]
        else:
            detail = self.definition["attribute"]
        return f"{self.name} {self.kind} {detail}"


@dataclass
class DirectoryInfo:
    id: int
    path: str
    parent_id: int | None
    owner: str
    group_name: str | None
    permissions: str
    group_rights: str
    plain: bool
    acl: dict[str, str]
    attributes: dict[str, Attribute]
    constraints: list[ConstraintInfo] = field(default_factory=list)
    loaded_at: float = field(default_factory=time.monotonic)

    _aliases: list[sa.Alias] = field(default_factory=list, repr=False, compare=False)
    _aliases_lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    @cached_property
    def table(self) -> sa.Table:
        return entry_table(self.id, list(self.attributes.values()))

    def alias(self, index: int) -> sa.Alias:
        """The ``index``-th alias of the table, made once and shared by every query that
        needs ``index + 1`` distinct references to this directory: an alias's column
        collection is built on first use, and rebuilding it per query cost about a sixth of
        a point look-up's time. Statements are immutable, so sharing them is safe."""
        with self._aliases_lock:
            while len(self._aliases) <= index:
                # A table's alias() is an Alias (its stub says the wider NamedFromClause).
                alias = cast(sa.Alias, self.table.alias())
                alias.c  # noqa: B018 - build the column collection now, under the lock
                self._aliases.append(alias)
            return self._aliases[index]

    def attribute(self, name: str) -> Attribute:
        try:
            return self.attributes[name]
        except KeyError:
            raise NoSuchAttribute(
                f"directory {self.path} has no attribute {name!r}", attribute=name, path=self.path
            ) from None


def load_directory(connection: sa.Connection, path: str) -> DirectoryInfo:
    row = connection.execute(
        sa.select(st.directories).where(st.directories.c.path == path)
    ).one_or_none()
    if row is None:
        raise NoSuchDirectory(f"no such directory: {path}", path=path)
    return _load_details(connection, row)


def load_directory_by_id(connection: sa.Connection, directory_id: int) -> DirectoryInfo | None:
    row = connection.execute(
        sa.select(st.directories).where(st.directories.c.id == directory_id)
    ).one_or_none()
    return None if row is None else _load_details(connection, row)


def _load_details(connection: sa.Connection, row: sa.Row[tuple[object, ...]]) -> DirectoryInfo:
    attrs = connection.execute(
        sa.select(st.attributes.c.id, st.attributes.c.name, st.attributes.c.type)
        .where(st.attributes.c.directory_id == row.id, st.attributes.c.ready.is_(True))
        .order_by(st.attributes.c.id)
    ).all()
    acl = connection.execute(
        sa.select(st.acls.c.principal, st.acls.c.rights).where(st.acls.c.directory_id == row.id)
    ).all()
    constraints = connection.execute(
        sa.select(
            st.constraints.c.id,
            st.constraints.c.name,
            st.constraints.c.kind,
            st.constraints.c.definition,
        )
        .where(st.constraints.c.directory_id == row.id)
        .order_by(st.constraints.c.id)
    ).all()
    return DirectoryInfo(
        id=row.id,
        path=row.path,
        parent_id=row.parent_id,
        owner=row.owner,
        group_name=row.group_name,
        permissions=row.permissions,
        group_rights=row.group_rights,
        plain=bool(row.plain),
        acl={principal: rights for principal, rights in acl},
        attributes={name: Attribute(id_, name, parse_type(type_)) for id_, name, type_ in attrs},
        constraints=[
            ConstraintInfo(c.id, c.name, c.kind, json.loads(c.definition)) for c in constraints
        ],
    )


class DirectoryCache:
    """Thread-safe map path -> DirectoryInfo shared by every session of a Catalogue."""

    def __init__(self, ttl: float | None) -> None:
        self.ttl = ttl
        self._lock = threading.Lock()
        self._entries: dict[str, DirectoryInfo] = {}
        self._children: dict[int, tuple[list[str], float]] = {}  # directory id -> names

    def get(self, connection: sa.Connection, path: str, *, fresh: bool = False) -> DirectoryInfo:
        if not fresh:
            with self._lock:
                info = self._entries.get(path)
            if info is not None and self.fresh(info.loaded_at):
                return info
        info = load_directory(connection, path)
        self.put(info)
        return info

    def peek(self, path: str) -> DirectoryInfo | None:
        """``path`` if the cache holds it fresh; never loads (see directory_batch.warm)."""
        with self._lock:
            info = self._entries.get(path)
        if info is not None and self.fresh(info.loaded_at):
            return info
        return None

    def fresh(self, loaded_at: float) -> bool:
        """Whether something loaded at ``loaded_at`` (``time.monotonic()``) is still within
        the time to live, if any."""
        return self.ttl is None or time.monotonic() - loaded_at < self.ttl

    def children(self, connection: sa.Connection, info: DirectoryInfo) -> list[str]:
        """The names of ``info``'s sub-directories, sorted."""
        with self._lock:
            found = self._children.get(info.id)
        if found is not None and self.fresh(found[1]):
            return found[0]
        names = list(
            connection.scalars(
                sa.select(st.directories.c.name)
                .where(st.directories.c.parent_id == info.id)
                .order_by(st.directories.c.name)
            )
        )
        with self._lock:
            self._children[info.id] = (names, time.monotonic())
        return names

    def put(self, info: DirectoryInfo) -> None:
        with self._lock:
            self._entries[info.path] = info

    def invalidate(self, path: str | None = None) -> None:
        """Forget ``path`` and everything below it (or everything)."""
        with self._lock:
            self._children.clear()  # a directory made or removed changes its parent's
            if path is None:
                self._entries.clear()
                return
            prefix = path.rstrip("/") + "/"
            for key in [k for k in self._entries if k == path or k.startswith(prefix)]:
                del self._entries[key]
