"""``TapeElement``: the emulated tape library as a storage element, with batch operations.

Files are written sequentially onto cartridges of a pool: each file's bytes are a real
file ``cartridges/<cartridge>/<position>`` (written atomically: temporary name, fsync,
rename), recorded in the library's database only once durable. Reading needs a drive with
the cartridge mounted (``drives.acquire``). Names, sizes, checksums and modes live in the
database (a tape library's catalogue), so ``stat``, ``list`` and ``exists`` mount nothing.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, ExitStack, contextmanager
from pathlib import Path
from typing import BinaryIO

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bookkeeping.chunking import chunked
from bookkeeping.storage.checksum import CHUNK_SIZE, Adler32, read_chunks
from bookkeeping.storage.element import FileStat, SpaceUsage, StorageElement
from bookkeeping.storage.errors import (
    StorageExists,
    StorageFileNotFound,
    StorageFull,
)
from bookkeeping.storage.paths import normalise
from bookkeeping.storage.posix import write_atomically
from bookkeeping.storage.tape.config import TapeConfig, parse_tape_url
from bookkeeping.storage.tape.drives import Drive, acquire, immediate
from bookkeeping.storage.tape.state import (
    CartridgeStatus,
    DriveStatus,
    TapeFile,
    TapeStatus,
    cartridge_folder,
    cartridges,
    drives,
    open_state,
    owner_alive,
    tape_files,
)
from bookkeeping.storage.tape.writing import Appender

Source = Path | BinaryIO


class TapeElement(StorageElement):
    """The library over ``config.root``; ``pool`` is where plain ``put`` writes."""

    def __init__(self, name: str, url: str, config: TapeConfig) -> None:
        super().__init__(name, url)
        self.config = config
        self.pool = config.pools[0]
        self.engine = open_state(config)

    @classmethod
    def from_url(cls, name: str, url: str) -> TapeElement:
        return cls(name, url, parse_tape_url(name, url))

    def close(self) -> None:
        self.engine.dispose()

    def _label(self, path: str) -> str:
        return f"{path} on storage element {self.name}"

    def _bytes(self, cartridge: str, position: int) -> Path:
        return cartridge_folder(self.config.root, cartridge) / f"{position:08d}"

    # --- looking up -------------------------------------------------------------------
    def _row(self, connection: Connection, clean: str) -> sa.Row | None:
        return connection.execute(sa.select(tape_files).where(tape_files.c.path == clean)).first()

    def locate(self, path: str) -> TapeFile:
        """Where a file lies: cartridge, position, offset, size, adler32."""
        clean = normalise(path, self.name)
        with self.engine.connect() as connection:
            row = self._row(connection, clean)
        if row is None:
            raise self._missing(clean)
        return _tape_file(row)

    def _missing(self, clean: str) -> StorageFileNotFound:
        return StorageFileNotFound(f"no file {self._label(clean)}", se=self.name, path=clean)

    # --- writing ----------------------------------------------------------------------
    def put(
        self,
        source: Path | BinaryIO,
        path: str,
        *,
        expected_size: int | None = None,
        expected_adler32: str | None = None,
        overwrite: bool = False,
    ) -> FileStat:
        written = self._write_many(
            [(source, path)], self.pool, overwrite, expected_size, expected_adler32
        )[0]
        return self.stat(written.path)

    def write_batch(
        self,
        items: Sequence[tuple[Source, str]],
        *,
        pool: str | None = None,
        overwrite: bool = False,
    ) -> list[TapeFile]:
        """Write many files in as few mounts as possible (one per cartridge they fill),
        sequentially; per file its place and adler32, in input order. A failing file stops
        the batch: the files before it are written and recorded, none after it."""
        return self._write_many(list(items), pool or self.pool, overwrite, None, None)

    def _write_many(
        self,
        items: list[tuple[Source, str]],
        pool: str,
        overwrite: bool,
        expected_size: int | None,
        expected_adler32: str | None,
    ) -> list[TapeFile]:
        if pool not in self.config.pools:
            raise StorageFull(f"storage element {self.name} has no tape pool {pool!r}")
        with ExitStack() as stack:
            spool = None
            pending: list[tuple[Path, str, os.stat_result]] = []
            for source, path in items:
                clean = normalise(path, self.name)
                if not isinstance(source, Path):
                    if spool is None:
                        spool = Path(
                            stack.enter_context(
                                tempfile.TemporaryDirectory(dir=self.config.root, prefix=".spool-")
                            )
                        )
                    local = spool / str(len(pending))
                    with open(local, "wb") as out:
                        shutil.copyfileobj(source, out, CHUNK_SIZE)
                    source = local
                try:
                    pending.append((source, clean, source.stat()))
                except FileNotFoundError:
                    raise StorageFileNotFound(
                        f"no local file {source} to put as {self._label(clean)}",
                        path=str(source),
                    ) from None
            if not overwrite:
                self._refuse_existing([clean for _, clean, _ in pending])
            seen: set[str] = set()
            for _, clean, _ in pending:
                if clean in seen:
                    raise StorageExists(
                        f"{self._label(clean)} is given twice in one batch", se=self.name
                    )
                seen.add(clean)
            written: list[TapeFile] = []
            while len(written) < len(pending):
                rest = pending[len(written) :]
                drive = self._drive_for_writing(pool, rest[0][2].st_size, rest[0][1])
                appender = Appender(self, drive)
                try:
                    for local, clean, before in rest:
                        if not appender.fits(before.st_size):
                            break
                        written.append(
                            appender.write(local, clean, before, expected_size, expected_adler32)
                        )
                finally:
                    try:
                        appender.commit()  # what is durable is recorded, even after an error
                    finally:
                        drive.release()
            return written

    def _refuse_existing(self, paths: list[str]) -> None:
        with self.engine.connect() as connection:
            for chunk in chunked(paths, 500):
                found = connection.execute(
                    sa.select(tape_files.c.path).where(tape_files.c.path.in_(chunk))
                ).first()
                if found is not None:
                    raise StorageExists(
                        f"{self._label(found.path)} exists already", se=self.name, path=found.path
                    )

    def _fits(self, drive: Drive, size: int) -> bool:
        with self.engine.connect() as connection:
            row = connection.execute(
                sa.select(cartridges.c.capacity, cartridges.c.used).where(
                    cartridges.c.id == drive.cartridge
                )
            ).one()
        return row.used + size <= row.capacity

    def _drive_for_writing(self, pool: str, size: int, clean: str) -> Drive:
        """A drive holding a cartridge of ``pool`` with room for ``size`` bytes: the
        fullest one with room that no one is using (append to what is being filled)."""
        tried: set[str] = set()
        while True:
            with self.engine.connect() as connection:
                busy = {
                    row.cartridge
                    for row in connection.execute(sa.select(drives.c.cartridge, drives.c.owner))
                    if owner_alive(row.owner)
                }
                candidates = connection.execute(
                    sa.select(cartridges.c.id)
                    .where(
                        cartridges.c.pool == pool,
                        cartridges.c.capacity - cartridges.c.used >= size,
                    )
                    .order_by(cartridges.c.used.desc(), cartridges.c.id)
                ).all()
            names = [row.id for row in candidates if row.id not in tried]
            if not names:
                raise StorageFull(
                    f"storage element {self.name} is full: no cartridge of pool {pool} has "
                    f"{size} bytes free for {clean}",
                    se=self.name,
                    path=clean,
                )
            chosen = next((name for name in names if name not in busy), names[0])
            drive = acquire(self.engine, self.config, chosen, lambda: self._label(clean))
            if self._fits(drive, size):
                return drive
            drive.release()  # another process filled it meanwhile
            tried.add(chosen)

    # --- reading ----------------------------------------------------------------------
    def read_batch(self, requests: Sequence[tuple[str, Path | BinaryIO]]) -> list[TapeFile]:
        """Read many files, ordered by cartridge and position (one mount per cartridge,
        the head moving forward); per request the file read (adler32 of the bytes read),
        in input order. Local destinations are written atomically."""
        located = [
            (index, self.locate(path), target) for index, (path, target) in enumerate(requests)
        ]
        located.sort(key=lambda item: (item[1].cartridge, item[1].offset))
        results: dict[int, TapeFile] = {}
        at = 0
        while at < len(located):
            cartridge = located[at][1].cartridge
            drive = acquire(
                self.engine, self.config, cartridge, lambda: f"storage element {self.name}"
            )
            try:
                while at < len(located) and located[at][1].cartridge == cartridge:
                    index, where, target = located[at]
                    results[index] = self._read_one(drive, where, target)
                    at += 1
            finally:
                drive.release()
        return [results[index] for index in range(len(located))]

    def _read_one(self, drive: Drive, where: TapeFile, target: Path | BinaryIO) -> TapeFile:
        drive.seek(where.offset)
        started = time.monotonic()
        source = self._bytes(where.cartridge, where.position)
        try:
            stream = open(source, "rb")  # noqa: SIM115 - closed just below
        except FileNotFoundError:
            raise StorageFileNotFound(
                f"{self._label(where.path)}: its bytes are missing from cartridge "
                f"{where.cartridge}",
                se=self.name,
                path=where.path,
            ) from None
        with stream:
            if isinstance(target, Path):
                size, adler32 = write_atomically(
                    read_chunks(stream), target, overwrite=True, label=str(target)
                )
            else:
                running = Adler32()
                for chunk in read_chunks(stream):
                    running.update(chunk)
                    target.write(chunk)
                size, adler32 = running.size, running.hexdigest()
        drive.transferred(size, started, written=False)
        return TapeFile(where.path, where.cartridge, where.position, where.offset, size, adler32)

    def get(self, path: str, destination: Path | BinaryIO) -> FileStat:
        read = self.read_batch([(path, destination)])[0]
        return FileStat(read.path, read.size, self.stat(read.path).mtime, read.adler32)

    def open_read(self, path: str) -> AbstractContextManager[BinaryIO]:
        return self._open(self.locate(path))

    @contextmanager
    def _open(self, where: TapeFile) -> Iterator[BinaryIO]:
        drive = acquire(self.engine, self.config, where.cartridge, lambda: self._label(where.path))
        try:
            drive.seek(where.offset)
            started = time.monotonic()
            with open(self._bytes(where.cartridge, where.position), "rb") as stream:
                yield stream
            drive.transferred(where.size, started, written=False)
        finally:
            drive.release()

    # --- names ------------------------------------------------------------------------
    def stat(self, path: str) -> FileStat:
        clean = normalise(path, self.name)
        with self.engine.connect() as connection:
            row = self._row(connection, clean)
        if row is None:
            raise self._missing(clean)
        return FileStat(clean, row.size, row.mtime, row.adler32)

    def exists(self, path: str) -> bool:
        clean = normalise(path, self.name)
        with self.engine.connect() as connection:
            return self._row(connection, clean) is not None

    def list(self, path: str = "/") -> Iterator[FileStat]:
        clean = normalise(path, self.name, allow_root=True)
        f = tape_files.c
        if clean == "/":
            where: sa.ColumnElement[bool] = sa.true()
        else:  # the path itself or below it: "/" sorts right before "0"
            where = sa.or_(f.path == clean, sa.and_(f.path >= clean + "/", f.path < clean + "0"))
        query = sa.select(f.path, f.size, f.mtime, f.adler32).where(where).order_by(f.path)
        with self.engine.connect() as connection:
            rows = connection.execute(query).all()  # a tape catalogue is small per element
        for row in rows:
            yield FileStat(row.path, row.size, row.mtime, row.adler32)

    def delete(self, path: str) -> None:
        """Forget the file; its bytes stay counted on the cartridge (tape is append-only)."""
        clean = normalise(path, self.name)
        with immediate(self.engine) as connection, connection.begin():
            row = self._row(connection, clean)
            if row is None:
                raise self._missing(clean)
            connection.execute(tape_files.delete().where(tape_files.c.path == clean))
        self._bytes(row.cartridge, row.position).unlink(missing_ok=True)

    def rename(self, source: str, destination: str) -> None:
        old = normalise(source, self.name)
        new = normalise(destination, self.name)
        with immediate(self.engine) as connection, connection.begin():
            if self._row(connection, old) is None:
                raise self._missing(old)
            if self._row(connection, new) is not None:
                raise StorageExists(f"{self._label(new)} exists already", se=self.name, path=new)
            connection.execute(tape_files.update().where(tape_files.c.path == old).values(path=new))

    def chmod(self, path: str, mode: int) -> None:
        clean = normalise(path, self.name)
        with immediate(self.engine) as connection, connection.begin():
            changed = connection.execute(
                tape_files.update().where(tape_files.c.path == clean).values(mode=mode)
            ).rowcount
        if not changed:
            raise self._missing(clean)

    def usage(self) -> SpaceUsage:
        with self.engine.connect() as connection:
            used = connection.execute(sa.select(sa.func.sum(tape_files.c.size))).scalar()
            capacity = connection.execute(sa.select(sa.func.sum(cartridges.c.capacity))).scalar()
        return SpaceUsage(int(used or 0), int(capacity or 0))

    def status(self) -> TapeStatus:
        """Drives and every cartridge with its counters (mounts, seeks, bytes read/written)."""
        with self.engine.connect() as connection:
            counts: dict[str, int] = dict(
                connection.execute(
                    sa.select(tape_files.c.cartridge, sa.func.count()).group_by(
                        tape_files.c.cartridge
                    )
                ).all()
            )
            drive_rows = connection.execute(
                sa.select(drives).where(drives.c.id < self.config.drives).order_by(drives.c.id)
            ).all()
            cartridge_rows = connection.execute(
                sa.select(cartridges).order_by(cartridges.c.id)
            ).all()
        return TapeStatus(
            tuple(
                DriveStatus(row.id, row.cartridge, owner_alive(row.owner), row.mounts)
                for row in drive_rows
            ),
            tuple(
                CartridgeStatus(
                    row.id,
                    row.pool,
                    row.capacity,
                    row.used,
                    int(counts.get(row.id, 0)),
                    row.mounts,
                    row.seeks,
                    row.bytes_read,
                    row.bytes_written,
                )
                for row in cartridge_rows
            ),
        )


def _tape_file(row: sa.Row) -> TapeFile:
    return TapeFile(row.path, row.cartridge, row.position, row.offset, row.size, row.adler32)
