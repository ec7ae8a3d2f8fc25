"""Directory metadata in the update log (docs/replication.md): ACLs, ownership, rights,
constraints, indexes and sequences of a replicated subtree, logged and replayed.

A change to any of them under a ``master`` subtree logs a ``meta`` record holding the
directory's *whole* metadata, read after the change in the log record's own transaction
(after the counter row's lock, so the record numbered last read the latest state: every
change committed before it took the lock). Replaying one makes the slave's directory
equal to it, so replaying a record twice, or an old one before a newer one, converges.

These changes are logged just after they succeed, in a transaction of their own (inside
an explicit transaction, in it), like ``rmdir``: constraints and indexes are DDL, which
commits by itself on MariaDB. A crash in between leaves the slave with the older metadata
until the directory's next change (or a new bootstrap).

Entries' own owner and rights travel with their ``upsert`` records (``update_log.py``);
an entry ``chmod`` logs an upsert of the entries it changed.

Two components of a session: ``MetaLog`` (what the ACL, constraint, index and sequence
services call after a change) and ``MetaReplay`` (reading a directory's metadata for a
bootstrap, and setting it on the slave, through the constraint and index services).

Names compared across catalogues: constraints by kind and definition (and their name
where the user gave one: generated names carry the database's ids), indexes by their
attributes and directions (their names carry ids too).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from bookkeeping.amga_adapter.engine import paths
from bookkeeping.amga_adapter.engine import system_tables as st
from bookkeeping.amga_adapter.engine.constraints import GENERATED_NAME
from bookkeeping.amga_adapter.engine.directory_info import DirectoryInfo
from bookkeeping.amga_adapter.engine.errors import NoSuchDirectory, PermissionDenied
from bookkeeping.amga_adapter.engine.session_core import SessionCore
from bookkeeping.amga_adapter.engine.subtree_roles import ReplayPrincipal, roles_for
from bookkeeping.amga_adapter.engine.update_log import UpdateLog, append, log_upsert
from bookkeeping.engines import write_transaction

if TYPE_CHECKING:
    from bookkeeping.amga_adapter.engine.constraints import Constraints
    from bookkeeping.amga_adapter.engine.indexes import Indexes

ENTRY_META = ("owner", "permissions", "group_rights")


class MetaLog:
    """A session's log of directory metadata: the ACL, constraint, index and sequence
    services call ``directory_changed`` after a change, ``entries_changed`` after an entry
    chmod."""

    def __init__(self, core: SessionCore, log: UpdateLog) -> None:
        self.core = core
        self.log = log

    def entries_changed(self, connection: sa.Connection, target: str, count: int) -> None:
        """``count`` entries matching ``target`` changed owner or rights (a chmod): logged
        as an upsert of their whole state, in the change's transaction."""
        directory, name = paths.split(target)
        info = self.core.directory(connection, directory)
        if count and self.log.logged(connection, info, "change entry permissions"):
            selector = (
                paths.name_matches(info.table.c.name, name)
                if paths.is_pattern(name)
                else info.table.c.name == name
            )
            names = connection.scalars(sa.select(info.table.c.name).where(selector)).all()
            log_upsert(connection, info, list(names))

    def directory_changed(self, directory: str, *, missing_ok: bool = False) -> None:
        """The metadata of ``directory`` (absolute) changed: log its whole metadata."""
        # The operation's own write refreshed the roles when stale: a directory outside
        # every replicated subtree costs nothing more (sequence_next is a hot path).
        core = self.core
        if roles_for(core.catalogue.engine).role_of(directory) is None:
            return

        def log(connection: sa.Connection) -> None:
            if not self.log.logged(connection, directory, "change metadata"):
                return
            try:
                info = core.directory(connection, directory, fresh=True)
            except NoSuchDirectory:
                if missing_ok:
                    return
                raise
            append(connection, directory, "meta", {}, fill=lambda: _metadata(connection, info))

        connection = core.connection_in_transaction
        if connection is not None:
            log(connection)
        else:
            with write_transaction(core.catalogue.engine) as connection:
                log(connection)


class MetaReplay:
    """A session's reading of directory metadata (bootstrap) and setting of it (the
    slave's replay only), through the constraint and index services."""

    def __init__(self, core: SessionCore, constraints: Constraints, indexes: Indexes) -> None:
        self.core = core
        self.constraints = constraints
        self.indexes = indexes

    def directory_metadata(self, directory: str) -> dict[str, Any]:
        """The whole metadata of ``directory`` as a ``meta`` record holds it."""
        core = self.core
        target = core.absolute(directory)

        def read(connection: sa.Connection) -> dict[str, Any]:
            info = core.directory(connection, target, fresh=True)
            core.principal.require(info, "r", "read its metadata")
            return _metadata(connection, info)

        return core.run(read, write=False)

    def entry_metadata(self, directory: str) -> list[list[Any]]:
        """``[name, owner, permissions, group_rights]`` of every entry of ``directory``."""
        core = self.core
        target = core.absolute(directory)

        def read(connection: sa.Connection) -> list[list[Any]]:
            info = core.directory(connection, target)
            core.principal.require(info, "r", "read its entries' owners")
            table = info.table
            query = sa.select(table.c.name, *(table.c[c] for c in ENTRY_META))
            return [list(row) for row in connection.execute(query.order_by(table.c.name))]

        return core.run(read, write=False)

    def apply_entry_metadata(self, directory: str, rows: Sequence[Sequence[Any]]) -> None:
        """Set entries' owner and rights as a log record holds them (the replay only)."""
        self._replay_only()
        core = self.core
        target = core.absolute(directory)

        def change(connection: sa.Connection) -> None:
            table = core.directory(connection, target).table
            for name, *values in rows:
                connection.execute(
                    table.update()
                    .where(table.c.name == name)
                    .values(dict(zip(ENTRY_META, values, strict=True)))
                )

        core.run(change, write=True)

    def apply_metadata(self, directory: str, meta: Mapping[str, Any]) -> None:
        """Make ``directory``'s metadata equal to ``meta`` (the replay only)."""
        self._replay_only()
        core = self.core
        target = core.absolute(directory)

        def rows(connection: sa.Connection) -> None:
            info = core.directory(connection, target, fresh=True)
            connection.execute(
                st.directories.update()
                .where(st.directories.c.id == info.id)
                .values(
                    owner=meta["owner"],
                    group_name=meta["group"],
                    permissions=meta["permissions"],
                    group_rights=meta["group_rights"],
                )
            )
            connection.execute(st.acls.delete().where(st.acls.c.directory_id == info.id))
            for principal, rights in sorted(meta["acl"].items()):
                connection.execute(
                    st.acls.insert().values(
                        directory_id=info.id, principal=principal, rights=rights
                    )
                )
            connection.execute(st.sequences.delete().where(st.sequences.c.directory_id == info.id))
            for sequence in meta["sequences"]:
                connection.execute(st.sequences.insert().values(directory_id=info.id, **sequence))

        core.run(rows, write=True)
        core.schema_changed(target)
        self._apply_constraints(target, meta["constraints"])
        self._apply_indexes(target, meta["indexes"])

    def _apply_constraints(self, target: str, wanted: list[dict[str, Any]]) -> None:
        constraints = self.constraints
        have = self._constraints(target)
        want = {_constraint_key(c): c for c in wanted}
        for key, name in have.items():
            if key not in want:
                constraints.constraint_drop(target, name)
        for key, c in want.items():
            if key in have:
                continue
            definition, name = c["definition"], c["name"]
            if c["kind"] == "not_null":
                constraints.constraint_add_not_null(target, definition["attribute"], name=name)
            elif c["kind"] == "unique":
                constraints.constraint_add_unique(target, definition["attributes"], name=name)
            elif c["kind"] == "reference":
                reference = f"{definition['target_path']}:{definition['target_attribute']}"
                constraints.constraint_add_reference(
                    target, definition["attribute"], reference, name=name
                )
            else:
                constraints.constraint_add_check(target, definition["condition"], name=name)

    def _constraints(self, target: str) -> dict[str, str]:
        """The constraints of ``target`` by their key, with their names here."""

        def read(connection: sa.Connection) -> dict[str, str]:
            info = self.core.directory(connection, target, fresh=True)
            return {_constraint_key(_described(c)): c.name for c in info.constraints}

        return self.core.run(read, write=False)

    def _apply_indexes(self, target: str, wanted: list[dict[str, Any]]) -> None:
        indexes = self.indexes
        have = {
            (tuple(i.attributes), tuple(i.descending)): i.name for i in indexes.list_indexes(target)
        }
        want = {(tuple(i["attributes"]), tuple(i["descending"])) for i in wanted}
        for key, name in have.items():
            if key not in want:
                indexes.drop_index(target, name)
        for attributes, descending in sorted(want - set(have)):
            down = [a for a, d in zip(attributes, descending, strict=True) if d]
            indexes.create_index(target, list(attributes), descending=down)

    def _replay_only(self) -> None:
        if not isinstance(self.core.principal, ReplayPrincipal):
            raise PermissionDenied("only the replication replay sets metadata this way")


def _described(c: Any) -> dict[str, Any]:
    return {"name": c.name, "kind": c.kind, "definition": c.definition}


def _constraint_key(c: Mapping[str, Any]) -> str:
    definition = {k: v for k, v in c["definition"].items() if k != "target"}
    name = None if c["name"] is None or GENERATED_NAME.match(c["name"]) else c["name"]
    return json.dumps([c["kind"], definition, name], sort_keys=True)


def _metadata(connection: sa.Connection, info: DirectoryInfo) -> dict[str, Any]:
    indexes = connection.execute(
        sa.select(st.indexes.c.definition)
        .where(st.indexes.c.directory_id == info.id, st.indexes.c.ready.is_(True))
        .order_by(st.indexes.c.id)
    ).scalars()
    by_id = {a.id: a.name for a in info.attributes.values()}
    described = []
    for definition in indexes:
        keys = [(int(p.rstrip("d")), p.endswith("d")) for p in definition.split(",")]
        described.append(
            {"attributes": [by_id[a] for a, _ in keys], "descending": [d for _, d in keys]}
        )
    sequences = connection.execute(
        sa.select(st.sequences.c.name, st.sequences.c.increment, st.sequences.c.next_value)
        .where(st.sequences.c.directory_id == info.id)
        .order_by(st.sequences.c.name)
    )
    return {
        "owner": info.owner,
        "group": info.group_name,
        "permissions": info.permissions,
        "group_rights": info.group_rights,
        "acl": dict(sorted(info.acl.items())),
        "constraints": [
            {
                "name": None if GENERATED_NAME.match(c.name) else c.name,
                "kind": c.kind,
                "definition": c.definition,
            }
            for c in sorted(info.constraints, key=lambda c: c.id)
        ],
        "indexes": described,
        "sequences": [
            {"name": n, "increment": int(i), "next_value": int(v)} for n, i, v in sequences
        ],
    }
