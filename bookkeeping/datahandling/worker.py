"""The recall daemon's work: plan copies for waiting requests, copy, answer.

One pass (``RecallWorker.run_once``):

1. expired pins are swept;
2. **plan**: each file some request waits for, with no copy in flight, is answered at once
   if it is in an area the request accepts; otherwise one copy is queued (``dh_copies``, one
   row per file however many requests wait: the unique LFN refuses a second) to the area
   most of its requests accept, the least used of those, from the fastest source: a disk
   pool, then another recall area, then tape. No readable source fails the file, named;
3. **copy**: disk and recall sources are claimed and copied one by one; tape copies are
   claimed a cartridge at a time (at most ``drive_limit`` cartridges at once, one thread
   each) and read in their order on the cartridge, so a cartridge is mounted once for all
   its files;
4. **answer**: once the bytes are in place (written under a temporary name, checksummed,
   renamed) the copy is registered (``dh_area_files`` and the bookkeeping's recall copy),
   every request waiting for the file in that area gets it ready and pinned, and the copy
   row goes.

A daemon killed at any moment leaves claimed rows that it (restarted under its name) or
another daemon (after ``stale_after_seconds``) takes again; a copy whose bytes are already
in place with the right checksum is not made again.

The rows it reads and writes (waiting requests, area copies, the queue of copies and its
claims) are ``recall_queue``'s; this module decides and copies.
"""

from __future__ import annotations

import logging
import tempfile
import threading
from collections import defaultdict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import Engine, Row

from bookkeeping.datahandling import areas as A
from bookkeeping.datahandling import recall_queue as Q
from bookkeeping.datahandling.claims import now
from bookkeeping.datahandling.config import DataHandlingConfig
from bookkeeping.datahandling.storage import ElementCache
from bookkeeping.datahandling.tape import SPOOL_BYTES, read_batch, tape_location
from bookkeeping.errors import BookkeepingError, DatabaseUnavailable, SchemaNotInitialised
from bookkeeping.interface import Bookkeeping, BookkeepingWriter, Replica, ReplicaKey, ReplicaSpec
from bookkeeping.storage.element import StorageElement
from bookkeeping.storage.errors import StorageFull, StorageUnavailable
from bookkeeping.storage.transfer import expected_of
from bookkeeping.writer.changes import UnknownReplica

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Source:
    se: str
    path: str
    cartridge: str | None = None
    position: int | None = None


@dataclass
class PassReport:
    swept: int = 0
    answered: int = 0
    queued: int = 0
    failed: int = 0
    copied: int = 0
    evicted: int = 0

    @property
    def busy(self) -> bool:
        return bool(self.answered or self.queued or self.failed or self.copied)


class RecallWorker:
    def __init__(
        self,
        engine: Engine,
        bookkeeping: Bookkeeping,
        writer: BookkeepingWriter,
        elements: ElementCache,
        *,
        me: str,
        config: DataHandlingConfig,
        drive_limit: int = 2,
    ) -> None:
        self.engine = engine
        self.bookkeeping = bookkeeping
        self.writer = writer
        # Cartridges are read by parallel threads, but a bookkeeping writer is made for one
        # thread (the catalogue's keeps its session and transaction): registrations take
        # turns. They are short; the tape reads and copies around them stay parallel.
        self._writer_turn = threading.Lock()
        self.elements = elements
        self.me = me
        self.config = config
        self.drive_limit = max(1, drive_limit)

    # --- one pass ---------------------------------------------------------------------

    def run_once(self) -> PassReport:
        report = PassReport(swept=A.sweep_pins(self.engine))
        self.plan(report)
        self.copy(report)
        return report

    # --- planning ---------------------------------------------------------------------

    def plan(self, report: PassReport) -> None:
        waiting = Q.waiting_without_copy(self.engine)
        if not waiting:
            return
        present = Q.present(self.engine, list(waiting))
        needing: dict[str, list[Q.Waiting]] = {}
        for lfn, requests in waiting.items():
            here = present.get(lfn, {})
            served = [w for w in requests if any(area in here for area in w.areas)]
            for w in served:
                area = next(area for area in w.areas if area in here)
                report.answered += Q.answer(self.engine, lfn, area, here[area], [w])
            rest = [w for w in requests if w not in served]
            if rest:
                needing[lfn] = rest
        if needing:
            self._usage: dict[str, float] = {}
            self._capacity: dict[str, int] = {}
            self._queue(needing, present, report)

    def _queue(
        self,
        needing: dict[str, list[Q.Waiting]],
        present: dict[str, dict[str, str]],
        report: PassReport,
    ) -> None:
        records = {r.lfn: r for r in self.bookkeeping.files_metadata(list(needing)).found}
        replicas = self.bookkeeping.replicas_of([r.file_id for r in records.values()])
        usage: dict[str, float] = {}
        stamp = now()
        for lfn, requests in needing.items():
            record = records.get(lfn)
            source = None
            if record is not None:
                source = self._source(replicas.get(record.file_id, ()), present.get(lfn, {}))
            if record is None or source is None:
                error = (
                    "no longer in the bookkeeping"
                    if record is None
                    else "no readable source: no available disk, recall or tape copy"
                )
                report.failed += Q.fail(self.engine, lfn, [w.request_id for w in requests], error)
                continue
            area = self._target(requests, usage)
            # what this pass queues there counts as used: a pass spreads its copies
            usage[area] = usage.get(area, 0.0) + record.size / self._capacity.get(area, 2**40)
            row = {
                "lfn": lfn,
                "area": area,
                "source_se": source.se,
                "source_path": source.path,
                "cartridge": source.cartridge,
                "position": source.position,
                "size": expected_of(self.bookkeeping, record)[0],  # the real bytes
                "adler32": record.checksum,
                "queued": stamp,
            }
            if Q.queue_copy(self.engine, row):
                report.queued += 1

    def _source(self, replicas: Sequence[Replica], present: dict[str, str]) -> Source | None:
        usable = [r for r in replicas if r.status == "available" and r.se and r.path]
        for replica in usable:
            if replica.storage_class == "disk":
                return Source(replica.se, replica.path)
        for area, path in sorted(present.items()):
            return Source(area, path)
        for replica in usable:
            if replica.storage_class == "tape":
                try:
                    cartridge, position = tape_location(self.elements(replica.se), replica.path)
                except BookkeepingError:
                    continue  # the tape copy is lost or its library unknown
                return Source(replica.se, replica.path, cartridge, position)
        return None

    def _target(self, requests: Sequence[Q.Waiting], planned: dict[str, float]) -> str:
        """The area most requests accept; among those, the least used."""
        votes: dict[str, int] = defaultdict(int)
        for w in requests:
            for area in w.areas:
                votes[area] += 1
        best = max(votes.values())
        return min((a for a, n in votes.items() if n == best), key=lambda a: self._used(a, planned))

    def _used(self, area: str, planned: dict[str, float]) -> tuple[float, str]:
        """(fraction used, name): a pass reads each area's usage once (a walk of a posix
        area) and adds what it planned there since."""
        if area not in self._usage:
            try:
                usage = self.elements(area).usage()
                self._capacity[area] = usage.capacity or 2**40
                self._usage[area] = usage.used / self._capacity[area]
            except BookkeepingError:
                self._usage[area] = float("inf")
        return (self._usage[area] + planned.get(area, 0.0), area)

    # --- copying ------------------------------------------------------------------------

    def copy(self, report: PassReport) -> None:
        stale = self.config.stale_after_seconds
        for row in Q.claim_disk_copies(self.engine, self.me, stale):
            self._copy_one(row, report)
        age = self.config.recall_tape_age_seconds
        rows = Q.claim_due_cartridges(self.engine, self.me, stale, age, self.drive_limit)
        by_cartridge: dict[tuple[str, str], list[Row]] = defaultdict(list)
        for row in rows:
            by_cartridge[(row.source_se, row.cartridge)].append(row)
        if by_cartridge:
            with ThreadPoolExecutor(max_workers=len(by_cartridge)) as pool:
                groups = list(by_cartridge.values())
                list(pool.map(lambda group: self._read_cartridge(group, report), groups))

    def _read_cartridge(self, rows: Sequence[Row], report: PassReport) -> None:
        """One cartridge's recalls: read in position order (one mount), each file then put
        into its area from the local spool. Recalls of the same cartridge queued meanwhile
        are claimed and read before the drive is given back."""
        source_se, cartridge = rows[0].source_se, rows[0].cartridge
        tape = self.elements(source_se)
        pending = list(rows)
        while pending:
            ordered = sorted(pending, key=lambda row: (row.position, row.lfn))
            start = 0
            while start < len(ordered):
                piece: list[Row] = []
                size = 0
                while start < len(ordered) and (
                    not piece or size + ordered[start].size <= SPOOL_BYTES
                ):
                    piece.append(ordered[start])
                    size += ordered[start].size
                    start += 1
                self._read_piece(tape, piece, report)
            stale = self.config.stale_after_seconds
            pending = Q.claim_cartridge(self.engine, self.me, source_se, cartridge, stale)

    def _read_piece(self, tape: StorageElement, piece: list[Row], report: PassReport) -> None:
        with tempfile.TemporaryDirectory(prefix="bk-recall-") as folder:
            local = {row.copy_id: Path(folder) / str(row.copy_id) for row in piece}
            failed = read_batch(tape, [(row.source_path, local[row.copy_id]) for row in piece])
            for row in piece:
                problem = failed.get(row.source_path)
                if isinstance(problem, StorageUnavailable):  # no drive now: later
                    log.warning("tape read of %s waits: %s", row.lfn, problem)
                    Q.unclaim(self.engine, self.me, row.copy_id)
                elif problem is not None:
                    self._failed(row, f"reading {row.source_se}: {problem}", report)
                else:
                    self._copy_one(row, report, local[row.copy_id])

    def _copy_one(self, row: Row, report: PassReport, local: Path | None = None) -> None:
        """Copy one file into its area (from ``local``, a spooled tape read, when given)."""
        path = row.lfn
        try:
            destination = self.elements(row.area)
            record = self.elements.registry.get(row.area)
            if not _in_place(destination, path, row.adler32):
                evicted = A.make_room(
                    self.engine,
                    row.area,
                    destination,
                    row.size,
                    watermark=record.watermark,
                    forget=self._forget,
                )
                report.evicted += len(evicted)
                expected = {"expected_size": row.size, "expected_adler32": row.adler32}
                if local is not None:
                    destination.put(local, path, overwrite=True, **expected)
                else:
                    with self.elements(row.source_se).open_read(row.source_path) as stream:
                        destination.put(stream, path, overwrite=True, **expected)
            with self._writer_turn:
                self.writer.add_replicas(
                    [row.lfn],
                    ReplicaSpec(
                        record.site or row.area,
                        "recall",
                        row.area,
                        "available",
                        f"{record.url.rstrip('/')}{path}",
                        row.area,
                        path,
                    ),
                )
        except (StorageFull, StorageUnavailable, DatabaseUnavailable, SchemaNotInitialised) as exc:
            # Room, a drive or the database may come back: the copy waits for a later pass
            # (the catalogue answers a directory another process was creating when it was
            # killed as a missing table until its schema cache reloads).
            log.warning("copy of %s to %s waits: %s", row.lfn, row.area, exc)
            Q.unclaim(self.engine, self.me, row.copy_id)
            return
        except BookkeepingError as exc:
            self._failed(row, f"copy from {row.source_se}: {exc}", report)
            return
        report.copied += 1
        self._finish(row, path)

    def _failed(self, row: Row, error: str, report: PassReport) -> None:
        log.warning("copy of %s to %s failed: %s", row.lfn, row.area, error)
        waiting = Q.waiting_for(self.engine, row.lfn)
        report.failed += Q.fail(self.engine, row.lfn, [w.request_id for w in waiting], error)
        Q.drop(self.engine, row.copy_id)

    def _finish(self, row: Row, path: str) -> None:
        Q.record_area_copy(self.engine, row, path)
        accepting = [w for w in Q.waiting_for(self.engine, row.lfn) if row.area in w.areas]
        if accepting:
            Q.answer(self.engine, row.lfn, row.area, path, accepting)

    def _forget(self, area: str, lfn: str) -> None:
        record = self.elements.registry.get(area)
        try:
            with self._writer_turn:
                self.writer.remove_replicas([lfn], ReplicaKey(record.site or area, "recall", area))
        except UnknownReplica:
            pass  # never registered (killed before) or forgotten already


def _in_place(element: StorageElement, path: str, adler32: str) -> bool:
    if not element.exists(path):
        return False
    return element.stat(path).adler32 == adler32
