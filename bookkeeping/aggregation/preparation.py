"""Preparing a delivery: the files copied into the buffer, verified, listed, archived.

The full response is searched again and must have the checksum of the answer the user was
given (otherwise the bookkeeping changed in between and the delivery fails, saying so: a
delivery holds exactly the searched files). Each file is fetched by a ``FileSource`` into
a temporary name, its size and adler32 compared with the bookkeeping's, fsynced and renamed
into place, and only then marked verified; a resumed preparation skips the verified ones.
The manifest (``MANIFEST.tsv``: LFN, size, adler32, verified) and the zip archive (made by
``stream-zip`` from the files on disk, a chunk at a time) are written last, each under a
temporary name; the delivery is ``ready`` only when every planned file is verified.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Protocol

from stream_zip import ZIP_AUTO, stream_zip

from bookkeeping.aggregation.composition import Composed, compose_per_run
from bookkeeping.aggregation.deliveries import Delivery, DeliveryStore, PlannedFile
from bookkeeping.aggregation.errors import PreparationFailed
from bookkeeping.aggregation.filters import parse_canonical
from bookkeeping.aggregation.search import run_search
from bookkeeping.aggregation.sources import Fetched, Recaller
from bookkeeping.errors import BookkeepingError
from bookkeeping.interface import Bookkeeping
from bookkeeping.storage.checksum import CHUNK_SIZE, adler32_of_file, read_chunks

log = logging.getLogger(__name__)

MANIFEST = "MANIFEST.tsv"
ARCHIVE = "delivery.zip"
FILES_DIR = "files"


class FileSource(Protocol):
    def fetch(self, lfn: str, destination: Path) -> Fetched:
        """Copy the file's bytes to ``destination`` (a temporary name the caller renames);
        say where they came from and their size and adler32. ``PreparationFailed`` naming
        the LFN when no copy can be read."""
        ...


def buffer_name(lfn: str) -> str:
    """The file's path inside the delivery's ``files/`` folder: its LFN, relative."""
    parts = [part for part in lfn.split("/") if part not in ("", ".", "..")]
    if not parts:
        raise PreparationFailed(f"LFN {lfn!r} names no file")
    return "/".join(parts)


def _fsync_rename(temporary: Path, final: Path) -> None:
    with open(temporary, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(temporary, final)
    directory = os.open(final.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


class Preparer:
    def __init__(
        self,
        store: DeliveryStore,
        reader: Bookkeeping,
        source: FileSource,
        recaller: Recaller | None = None,
    ) -> None:
        self.store = store
        self.reader = reader
        self.source = source
        self.recaller = recaller

    def run(self, delivery: Delivery, worker: str) -> None:
        """Prepare a claimed delivery to ``ready`` or ``failed``; never raises for a bad
        file (the delivery records why), so a worker goes on with the next one."""
        try:
            self._prepare(delivery, worker)
        except BookkeepingError as exc:
            log.warning("delivery %s failed: %s", delivery.id, exc)
            self.store.finish(delivery.id, worker, "failed", str(exc))
        except OSError as exc:
            log.warning("delivery %s failed: %s", delivery.id, exc)
            self.store.finish(delivery.id, worker, "failed", f"buffer: {exc}")

    def _prepare(self, delivery: Delivery, worker: str) -> None:
        search = parse_canonical(delivery.canonical)
        response = run_search(self.reader, search)
        if response.checksum != delivery.checksum:
            raise PreparationFailed(
                "the bookkeeping changed since the search (its response checksum is now "
                f"{response.checksum}, was {delivery.checksum}); search again"
            )
        planned = [
            PlannedFile(
                position, found.lfn, buffer_name(found.lfn), found.size, found.adler32, False
            )
            for position, found in enumerate(response.files)
        ]
        plan = self.store.plan(delivery.id, planned)
        directory = self.store.directory(delivery)
        files_dir = directory / FILES_DIR  # made with the first file copied
        done = sum(1 for item in plan if item.verified and (files_dir / item.name).is_file())
        try:
            if not self._recall(delivery, worker, plan, files_dir, done):
                return
            if not self._copy_all(delivery, worker, plan, files_dir, done):
                return
        finally:
            if self.recaller is not None:
                self.recaller.release()
        missing = [
            item.lfn
            for item, _ in self.store.manifest(delivery.id)
            if not item.verified or not (files_dir / item.name).is_file()
        ]
        if missing:
            raise PreparationFailed(f"{len(missing)} files missing from the buffer: {missing[0]}")
        composed: list[Composed] = []
        if delivery.composition == "per-run":
            composed = compose_per_run(self.reader, plan, files_dir, directory)
        self._write_manifest(delivery, directory, composed)
        self._write_archive(delivery, directory, composed)
        if composed:  # delivered instead of the originals
            shutil.rmtree(files_dir)
        self.store.finish(delivery.id, worker, "ready")

    def _recall(
        self,
        delivery: Delivery,
        worker: str,
        plan: list[PlannedFile],
        files_dir: Path,
        done: int,
    ) -> bool:
        """Files only on tape recalled to disk first, in one request; False when the
        delivery was taken from this worker meanwhile."""
        tape_only = getattr(self.source, "tape_only", None)
        if self.recaller is None or tape_only is None:
            return True
        wanted = [
            item.lfn
            for item in plan
            if not (item.verified and (files_dir / item.name).is_file()) and tape_only(item.lfn)
        ]
        if not wanted:
            return True
        alive = True

        def keep_alive() -> bool:
            nonlocal alive
            alive = self.store.heartbeat(delivery.id, worker, done)
            return alive

        failed = self.recaller.recall(wanted, keep_alive)
        if not alive:
            return False
        if failed:
            lfn, why = sorted(failed.items())[0]
            raise PreparationFailed(f"{len(failed)} files could not be recalled: {lfn}: {why}")
        return True

    def _copy_all(
        self,
        delivery: Delivery,
        worker: str,
        plan: list[PlannedFile],
        files_dir: Path,
        done: int,
    ) -> bool:
        for item in plan:
            target = files_dir / item.name
            if item.verified and target.is_file():
                continue
            fetched = self._copy(item, target)
            self.store.verified(delivery.id, item.position, fetched.source, fetched.size)
            done += 1
            if not self.store.heartbeat(delivery.id, worker, done):
                log.info("delivery %s was taken over or cancelled; stopping", delivery.id)
                return False
        return True

    def _copy(self, item: PlannedFile, target: Path) -> Fetched:
        """The file into place, its bytes checked here again: what is in the buffer is what
        the bookkeeping records (adler32), whatever the source claimed. The size is the
        real bytes' (a materialised test file is smaller than its nominal ``Size``)."""
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_name(f".{target.name}.part")
        try:
            fetched = self.source.fetch(item.lfn, temporary)
            size, adler32 = adler32_of_file(temporary)
            if (size, adler32) != (fetched.size, item.adler32):
                raise PreparationFailed(
                    f"{item.lfn} from {fetched.source}: {size} bytes, adler32 {adler32}; "
                    f"expected {fetched.size} bytes, adler32 {item.adler32}"
                )
            _fsync_rename(temporary, target)
        finally:
            temporary.unlink(missing_ok=True)
        return fetched

    def _write_manifest(
        self, delivery: Delivery, directory: Path, composed: list[Composed]
    ) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        temporary = directory / f".{MANIFEST}.part"
        with open(temporary, "w", encoding="utf-8") as handle:
            handle.write(f"# query {delivery.query_id} checksum {delivery.checksum}\n")
            handle.write("lfn\tsize\tadler32\tverified\tsource\n")
            for item, source in self.store.manifest(delivery.id):
                handle.write(
                    f"{item.lfn}\t{item.size}\t{item.adler32}\t"
                    f"{'yes' if item.verified else 'no'}\t{source or ''}\n"
                )
            if composed:
                handle.write("# composition per-run: file, size, adler32, then its parts\n")
                for merged in composed:
                    handle.write(f"{merged.name}\t{merged.size}\t{merged.adler32}\n")
                    for part in merged.parts:
                        handle.write(f"\t{part.lfn}\t{part.size}\t{part.adler32}\n")
        _fsync_rename(temporary, directory / MANIFEST)

    def _write_archive(self, delivery: Delivery, directory: Path, composed: list[Composed]) -> None:
        files_dir = directory / FILES_DIR
        plan = [item for item, _ in self.store.manifest(delivery.id)]
        members_of = [(merged.name, directory / merged.name) for merged in composed] or [
            (f"{FILES_DIR}/{item.name}", files_dir / item.name) for item in plan
        ]

        def members() -> Iterator[tuple[str, datetime, int, object, Iterator[bytes]]]:
            manifest = directory / MANIFEST
            yield (
                MANIFEST,
                _mtime(manifest),
                0o444,
                ZIP_AUTO(manifest.stat().st_size),
                _chunks(manifest),
            )
            for name, path in members_of:
                yield (
                    name,
                    _mtime(path),
                    0o444,
                    ZIP_AUTO(path.stat().st_size),
                    _chunks(path),
                )

        temporary = directory / f".{ARCHIVE}.part"
        with open(temporary, "wb") as handle:
            for chunk in stream_zip(members(), chunk_size=CHUNK_SIZE):  # type: ignore[arg-type]
                handle.write(chunk)
        _fsync_rename(temporary, directory / ARCHIVE)


def _mtime(path: Path) -> datetime:
    return datetime.fromtimestamp(int(path.stat().st_mtime))


def _chunks(path: Path) -> Iterator[bytes]:
    with open(path, "rb") as handle:
        yield from read_chunks(handle)
