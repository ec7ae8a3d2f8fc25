"""ACL and ownership operations of a session (its ``acls`` service): acl_grant, acl_revoke,
acl_show, rights, chown, chgrp, chmod.

Principals: a user name (``alice``), a group (``group:physicists``) or ``system:anyuser``
(everybody, ``anonymous`` included). Only the directory's owner and ``root`` change them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa

from bookkeeping.amga_adapter.engine import paths
from bookkeeping.amga_adapter.engine import system_tables as st
from bookkeeping.amga_adapter.engine.directory_info import DirectoryInfo
from bookkeeping.amga_adapter.engine.errors import (
    NoSuchDirectory,
    NoSuchEntry,
    NoSuchGroup,
    NoSuchUser,
    PermissionDenied,
)
from bookkeeping.amga_adapter.engine.permissions import (
    EVERYBODY,
    GROUP_PREFIX,
    merge,
    parse_rights,
    remove,
)
from bookkeeping.amga_adapter.engine.session_core import SessionCore
from bookkeeping.announce import AclChanged, PermissionsChanged, announce, announcers

if TYPE_CHECKING:
    from bookkeeping.amga_adapter.engine.replica_meta import MetaLog


class Acls:
    def __init__(self, core: SessionCore, meta: MetaLog) -> None:
        self.core = core
        self.meta = meta

    def acl_show(self, path: str) -> list[tuple[str, str]]:
        """(principal, rights) of a directory, by principal."""
        target = paths.require_single(self.core.absolute(path))

        def show(connection: sa.Connection) -> list[tuple[str, str]]:
            info = self.core.directory(connection, target, fresh=True)
            self.core.principal.require(info, "r", "read the ACL")
            return sorted(info.acl.items())

        return self.core.run(show, write=False)

    def rights(self, path: str) -> str:
        """The session user's rights on a directory or an entry, as ``rwx`` letters with
        ``-`` for each one missing: what the engine's checks will grant (front-ends use it
        to offer only what will be allowed; every operation is still checked when made).

        An entry's rights are its own (owner, permissions, group rights); changing it also
        needs ``w`` on its directory. Asking about an entry needs ``r`` on its directory;
        an entry the user may not read is refused as ``getattr`` refuses it."""
        target = paths.require_single(self.core.absolute(path))

        def read(connection: sa.Connection) -> str:
            try:
                return self.core.principal.directory_rights(self.core.directory(connection, target))
            except NoSuchDirectory:
                pass
            directory, name = paths.split(target)
            info = self.core.directory(connection, directory)
            self.core.principal.require(info, "r", "read entries")
            table = info.table
            row = connection.execute(
                sa.select(table.c.owner, table.c.permissions, table.c.group_rights).where(
                    table.c.name == name
                )
            ).first()
            if row is None:
                raise NoSuchEntry(f"no such entry: {target}", path=target)
            owner, permissions, group_rights = row
            letters = "".join(
                letter
                if self.core.principal.entry_allows(info, owner, permissions, group_rights, letter)
                else "-"
                for letter in "rwx"
            )
            if letters[0] != "r":
                raise PermissionDenied(
                    f"permission denied: {self.core.user} may not read {target}", path=target
                )
            return letters

        return self.core.run(read, write=False)

    def acl_grant(self, path: str, principal: str, rights: str) -> None:
        self._change_acl(path, principal, parse_rights(rights), grant=True)

    def acl_revoke(self, path: str, principal: str, rights: str) -> None:
        self._change_acl(path, principal, parse_rights(rights), grant=False)

    def chown(self, path: str, owner: str) -> None:
        """Give a directory to another user (root only)."""
        target = paths.require_single(self.core.absolute(path))
        if not self.core.principal.is_root:
            raise PermissionDenied("permission denied: only root may change owners")

        def change(connection: sa.Connection) -> None:
            info = self.core.directory(connection, target, fresh=True)
            self._check_principal(connection, owner)
            self._update_directory(connection, info, owner=owner)

        self.core.run(change, write=True)
        self.core.schema_changed(target)
        self.meta.directory_changed(target)

    def chgrp(self, path: str, group: str | None) -> None:
        """Set the directory's group (owner or root; ``None`` for none)."""
        target = paths.require_single(self.core.absolute(path))

        def change(connection: sa.Connection) -> None:
            info = self.core.directory(connection, target, fresh=True)
            self.core.principal.require_owner(info, "change its group")
            if group is not None:
                self._check_principal(connection, GROUP_PREFIX + group)
            self._update_directory(connection, info, group_name=group)

        self.core.run(change, write=True)
        self.core.schema_changed(target)
        self.meta.directory_changed(target)

    def chmod(self, path: str, permissions: str, group_rights: str | None = None) -> int:
        """Set the owner's (and optionally everybody else's) rights on a directory, or on
        the entries matching ``path``; returns how many objects changed. Directories:
        their owner or root; entries: the entry's owner or root, with ``w`` on the directory.
        """
        target = self.core.absolute(path)
        values = {"permissions": parse_rights(permissions)}
        if group_rights is not None:
            values["group_rights"] = parse_rights(group_rights)

        def change(connection: sa.Connection) -> int:
            name = target.rsplit("/", 1)[-1]
            if not paths.is_pattern(name):
                try:
                    info = self.core.directory(connection, target, fresh=True)
                except NoSuchDirectory:
                    if target == "/":
                        raise
                else:
                    self.core.principal.require_owner(info, "change its permissions")
                    self._update_directory(connection, info, **values)
                    self._announce(connection, [target], values)
                    return 1
            return self._chmod_entries(connection, target, values)

        count = self.core.run(change, write=True)
        self.core.schema_changed(target)
        self.meta.directory_changed(target, missing_ok=True)  # entries: logged as upserts
        return count

    def _chmod_entries(self, connection: sa.Connection, target: str, values: dict[str, str]) -> int:
        directory, name = paths.split(target)
        info = self.core.directory(connection, directory)
        self.core.principal.require(info, "w", "change entry permissions")
        table = info.table
        selector = (
            paths.name_matches(table.c.name, name)
            if paths.is_pattern(name)
            else table.c.name == name
        )
        statement = table.update().where(selector).values(**values)
        if not self.core.principal.is_root:
            statement = statement.where(table.c.owner == self.core.user)
        if announcers():  # which entries change, for the announcement (bookkeeping/announce.py)
            names = sa.select(table.c.name).where(selector)
            if not self.core.principal.is_root:
                names = names.where(table.c.owner == self.core.user)
            changed = [f"{directory.rstrip('/')}/{n}" for n in connection.scalars(names)]
            self._announce(connection, changed, values)
        count = connection.execute(statement).rowcount
        if count == 0 and not paths.is_pattern(name):
            exists = connection.execute(sa.select(table.c.name).where(table.c.name == name))
            if exists.first() is None:
                raise NoSuchEntry(f"no such entry: {target}", path=target)
            raise PermissionDenied(
                f"permission denied: only the owner of {target} or root may change its rights"
            )
        self.meta.entries_changed(connection, target, count)
        return count

    # -- internals -------------------------------------------------------------------

    def _change_acl(self, path: str, principal: str, rights: str, *, grant: bool) -> None:
        target = paths.require_single(self.core.absolute(path))

        def change(connection: sa.Connection) -> None:
            info = self.core.directory(connection, target, fresh=True)
            self.core.principal.require_owner(info, "change its ACL")
            self._check_principal(connection, principal)
            current = info.acl.get(principal, "---")
            new = merge(current, rights) if grant else remove(current, rights)
            key = (st.acls.c.directory_id == info.id) & (st.acls.c.principal == principal)
            connection.execute(st.acls.delete().where(key))
            if new != "---":
                connection.execute(
                    st.acls.insert().values(directory_id=info.id, principal=principal, rights=new)
                )
            if new != current:  # in this transaction: announced exactly when it commits
                announce(connection, AclChanged(self.core.user, target, principal, new))

        self.core.run(change, write=True)
        self.core.schema_changed(target)
        self.meta.directory_changed(target)

    def _announce(
        self, connection: sa.Connection, changed: list[str], values: dict[str, str]
    ) -> None:
        if changed:
            announce(
                connection,
                PermissionsChanged(
                    self.core.user,
                    tuple(changed),
                    values["permissions"],
                    values.get("group_rights"),
                ),
            )

    def _check_principal(self, connection: sa.Connection, principal: str) -> None:
        if principal == EVERYBODY:
            return
        if principal.startswith(GROUP_PREFIX):
            name = principal[len(GROUP_PREFIX) :]
            if connection.scalar(sa.select(st.groups.c.id).where(st.groups.c.name == name)):
                return
            raise NoSuchGroup(f"no such group: {name}")
        if connection.scalar(sa.select(st.users.c.id).where(st.users.c.name == principal)):
            return
        raise NoSuchUser(f"no such user: {principal} (groups are written group:<name>)")

    def _update_directory(
        self, connection: sa.Connection, info: DirectoryInfo, **values: object
    ) -> None:
        connection.execute(
            st.directories.update().where(st.directories.c.id == info.id).values(**values)
        )
