"""Ordered indexes on a directory's attributes (an engine extension, not an AMGA command).

``create_index(directory, ["FSIZ", "FILE_ID"], descending=["FSIZ"])`` makes the database
index ``ix_catd_<directory id>_<index id>`` whose order is the query language's (NULL
lowest, strings by code point; ``directory_tables.py``), so a ``selectattr`` ordered that
way, above all one cut by a ``limit``, reads the first rows of the index instead of sorting
the directory. The view maintainer gives every shard the indexes of the view builder's
orders (docs/views.md).

Creating an index is DDL and follows the steps of an attribute (``attributes.py``), each
idempotent, so two sessions creating the same index at once both succeed and a crash
leaves what the next attempt completes:

1. claim the ``cat_indexes`` row (``ready`` false) in a short transaction; the unique
   (directory, key) pair decides which session created it, the other reads its row;
2. ``CREATE INDEX IF NOT EXISTS``: whoever finds the row not ready runs it (PostgreSQL may
   still refuse the second of two simultaneous ones: the index then exists, which is
   checked, and that is success);
3. mark the row ready. Only ready indexes are listed.

Like ``addattr``, it runs before and apart from data transactions: inside ``begin()`` it
joins the transaction on PostgreSQL and SQLite and is refused on MariaDB, whose DDL commits.
Creating and dropping need the directory's ``w`` right, listing its ``r`` right. Removing an
attribute drops the indexes that name it.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import sqlalchemy as sa

from bookkeeping.amga_adapter.engine import system_tables as st
from bookkeeping.amga_adapter.engine.directory_info import Attribute, DirectoryInfo
from bookkeeping.amga_adapter.engine.directory_tables import (
    IndexKey,
    create_index,
    drop_index,
    has_index,
    index_name,
)
from bookkeeping.amga_adapter.engine.directory_tables import (
    create_indexes as create_table_indexes,
)
from bookkeeping.amga_adapter.engine.errors import (
    CatalogueError,
    InvalidName,
    InvalidType,
    NoSuchIndex,
)
from bookkeeping.amga_adapter.engine.session_core import SessionCore

if TYPE_CHECKING:
    from bookkeeping.amga_adapter.engine.replica_meta import MetaLog

MAX_INDEX_ATTRIBUTES = 16
# The declared characters of an index's string attributes, in all. Keys must stay within
# the databases' limits for every value the attributes accept: PostgreSQL's B-tree entries
# hold about 2700 bytes, MariaDB's keys 3072 bytes, at up to 4 bytes a character.
MAX_INDEXED_CHARACTERS = 512


@dataclass(frozen=True)
class IndexDescription:
    """An index as ``list_indexes`` shows it."""

    name: str
    attributes: tuple[str, ...]
    descending: tuple[bool, ...]  # one per attribute


def _definition(keys: Sequence[IndexKey]) -> str:
    return ",".join(f"{key.attribute.id}{'d' if key.descending else ''}" for key in keys)


def _parsed(definition: str) -> list[tuple[int, bool]]:
    return [(int(part.rstrip("d")), part.endswith("d")) for part in definition.split(",")]


class Indexes:
    """A session's ``indexes`` service."""

    def __init__(self, core: SessionCore, meta: MetaLog) -> None:
        self.core = core
        self.meta = meta

    def create_index(
        self, directory: str, attributes: Sequence[str], *, descending: Collection[str] = ()
    ) -> str:
        """Create (or find) the ordered index on ``attributes`` of ``directory``, those named
        in ``descending`` in descending order; returns its name. Idempotent: the same
        attributes and directions give the existing index."""
        name = self._create_index(directory, attributes, descending)
        self.meta.directory_changed(self.core.absolute(directory))
        return name

    def _create_index(
        self, directory: str, attributes: Sequence[str], descending: Collection[str]
    ) -> str:
        if isinstance(attributes, str):
            raise TypeError("attributes must be a sequence of attribute names, not a string")
        names = list(attributes)
        _check_names(names, descending)
        target = self.core.absolute(directory)
        with self.core.schema_connection(target) as connection:
            info = self.core.directory(connection, target, fresh=True)
            self.core.principal.require(info, "w", "create indexes")
            info, found = self.core.named_attributes(connection, info, names)
            _check_indexable(target, found)
            keys = [IndexKey(a, a.name in descending) for a in found]
            index_id, ready, created = self._claim_index(connection, info.id, _definition(keys))
        name = index_name(info.id, index_id)
        if ready:
            return name
        try:
            with self.core.schema_connection(target) as connection:
                create_index(connection, info.id, index_id, keys)
        except sa.exc.DBAPIError as exc:
            if not self._index_exists(info.id, index_id):
                if created:
                    self._unclaim_index(index_id)
                raise CatalogueError(
                    f"the database refused the index on {target}: {exc.orig}"
                ) from None
        with self.core.schema_connection(target) as connection:
            connection.execute(
                st.indexes.update().where(st.indexes.c.id == index_id).values(ready=True)
            )
        return name

    def create_indexes(self, directory: str, indexes: Sequence[Sequence[str]]) -> list[str]:
        """``create_index`` for several ascending indexes of one directory, each step once for
        all of them: a new view shard's seven indexes cost three transactions, not
        twenty-one (and one directory read, not seven). Returns their names, in order. An
        index another session is claiming or creating at the same time is left to
        ``create_index``, one at a time."""
        specs = [list(attributes) for attributes in indexes]
        for names in specs:
            if isinstance(names, str):
                raise TypeError("indexes are sequences of attribute names")
            _check_names(names, ())
        if not specs:
            return []
        target = self.core.absolute(directory)
        with self.core.schema_connection(target) as connection:
            info = self.core.directory(connection, target, fresh=True)
            self.core.principal.require(info, "w", "create indexes")
            keys: list[list[IndexKey]] = []
            for names in specs:
                info, found = self.core.named_attributes(connection, info, names)
                _check_indexable(target, found)
                keys.append([IndexKey(a) for a in found])
            claimed = self._claim_indexes(connection, info.id, [_definition(k) for k in keys])
        if claimed is None:  # another session claimed one of them meanwhile
            return [self.create_index(directory, names) for names in specs]
        pending = [
            (k, index_id) for k, (index_id, ready) in zip(keys, claimed, strict=True) if not ready
        ]
        if pending:
            try:
                with self.core.schema_connection(target) as connection:
                    create_table_indexes(
                        connection, info.id, [(index_id, k) for k, index_id in pending]
                    )
            except sa.exc.DBAPIError:
                # One at a time instead: each checks whether its index exists after all
                # (a concurrent CREATE) and gives up its claim if not.
                return [self.create_index(directory, names) for names in specs]
            with self.core.schema_connection(target) as connection:
                connection.execute(
                    st.indexes.update()
                    .where(st.indexes.c.id.in_([index_id for _, index_id in pending]))
                    .values(ready=True)
                )
        self.meta.directory_changed(target)
        return [index_name(info.id, index_id) for index_id, _ in claimed]

    def drop_index(self, directory: str, name: str) -> None:
        """Drop the index ``name`` (as ``create_index`` or ``list_indexes`` named it)."""
        target = self.core.absolute(directory)
        with self.core.schema_connection(target) as connection:
            info = self.core.directory(connection, target, fresh=True)
            self.core.principal.require(info, "w", "drop indexes")
            ids = connection.scalars(
                sa.select(st.indexes.c.id).where(st.indexes.c.directory_id == info.id)
            ).all()
            found = [i for i in ids if index_name(info.id, i) == name]
            if not found:
                shown = repr(name) if len(name) <= 80 else repr(name[:77]) + "..."
                raise NoSuchIndex(f"no index {shown} on {target}")
            # The row first: on MariaDB the DROP commits it, and a failure after that leaves
            # an unlisted index, never a listed one that is gone.
            connection.execute(st.indexes.delete().where(st.indexes.c.id == found[0]))
            drop_index(connection, info.id, found[0])
        self.meta.directory_changed(target)

    def list_indexes(self, directory: str) -> list[IndexDescription]:
        """The ready indexes of ``directory``, in the order they were created."""
        target = self.core.absolute(directory)

        def read(connection: sa.Connection) -> list[IndexDescription]:
            info = self.core.directory(connection, target, fresh=True)
            self.core.principal.require(info, "r", "list indexes")
            rows = connection.execute(
                sa.select(st.indexes.c.id, st.indexes.c.definition)
                .where(st.indexes.c.directory_id == info.id, st.indexes.c.ready.is_(True))
                .order_by(st.indexes.c.id)
            ).all()
            by_id = {a.id: a.name for a in info.attributes.values()}
            described = []
            for index_id, definition in rows:
                keys = _parsed(definition)
                described.append(
                    IndexDescription(
                        index_name(info.id, index_id),
                        tuple(by_id[attribute] for attribute, _ in keys),
                        tuple(descending for _, descending in keys),
                    )
                )
            return described

        return self.core.run(read, write=False)

    # -- internals -------------------------------------------------------------------

    def _claim_index(
        self, connection: sa.Connection, directory_id: int, definition: str
    ) -> tuple[int, bool, bool]:
        """(index id, ready, created by us)."""
        rows = st.indexes.c
        existing = sa.select(rows.id, rows.ready).where(
            rows.directory_id == directory_id, rows.definition == definition
        )
        row = connection.execute(existing).first()
        if row is not None:
            return int(row.id), bool(row.ready), False
        try:
            with connection.begin_nested():
                index_id = connection.execute(
                    st.indexes.insert().values(
                        directory_id=directory_id, definition=definition, ready=False
                    )
                ).inserted_primary_key[0]  # type: ignore[index]  # set after an INSERT
        except sa.exc.IntegrityError:
            row = connection.execute(existing).one()
            return int(row.id), bool(row.ready), False
        return int(index_id), False, True

    def _claim_indexes(
        self, connection: sa.Connection, directory_id: int, definitions: list[str]
    ) -> list[tuple[int, bool]] | None:
        """(index id, ready) per definition, the missing rows inserted together; ``None``,
        having inserted nothing, when another session inserted one of them meanwhile."""
        rows = st.indexes.c
        existing = sa.select(rows.id, rows.definition, rows.ready).where(
            rows.directory_id == directory_id, rows.definition.in_(definitions)
        )
        found = {row.definition: row for row in connection.execute(existing)}
        missing = [d for d in dict.fromkeys(definitions) if d not in found]
        if missing:
            try:
                with connection.begin_nested():
                    connection.execute(
                        st.indexes.insert(),
                        [
                            {"directory_id": directory_id, "definition": d, "ready": False}
                            for d in missing
                        ],
                    )
            except sa.exc.IntegrityError:
                return None
            found = {row.definition: row for row in connection.execute(existing)}
        return [(int(found[d].id), bool(found[d].ready)) for d in definitions]

    def _unclaim_index(self, index_id: int) -> None:
        if self.core.in_transaction:
            return  # the transaction's rollback takes the row back
        with self.core.connection(write=True) as connection:
            connection.execute(st.indexes.delete().where(st.indexes.c.id == index_id))

    def _index_exists(self, directory_id: int, index_id: int) -> bool:
        with self.core.connection(write=False) as connection:
            return has_index(connection, directory_id, index_id)

    def drop_on(self, connection: sa.Connection, info: DirectoryInfo, attribute: Attribute) -> None:
        """Drop the indexes that name ``attribute`` (it is being removed; SQLite cannot
        drop an indexed column)."""
        rows = connection.execute(
            sa.select(st.indexes.c.id, st.indexes.c.definition).where(
                st.indexes.c.directory_id == info.id
            )
        ).all()
        for index_id, definition in rows:
            if any(key == attribute.id for key, _ in _parsed(definition)):
                connection.execute(st.indexes.delete().where(st.indexes.c.id == index_id))
                drop_index(connection, info.id, index_id)


def _check_names(names: list[str], descending: Collection[str]) -> None:
    if not names:
        raise InvalidName("an index needs at least one attribute")
    if len(names) > MAX_INDEX_ATTRIBUTES:
        raise InvalidName(f"an index may have at most {MAX_INDEX_ATTRIBUTES} attributes")
    seen: set[str] = set()
    for name in names:
        if not isinstance(name, str):
            raise TypeError(f"attribute names are strings, not {type(name).__name__}")
        if name in seen:
            raise InvalidName(f"attribute {name!r} is named twice in the index", attribute=name)
        seen.add(name)
    stray = [name for name in descending if name not in seen]
    if stray:
        raise InvalidName(
            f"descending attribute {stray[0]!r} is not one of the index's attributes",
            attribute=stray[0],
        )


def _check_indexable(directory: str, attributes: Sequence[Attribute]) -> None:
    width = 0
    for attribute in attributes:
        kind = attribute.type
        if kind.kind == "text":
            raise InvalidType(
                f"attribute {attribute.name!r} of {directory} is text, which cannot be "
                "indexed (declare it varchar(n))",
                attribute=attribute.name,
            )
        if kind.kind == "varchar":
            width += kind.length or 0
            if width > MAX_INDEXED_CHARACTERS:
                raise InvalidType(
                    f"attribute {attribute.name!r} of {directory} ({kind.spec}) makes the "
                    f"index too wide: its string attributes may declare {MAX_INDEXED_CHARACTERS}"
                    " characters in all (the databases' key limits)",
                    attribute=attribute.name,
                )
