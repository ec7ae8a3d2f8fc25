"""ACL and ownership operations of a session: acl_grant/revoke/show, chown, chgrp, chmod.

Principals: a user name (``alice``), a group (``group:physicists``) or ``system:anyuser``
(everybody, ``anonymous`` included). Only the directory's owner and ``root`` change them.
"""

from __future__ import annotations

import sqlalchemy as sa

from bookkeeping.amga_adapter import paths
from bookkeeping.amga_adapter import system_tables as st
from bookkeeping.amga_adapter.directory_info import DirectoryInfo
from bookkeeping.amga_adapter.errors import (
    NoSuchDirectory,
    NoSuchEntry,
    NoSuchGroup,
    NoSuchUser,
    PermissionDenied,
)
from bookkeeping.amga_adapter.permissions import (
    EVERYBODY,
    GROUP_PREFIX,
    merge,
    parse_rights,
    remove,
)
from bookkeeping.amga_adapter.session_core import SessionCore


class AclOps(SessionCore):
    def acl_show(self, path: str) -> list[tuple[str, str]]:
        """(principal, rights) of a directory, by principal."""
        target = paths.require_single(self._abs(path))

        def show(connection: sa.Connection) -> list[tuple[str, str]]:
            info = self._directory(connection, target, fresh=True)
            self.principal.require(info, "r", "read the ACL")
            return sorted(info.acl.items())

        return self._run(show, write=False)

    def rights(self, path: str) -> str:
        """The session user's rights on a directory or an entry, as ``rwx`` letters with
        ``-`` for each one missing: what the engine's checks will grant (front-ends use it
        to offer only what will be allowed; every operation is still checked when made).

        An entry's rights are its own (owner, permissions, group rights); changing it also
        needs ``w`` on its directory. Asking about an entry needs ``r`` on its directory;
        an entry the user may not read is refused as ``getattr`` refuses it."""
        target = paths.require_single(self._abs(path))

        def read(connection: sa.Connection) -> str:
            try:
                return self.principal.directory_rights(self._directory(connection, target))
            except NoSuchDirectory:
                pass
            directory, name = paths.split(target)
            info = self._directory(connection, directory)
            self.principal.require(info, "r", "read entries")
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
                if self.principal.entry_allows(info, owner, permissions, group_rights, letter)
                else "-"
                for letter in "rwx"
            )
            if letters[0] != "r":
                raise PermissionDenied(
                    f"permission denied: {self.user} may not read {target}", path=target
                )
            return letters

        return self._run(read, write=False)

    def acl_grant(self, path: str, principal: str, rights: str) -> None:
        self._change_acl(path, principal, parse_rights(rights), grant=True)

    def acl_revoke(self, path: str, principal: str, rights: str) -> None:
        self._change_acl(path, principal, parse_rights(rights), grant=False)

    def chown(self, path: str, owner: str) -> None:
        """Give a directory to another user (root only)."""
        target = paths.require_single(self._abs(path))
        if not self.principal.is_root:
            raise PermissionDenied("permission denied: only root may change owners")

        def change(connection: sa.Connection) -> None:
            info = self._directory(connection, target, fresh=True)
            self._check_principal(connection, owner)
            self._update_directory(connection, info, owner=owner)

        self._run(change, write=True)
        self.catalogue.cache.invalidate(target)

    def chgrp(self, path: str, group: str | None) -> None:
        """Set the directory's group (owner or root; ``None`` for none)."""
        target = paths.require_single(self._abs(path))

        def change(connection: sa.Connection) -> None:
            info = self._directory(connection, target, fresh=True)
            self.principal.require_owner(info, "change its group")
            if group is not None:
                self._check_principal(connection, GROUP_PREFIX + group)
            self._update_directory(connection, info, group_name=group)

        self._run(change, write=True)
        self.catalogue.cache.invalidate(target)

    def chmod(self, path: str, permissions: str, group_rights: str | None = None) -> int:
        """Set the owner's (and optionally everybody else's) rights on a directory, or on
        the entries matching ``path``; returns how many objects changed. Directories:
        their owner or root; entries: the entry's owner or root, with ``w`` on the directory.
        """
        target = self._abs(path)
        values = {"permissions": parse_rights(permissions)}
        if group_rights is not None:
            values["group_rights"] = parse_rights(group_rights)

        def change(connection: sa.Connection) -> int:
            name = target.rsplit("/", 1)[-1]
            if not paths.is_pattern(name):
                try:
                    info = self._directory(connection, target, fresh=True)
                except NoSuchDirectory:
                    if target == "/":
                        raise
                else:
                    self.principal.require_owner(info, "change its permissions")
                    self._update_directory(connection, info, **values)
                    return 1
            return self._chmod_entries(connection, target, values)

        count = self._run(change, write=True)
        self.catalogue.cache.invalidate(target)
        return count

    def _chmod_entries(self, connection: sa.Connection, target: str, values: dict[str, str]) -> int:
        directory, name = paths.split(target)
        info = self._directory(connection, directory)
        self.principal.require(info, "w", "change entry permissions")
        table = info.table
        selector = (
            paths.name_matches(table.c.name, name)
            if paths.is_pattern(name)
            else table.c.name == name
        )
        statement = table.update().where(selector).values(**values)
        if not self.principal.is_root:
            statement = statement.where(table.c.owner == self.user)
        count = connection.execute(statement).rowcount
        if count == 0 and not paths.is_pattern(name):
            exists = connection.execute(sa.select(table.c.name).where(table.c.name == name))
            if exists.first() is None:
                raise NoSuchEntry(f"no such entry: {target}", path=target)
            raise PermissionDenied(
                f"permission denied: only the owner of {target} or root may change its rights"
            )
        return count

    # -- internals -------------------------------------------------------------------

    def _change_acl(self, path: str, principal: str, rights: str, *, grant: bool) -> None:
        target = paths.require_single(self._abs(path))

        def change(connection: sa.Connection) -> None:
            info = self._directory(connection, target, fresh=True)
            self.principal.require_owner(info, "change its ACL")
            self._check_principal(connection, principal)
            current = info.acl.get(principal, "---")
            new = merge(current, rights) if grant else remove(current, rights)
            key = (st.acls.c.directory_id == info.id) & (st.acls.c.principal == principal)
            connection.execute(st.acls.delete().where(key))
            if new != "---":
                connection.execute(
                    st.acls.insert().values(directory_id=info.id, principal=principal, rights=new)
                )

        self._run(change, write=True)
        self.catalogue.cache.invalidate(target)

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
