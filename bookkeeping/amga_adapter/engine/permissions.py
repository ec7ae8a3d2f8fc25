"""Who may do what: directory rights, per-entry rights and the read filter of queries.

Rights are three characters ``rwx`` with ``-`` for a missing one.

Directory rights of a user are the union of
  * ``permissions`` if the user owns the directory,
  * ``group_rights`` if the user belongs to the directory's group,
  * every ACL row naming the user, one of the user's groups (``group:<name>``) or
    ``system:anyuser`` (everybody, ``anonymous`` included).
``root`` has every right everywhere.

``r`` lists a directory and reads its entries, ``w`` creates, changes and removes entries,
sub-directories, attributes, sequences and constraints, ``x`` lets a session ``cd`` into it.
Changing ownership, group, permissions or ACLs is for the owner and ``root``.

Entries (except in ``plain`` directories) carry rights too: ``permissions`` for the entry's
owner, ``group_rights`` for everybody else who has the matching directory right. Reading an
entry needs ``r`` on both; changing or removing it needs ``w`` on both.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from bookkeeping.amga_adapter.engine.directory_info import DirectoryInfo
from bookkeeping.amga_adapter.engine.errors import InvalidName, PermissionDenied

ROOT = "root"
ANONYMOUS = "anonymous"
EVERYBODY = "system:anyuser"
GROUP_PREFIX = "group:"

DEFAULT_DIRECTORY_PERMISSIONS = "rwx"
DEFAULT_DIRECTORY_GROUP_RIGHTS = "r-x"
DEFAULT_ENTRY_PERMISSIONS = "rw-"
DEFAULT_ENTRY_GROUP_RIGHTS = "r--"
_POSITIONS = "rwx"


def parse_rights(text: str) -> str:
    """``"rx"``, ``"r-x"``, ``"xr"`` -> ``"r-x"``; anything else is an error."""
    letters = set(text.replace("-", ""))
    if not letters <= set(_POSITIONS) or len(text) > 3:
        raise InvalidName(f"invalid rights {text!r}: use letters r, w, x (e.g. 'rx' or 'r-x')")
    return "".join(c if c in letters else "-" for c in _POSITIONS)


def merge(a: str, b: str) -> str:
    return "".join(c if (c in a or c in b) else "-" for c in _POSITIONS)


def remove(a: str, b: str) -> str:
    return "".join(c if (c in a and c not in b) else "-" for c in _POSITIONS)


@dataclass(frozen=True)
class Principal:
    """The acting user and the groups it belongs to."""

    user: str
    groups: frozenset[str] = frozenset()

    @property
    def is_root(self) -> bool:
        return self.user == ROOT

    def directory_rights(self, info: DirectoryInfo) -> str:
        if self.is_root:
            return "rwx"
        rights = "---"
        if info.owner == self.user:
            rights = merge(rights, info.permissions)
        if info.group_name is not None and info.group_name in self.groups:
            rights = merge(rights, info.group_rights)
        names = {self.user, EVERYBODY, *(GROUP_PREFIX + g for g in self.groups)}
        for principal, granted in info.acl.items():
            if principal in names:
                rights = merge(rights, granted)
        return rights

    def require(self, info: DirectoryInfo, right: str, action: str) -> None:
        if right not in self.directory_rights(info):
            raise PermissionDenied(
                f"permission denied: {self.user} may not {action} in {info.path} (needs '{right}')",
                path=info.path,
            )

    def require_owner(self, info: DirectoryInfo, action: str) -> None:
        if not (self.is_root or info.owner == self.user):
            raise PermissionDenied(
                f"permission denied: only the owner of {info.path} or root may {action}",
                path=info.path,
            )

    def entry_filter(
        self, info: DirectoryInfo, source: sa.FromClause, right: str
    ) -> sa.ColumnElement[bool] | None:
        """SQL clause keeping the entries on which the user has ``right``; None = all."""
        if self.is_root or info.plain:
            return None
        position = "_" * _POSITIONS.index(right)
        rights = sa.case(
            (source.c.owner == self.user, source.c.permissions), else_=source.c.group_rights
        )
        return rights.like(f"{position}{right}%")

    def entry_allows(
        self, info: DirectoryInfo, owner: str, perms: str, group: str, right: str
    ) -> bool:
        if self.is_root or info.plain:
            return True
        return right in (perms if owner == self.user else group)
