"""The outbox: announcements written in the transaction of the change they announce.

``write_announcement`` is the ``bookkeeping.announcers`` plug-in (bookkeeping/announce.py): it
turns a change into one outbox row per file, on the change's own connection, so the rows
commit exactly when the change does. The relay (``relay.py``) publishes them later.
"""

from __future__ import annotations

import json
import time
from typing import Any

from sqlalchemy.engine import Connection

from bookkeeping.announce import AclChanged, Announcement, PermissionsChanged, ReplicasRemoved
from bookkeeping.syncat.messages import MessageType
from bookkeeping.syncat.placement import mode_of, on_storage
from bookkeeping.syncat.tables import outbox

ANY_SE = "*"  # a row for every storage element the relay serves


def _row(
    kind: MessageType, se: str, requester: str, item: dict[str, Any], now: float
) -> dict[str, Any]:
    return {
        "type": str(kind),
        "se": se,
        "requester": requester,
        "item": json.dumps(item, separators=(",", ":")),
        "created": now,
    }


def write_announcement(connection: Connection, announcement: Announcement) -> None:
    now = time.time()
    if isinstance(announcement, ReplicasRemoved):
        rows = [
            _row(
                MessageType.FILE_DELETED,
                copy.se,
                announcement.requester,
                {"path": copy.path, "lfn": lfn},
                now,
            )
            for lfn, copy in announcement.copies
            if on_storage(copy)  # a copy without bytes on an SE: nothing to delete
        ]
    elif isinstance(announcement, PermissionsChanged):
        mode = mode_of(announcement.permissions, announcement.group_rights)
        rows = [
            _row(
                MessageType.PERMISSIONS_CHANGED,
                ANY_SE,
                announcement.requester,
                {"path": path, "mode": mode},
                now,
            )
            for path in announcement.paths
        ]
    elif isinstance(announcement, AclChanged):
        item = {
            "path": announcement.path,
            "principal": announcement.principal,
            "rights": announcement.rights,
        }
        rows = [
            _row(MessageType.ACL_CHANGED, ANY_SE, announcement.requester, item, now),
        ]
    else:  # a newer announcement this version does not map: nothing to say
        return
    if rows:
        connection.execute(outbox.insert(), rows)


def enqueue(
    connection: Connection, kind: MessageType, se: str, requester: str, items: list[dict[str, Any]]
) -> None:
    """Announce ``items`` by hand (``bk syncat send``, the audit) through the outbox."""
    now = time.time()
    connection.execute(outbox.insert(), [_row(kind, se, requester, item, now) for item in items])
