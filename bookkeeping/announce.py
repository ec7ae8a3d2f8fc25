"""Changes others must hear of, handed to announcers inside the transaction that makes them.

The bookkeeping writers (both implementations) and the catalogue engine's permission
operations (chmod, ACL grants and revokes), all above this module, call
``announce(connection, announcement)`` on the connection of the transaction that changes
the rows, just before it commits. Announcers are plug-ins (entry-point group
``bookkeeping.announcers``): syncat's writes the announcement into its outbox table, so a
change and its announcement commit or roll back together.
Without announcers installed, ``announce`` does nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from importlib.metadata import entry_points
from typing import TYPE_CHECKING

from sqlalchemy.engine import Connection

if TYPE_CHECKING:  # the writer is above this module (it announces through it)
    from bookkeeping.writer.changes import Copy

GROUP = "bookkeeping.announcers"


@dataclass(frozen=True)
class ReplicasRemoved:
    """Copies the bookkeeping forgot: their bytes are no longer wanted on their SE."""

    requester: str
    copies: tuple[tuple[str, Copy], ...]  # (lfn, copy removed)


@dataclass(frozen=True)
class PermissionsChanged:
    """A catalogue chmod: ``paths`` (directories or entries) now have these rights."""

    requester: str
    paths: tuple[str, ...]
    permissions: str  # the owner's, "rwx" letters with "-"
    group_rights: str | None  # everybody else's; None when unchanged


@dataclass(frozen=True)
class AclChanged:
    """A catalogue ACL grant or revoke: ``principal`` now holds ``rights`` on the directory
    ``path`` (``rwx`` letters with ``-``; ``---`` when the revoke left it nothing)."""

    requester: str
    path: str
    principal: str
    rights: str


Announcement = ReplicasRemoved | PermissionsChanged | AclChanged
Announcer = Callable[[Connection, Announcement], None]


@cache
def announcers() -> tuple[Announcer, ...]:
    return tuple(point.load() for point in entry_points(group=GROUP))


def announce(connection: Connection, announcement: Announcement) -> None:
    for announcer in announcers():
        announcer(connection, announcement)


def removed_copies(
    lfn: str, before: Sequence[Copy], after: Sequence[Copy]
) -> list[tuple[str, Copy]]:
    """The copies of ``before`` whose key ``after`` no longer has."""
    kept = {copy.key for copy in after}
    return [(lfn, copy) for copy in before if copy.key not in kept]
