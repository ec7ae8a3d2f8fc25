"""The archiver (seed 004): closed files to tape with few mounts, then disk space back.

One pass (``Archiver.run_once``; ``bk archive run``, and each round of ``bk archive serve``):

1. **queue**: closed files with a disk copy (on a storage element) join the archive queue of
   their destination tape pool (``[datahandling.archive]``, or the only tape element);
2. **flush**: a pool whose free queued rows reach ``flush_bytes`` or ``flush_files``, or
   whose oldest row waited ``flush_age_seconds``, is claimed whole and written to tape in
   one batch (the library fills a cartridge before it mounts the next: one mount per
   cartridge). Each tape copy's adler32 is read back and compared with the bookkeeping's;
   only then is the tape copy registered, the file marked ``archived`` and its disk copy
   made deletable. A copy that does not verify is deleted from tape and retried next pass;
3. **clean**: a disk pool whose free space is under ``watermark * (1 + clean_margin)``
   loses its archived disk copies, oldest archived first, until it is above again (the row
   goes before the bytes).

Kill -9 at any moment: a queue row stays claimed until its daemon comes back (same name:
at once) or goes stale; a file is never ``archived`` before its tape copy was verified and
registered, and a disk copy is deleted only after that (``dh_deletable`` is written with the
``archived`` state).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine, Row

from bookkeeping.chunking import chunked
from bookkeeping.datahandling.claims import claim, free, now
from bookkeeping.datahandling.config import DataHandlingConfig
from bookkeeping.datahandling.errors import NoArchivePool
from bookkeeping.datahandling.storage import ElementCache
from bookkeeping.datahandling.tables import archive_queue, deletable
from bookkeeping.datahandling.tape import TapeItem, write_batch
from bookkeeping.engines import write_transaction
from bookkeeping.errors import BookkeepingError
from bookkeeping.interface import Bookkeeping, BookkeepingWriter, ReplicaKey, ReplicaSpec
from bookkeeping.storage.element import StorageElement
from bookkeeping.storage.registry import DISK_ROLES
from bookkeeping.storage.transfer import expected_of
from bookkeeping.writer.changes import UnknownReplica

log = logging.getLogger(__name__)
PAGE = 1000
IN_CHUNK = 500


@dataclass
class ArchivePass:
    queued: int = 0
    written: int = 0
    archived: int = 0
    failed: int = 0
    deleted: int = 0
    freed: int = 0
    skipped: list[str] | None = None

    @property
    def busy(self) -> bool:
        return bool(self.queued or self.written or self.archived or self.deleted)


class Archiver:
    def __init__(
        self,
        engine: Engine,
        bookkeeping: Bookkeeping,
        writer: BookkeepingWriter,
        elements: ElementCache,
        *,
        me: str,
        config: DataHandlingConfig,
    ) -> None:
        self.engine = engine
        self.bookkeeping = bookkeeping
        self.writer = writer
        self.elements = elements
        self.registry = elements.registry
        self.me = me
        self.config = config

    def run_once(self, *, flush_all: bool = False) -> ArchivePass:
        report = ArchivePass(skipped=[])
        self.enqueue(report)
        self.flush(report, flush_all=flush_all)
        self.clean(report)
        return report

    # --- 1. queue -----------------------------------------------------------------------

    def pool_of(self, disk_se: str) -> str:
        if disk_se in self.config.archive:
            return self.config.archive[disk_se]
        tapes = self.registry.list(role="tape")
        if len(tapes) == 1:
            return tapes[0].name
        raise NoArchivePool(
            f"disk element {disk_se} has no tape pool: name one in [datahandling.archive]"
            f" ({len(tapes)} tape elements are registered)"
        )

    def enqueue(self, report: ArchivePass) -> None:
        after = 0
        while True:
            page = self.bookkeeping.files_in_state("closed", after=after, limit=PAGE)
            if not page:
                return
            after = page[-1][0]
            self._enqueue_page(page, report)

    def _enqueue_page(self, page: Sequence[tuple[int, str]], report: ArchivePass) -> None:
        lfns = [lfn for _, lfn in page]
        with self.engine.connect() as connection:
            queued: set[str] = set()
            for chunk in chunked(lfns, IN_CHUNK):
                queued.update(
                    lfn
                    for (lfn,) in connection.execute(
                        sa.select(archive_queue.c.lfn).where(archive_queue.c.lfn.in_(chunk))
                    )
                )
        todo = [(i, lfn) for i, lfn in page if lfn not in queued]
        if not todo:
            return
        records = {r.lfn: r for r in self.bookkeeping.files_metadata([x for _, x in todo]).found}
        copies = self.bookkeeping.replicas_of([i for i, _ in todo])
        disk_roles = {r.name for r in self.registry.list() if r.role in DISK_ROLES}
        stamp = now()
        rows = []
        for file_id, lfn in todo:
            record = records.get(lfn)
            disk = [
                c
                for c in copies.get(file_id, ())
                if c.storage_class == "disk" and c.status == "available" and c.se in disk_roles
            ]
            if record is None or not disk:
                continue  # nothing of ours to archive from (e.g. recorded without its bytes)
            try:
                pool = self.pool_of(disk[0].se)
            except NoArchivePool as exc:
                assert report.skipped is not None
                report.skipped.append(f"{lfn}: {exc}")
                continue
            rows.append(
                {
                    "lfn": lfn,
                    "pool": pool,
                    "source_se": disk[0].se,
                    "source_path": disk[0].path,
                    "size": expected_of(self.bookkeeping, record)[0],  # the real bytes
                    "adler32": record.checksum,
                    "queued": stamp,
                }
            )
        for row in rows:  # one by one: a concurrent archiver may queue the same file
            try:
                with write_transaction(self.engine) as connection:
                    connection.execute(archive_queue.insert().values(**row))
                report.queued += 1
            except sa.exc.IntegrityError:
                pass

    # --- 2. flush -----------------------------------------------------------------------

    def due_pools(self, *, flush_all: bool = False) -> list[str]:
        q = archive_queue.c
        stale = self.config.stale_after_seconds
        query = (
            sa.select(q.pool, sa.func.count(), sa.func.sum(q.size), sa.func.min(q.queued))
            .where(free(archive_queue, self.me, stale))
            .group_by(q.pool)
            .order_by(q.pool)
        )
        oldest_allowed = now() - timedelta(seconds=self.config.flush_age_seconds)
        with self.engine.connect() as connection:
            return [
                pool
                for pool, files, size, oldest in connection.execute(query)
                if flush_all
                or files >= self.config.flush_files
                or int(size or 0) >= self.config.flush_bytes
                or oldest <= oldest_allowed
            ]

    def flush(self, report: ArchivePass, *, flush_all: bool = False) -> None:
        for pool in self.due_pools(flush_all=flush_all):
            with write_transaction(self.engine) as connection:
                rows = claim(
                    connection,
                    archive_queue,
                    self.me,
                    where=[archive_queue.c.pool == pool],
                    order_by=[archive_queue.c.queued],
                    limit=1_000_000,
                    stale_after=self.config.stale_after_seconds,
                )
            if rows:
                self._write_pool(pool, rows, report)

    def _write_pool(self, pool: str, rows: Sequence[Row], report: ArchivePass) -> None:
        tape = self.elements(pool)
        tape_record = self.registry.get(pool)
        items = [
            TapeItem(
                path=row.lfn,
                size=row.size,
                adler32=row.adler32,
                source=self.elements(row.source_se),
                source_path=row.source_path,
            )
            for row in rows
        ]
        outcome = write_batch(tape, items)
        report.written += len(outcome.written)
        by_lfn = {row.lfn: row for row in rows}
        for path, error in outcome.failed.items():
            log.warning("archiving %s to %s failed: %s", path, pool, error)
            report.failed += 1
            self._unclaim(by_lfn[path])
        verified = []
        for path in outcome.written:
            row = by_lfn[path]
            try:
                ok = tape.stat(path).adler32 == row.adler32
            except BookkeepingError as exc:
                log.warning("tape copy of %s on %s unreadable: %s", path, pool, exc)
                ok = False
            if ok:
                verified.append(row)
            else:
                report.failed += 1
                self._unclaim(row)
        for chunk in chunked(verified, IN_CHUNK):
            self._archived(chunk, tape_record.site or pool, pool, tape.url)
            report.archived += len(chunk)

    def _archived(self, rows: Sequence[Row], site: str, pool: str, url: str) -> None:
        """Register the verified tape copies, mark the files archived, make their disk
        copies deletable and drop their queue rows, in that order: each step idempotent, so
        a kill between two of them is finished by the next pass."""
        for row in rows:  # one call per file: each copy has its own PFN and path
            spec = ReplicaSpec(site, "tape", "", "available", f"{url}{row.lfn}", pool, row.lfn)
            self.writer.add_replicas([row.lfn], spec)
        lfns = [row.lfn for row in rows]
        self.writer.set_life_cycle(lfns, "archived")
        d = deletable.c
        stamp = now()
        with write_transaction(self.engine) as connection:
            known = {lfn for (lfn,) in connection.execute(sa.select(d.lfn).where(d.lfn.in_(lfns)))}
            fresh = [
                {
                    "lfn": row.lfn,
                    "source_se": row.source_se,
                    "source_path": row.source_path,
                    "size": row.size,
                    "archived": stamp,
                }
                for row in rows
                if row.lfn not in known
            ]
            if fresh:
                connection.execute(deletable.insert(), fresh)
            connection.execute(archive_queue.delete().where(archive_queue.c.lfn.in_(lfns)))

    def _unclaim(self, row: Row) -> None:
        with write_transaction(self.engine) as connection:
            connection.execute(
                archive_queue.update()
                .where(archive_queue.c.lfn == row.lfn, archive_queue.c.claimed_by == self.me)
                .values(claimed_by=None, claimed_at=None)
            )

    # --- 3. clean -----------------------------------------------------------------------

    def clean(self, report: ArchivePass) -> None:
        d = deletable.c
        with self.engine.connect() as connection:
            pools = [se for (se,) in connection.execute(sa.select(d.source_se).distinct())]
        for se in sorted(pools):
            record = self.registry.find(se)
            if record is None:
                continue
            element = self.elements(se)
            usage = element.usage()
            if usage.capacity is None:
                continue
            wanted = int(record.watermark * (1 + self.config.clean_margin))
            free_now = usage.capacity - usage.used
            if free_now >= wanted:
                continue
            self._clean_pool(se, element, wanted - free_now, report)

    def _clean_pool(
        self, se: str, element: StorageElement, needed: int, report: ArchivePass
    ) -> None:
        d = deletable.c
        freed = 0
        with self.engine.connect() as connection:
            candidates = list(
                connection.execute(
                    sa.select(d.lfn, d.source_path, d.size)
                    .where(d.source_se == se)
                    .order_by(d.archived, d.lfn)
                )
            )
        states = self.bookkeeping.life_cycle([lfn for lfn, _, _ in candidates])
        for lfn, path, size in candidates:
            if freed >= needed:
                break
            if states.get(lfn) != "archived":
                continue  # never: dh_deletable is written after the archived state
            self._forget_disk_copy(lfn, se)
            if element.exists(path):
                element.delete(path)
            with write_transaction(self.engine) as connection:
                connection.execute(deletable.delete().where(d.lfn == lfn))
            freed += int(size)
            report.deleted += 1
            report.freed += int(size)

    def _forget_disk_copy(self, lfn: str, se: str) -> None:
        record = self.bookkeeping.file_by_lfn(lfn)
        if record is None:
            return
        for replica in self.bookkeeping.replicas(record.file_id):
            if replica.storage_class == "disk" and replica.se == se:
                try:
                    self.writer.remove_replicas(
                        [lfn], ReplicaKey(replica.site, "disk", replica.area)
                    )
                except UnknownReplica:
                    pass
