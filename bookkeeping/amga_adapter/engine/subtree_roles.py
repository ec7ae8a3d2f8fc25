"""Which subtrees of this database are replicated, and in which role (docs/replication.md).

Read from ``replication_subtrees`` per engine, on a write's own connection when the copy is
older than ``ROLES_TTL_S`` (like the schema cache); reads never read it. On a **slave**
subtree a user's writes are refused: the session wraps its principal in
``GuardedPrincipal``, whose ``require``/``require_owner`` refuse a write there with
``ReadOnlyCatalogue``; only the replay (``ReplayPrincipal``) writes there.
"""

from __future__ import annotations

import threading
import time
import weakref
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bookkeeping.amga_adapter.engine.directory_info import DirectoryInfo
from bookkeeping.amga_adapter.engine.permissions import Principal
from bookkeeping.replication.errors import ReadOnlyCatalogue
from bookkeeping.replication.tables import replication_subtrees

ROLES_TTL_S = 2.0


def under(path: str, subtree: str) -> bool:
    return path == subtree or subtree == "/" or path.startswith(subtree + "/")


class SubtreeRoles:
    """The replicated subtrees of one database, reloaded at most every ``ROLES_TTL_S``."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._roles: dict[str, str] = {}
        self._loaded = float("-inf")
        self._lock = threading.Lock()

    @property
    def stale(self) -> bool:
        return time.monotonic() - self._loaded >= ROLES_TTL_S

    def refresh(self, connection: sa.Connection | None = None) -> None:
        """Reload now, through ``connection`` when given (inside an operation a second
        connection of the same thread could share the first one's DBAPI connection)."""
        query = sa.select(replication_subtrees.c.path, replication_subtrees.c.role)
        if connection is None:
            with self.engine.connect() as own:
                rows = own.execute(query).all()
        else:
            rows = connection.execute(query).all()
        with self._lock:
            self._roles = {path: role for path, role in rows}
            self._loaded = time.monotonic()

    def forget(self) -> None:
        self._loaded = float("-inf")

    def role_of(self, path: str, connection: sa.Connection | None = None) -> tuple[str, str] | None:
        """(subtree, role) of the replicated subtree holding ``path``, if any; reloaded
        first when stale and a ``connection`` is given, else from what was last read."""
        if connection is not None and self.stale:
            self.refresh(connection)
        for subtree, role in self._roles.items():
            if under(path, subtree):
                return subtree, role
        return None


_ROLES: weakref.WeakKeyDictionary[Engine, SubtreeRoles] = weakref.WeakKeyDictionary()
_ROLES_LOCK = threading.Lock()


def roles_for(engine: Engine) -> SubtreeRoles:
    with _ROLES_LOCK:
        roles = _ROLES.get(engine)
        if roles is None:
            roles = _ROLES[engine] = SubtreeRoles(engine)
        return roles


@dataclass(frozen=True)
class GuardedPrincipal(Principal):
    """A user's principal that refuses writes under slave subtrees."""

    roles: SubtreeRoles | None = field(default=None, compare=False, repr=False)

    def require(self, info: DirectoryInfo, right: str, action: str) -> None:
        if right == "w":
            self.refuse_on_slave(info.path, action)
        super().require(info, right, action)

    def require_owner(self, info: DirectoryInfo, action: str) -> None:
        self.refuse_on_slave(info.path, action)
        super().require_owner(info, action)

    def refuse_on_slave(self, path: str, action: str) -> None:
        found = self.roles.role_of(path) if self.roles is not None else None
        if found is not None and found[1] == "slave":
            raise ReadOnlyCatalogue(
                f"cannot {action} in {path}: {found[0]} is a read-only replica of another "
                "catalogue; write at its master",
                path=path,
            )


@dataclass(frozen=True)
class ReplayPrincipal(Principal):
    """Root, writing where only the replay may (a slave's subtrees)."""


def guarded(principal: Principal, engine: Engine) -> Principal:
    """``principal`` as a session holds it: refusing writes under this database's slave
    subtrees (the replay's own principal, and one already guarded, as they are)."""
    if isinstance(principal, ReplayPrincipal | GuardedPrincipal):
        return principal
    return GuardedPrincipal(principal.user, principal.groups, roles_for(engine))
