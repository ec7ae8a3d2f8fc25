"""The catalogue consumer: what storage elements report, recorded in the bookkeeping.

- ``file_lost``: the copy on that SE is marked ``lost`` and the file reported suspicious;
- ``file_corrupted``: the copy is marked ``bad`` and the file reported suspicious;
- ``file_appeared``: a file the catalogue has no copy of there is dark data: it goes to the
  quarantine list (a registered copy appearing is nothing to report);
- ``space_changed``: the SE's space is remembered.

Everything is idempotent: a copy already so marked, a file already reported or quarantined
is left alone. A message names files by their path on the SE (and, optionally, their LFN);
the copy is the one the catalogue records on that SE at that path. The requester needs ``w``
on the replica directory of the SE's site in the catalogue.
Lost and corrupted copies change through the bookkeeping writer's ``mark_copies_at``: one
look-up, one update and one insert of the reports for a whole message, and the consumer's
record of the message in the same transaction (``apply_recorded``), on both bookkeeping
implementations. A message applied again after a crash before its acknowledgement finds
it recorded, and nothing to change.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

from sqlalchemy.engine import Connection

from bookkeeping.backends import open_bookkeeping, open_writer
from bookkeeping.chunking import chunked
from bookkeeping.engines import write_transaction
from bookkeeping.interface import Replica
from bookkeeping.syncat.messages import Envelope, MessageType
from bookkeeping.syncat.plugins import PluginContext, Record
from bookkeeping.syncat.plugins.rights import CatalogueRights
from bookkeeping.syncat.sql import insert_missing
from bookkeeping.syncat.tables import quarantine, space, suspicious
from bookkeeping.writer.changes import MarkedCopies

log = logging.getLogger(__name__)
CHUNK = 500
MARK = {MessageType.FILE_LOST: "lost", MessageType.FILE_CORRUPTED: "bad"}


class CatalogueConsumer:
    types = frozenset(
        {
            MessageType.FILE_LOST,
            MessageType.FILE_CORRUPTED,
            MessageType.FILE_APPEARED,
            MessageType.SPACE_CHANGED,
        }
    )

    def __init__(self, context: PluginContext) -> None:
        self.engine = context.engine
        self.reader = open_bookkeeping(context.engine, context.backend)
        self.writer = open_writer(context.engine, context.backend)
        self.rights = CatalogueRights(context.engine)

    def authorize(self, envelope: Envelope) -> None:
        self.rights.require_on_se(envelope.requester, envelope.se, "w", f"report on {envelope.se}")

    def apply(self, envelope: Envelope) -> int:
        return self.apply_recorded(envelope, None)

    def apply_recorded(self, envelope: Envelope, record: Record | None) -> int:
        """``apply``, with ``record(connection, files)`` called in the transaction of the
        effect, so the effect and the consumer's record of the message commit together."""
        if envelope.type is MessageType.SPACE_CHANGED:
            return self._space(envelope, record)
        if envelope.type is MessageType.FILE_APPEARED:
            return self._quarantine(envelope, self._locate(envelope.se, envelope.files), record)
        return self._mark(envelope, MARK[envelope.type], record)

    # --- which copies the message is about -------------------------------------------

    def _locate(
        self, se: str, items: Sequence[dict[str, Any]]
    ) -> dict[int, tuple[str, Replica] | None]:
        """item index -> (lfn, the copy at that SE and path), None when the catalogue has
        none."""
        lfns = [item.get("lfn") or item["path"] for item in items]
        ids: dict[str, int] = {}
        for chunk in chunked(lfns, CHUNK):
            found = self.reader.files_metadata(sorted(set(chunk)))
            ids.update((record.lfn, record.file_id) for record in found.found)
        copies = self.reader.replicas_of(sorted(set(ids.values()))) if ids else {}
        located: dict[int, tuple[str, Replica] | None] = {}
        for index, (item, lfn) in enumerate(zip(items, lfns, strict=True)):
            located[index] = None
            for replica in copies.get(ids.get(lfn, -1), ()):
                if replica.se == se and replica.path == item["path"]:
                    located[index] = (lfn, replica)
                    break
        return located

    # --- effects ----------------------------------------------------------------------

    def _mark(self, envelope: Envelope, status: str, record: Record | None) -> int:
        """The copies at the message's paths marked, the files reported suspicious, the
        message recorded: one look-up, one update and one insert for the whole message,
        in one transaction (``BookkeepingWriter.mark_copies_at``)."""
        wanted: dict[str, str] = {}
        for item in envelope.files:
            wanted.setdefault(item["path"], item.get("lfn") or item["path"])
        reason = "lost" if status == "lost" else "corrupted"

        def then(connection: Connection, marked: MarkedCopies) -> None:
            now = time.time()
            reports = {
                lfn: {
                    "se": envelope.se,
                    "lfn": lfn,
                    "reason": reason,
                    "message_id": envelope.id,
                    "reported": now,
                }
                for lfn in marked.found.values()
            }
            insert_missing(connection, suspicious, list(reports.values()))
            if record is not None:
                record(connection, marked.changed)

        marked = self.writer.mark_copies_at(envelope.se, wanted, status, then=then)
        unknown = [path for path in wanted if path not in marked.found]
        if unknown:
            log.info(
                "%s: no copy at %s in the catalogue of %d of its files (%s%s); nothing to mark",
                envelope.id,
                envelope.se,
                len(unknown),
                ", ".join(unknown[:3]),
                ", ..." if len(unknown) > 3 else "",
            )
        return marked.changed

    def _quarantine(
        self,
        envelope: Envelope,
        found: dict[int, tuple[str, Replica] | None],
        record: Record | None,
    ) -> int:
        now = time.time()
        rows = {
            item["path"]: {
                "se": envelope.se,
                "path": item["path"],
                "size": item.get("size"),
                "adler32": item.get("adler32"),
                "message_id": envelope.id,
                "found": now,
            }
            for index, item in enumerate(envelope.files)
            if found[index] is None
        }
        with write_transaction(self.engine) as connection:
            inserted = insert_missing(connection, quarantine, list(rows.values()))
            if record is not None:
                record(connection, inserted)
        return inserted

    def _space(self, envelope: Envelope, record: Record | None) -> int:
        values = {
            "used": envelope.extra["used"],
            "capacity": envelope.extra.get("capacity"),
            "message_id": envelope.id,
            "reported": time.time(),
        }
        with write_transaction(self.engine) as connection:
            updated = connection.execute(
                space.update().where(space.c.se == envelope.se).values(**values)
            ).rowcount
            if not updated:
                connection.execute(space.insert().values(se=envelope.se, **values))
            if record is not None:
                record(connection, 0)
        return 0
