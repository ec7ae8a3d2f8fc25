"""Appending files to a mounted cartridge (``TapeElement.write_batch`` and ``put``)."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa

from bookkeeping.storage.checksum import read_chunks
from bookkeeping.storage.errors import ChecksumMismatch, SourceChanged
from bookkeeping.storage.posix import write_atomically
from bookkeeping.storage.tape.drives import Drive, immediate
from bookkeeping.storage.tape.state import TapeFile, cartridges, tape_files

if TYPE_CHECKING:
    from bookkeeping.storage.tape.library import TapeElement

COMMIT_EVERY = 32  # files whose rows one transaction records


class Appender:
    """Files appended to the cartridge in a drive this process holds (so no one else
    writes it): its fill and next position are kept here, and the files' rows are written
    every ``COMMIT_EVERY`` files and when done — always after their bytes are durable. A
    kill before a commit leaves bytes at positions never recorded, which the next writer
    of the cartridge overwrites."""

    def __init__(self, library: TapeElement, drive: Drive) -> None:
        self.library = library
        self.drive = drive
        with library.engine.connect() as connection:
            row = connection.execute(
                sa.select(
                    cartridges.c.capacity, cartridges.c.used, cartridges.c.next_position
                ).where(cartridges.c.id == drive.cartridge)
            ).one()
        self.capacity, self.used, self.position = row.capacity, row.used, row.next_position
        self.rows: list[dict[str, object]] = []

    def fits(self, size: int) -> bool:
        return self.used + size <= self.capacity

    def write(
        self,
        local: Path,
        clean: str,
        before: os.stat_result,
        expected_size: int | None,
        expected_adler32: str | None,
    ) -> TapeFile:
        library, drive = self.library, self.drive
        drive.seek(self.used)  # writes append at the end of the data
        label = library._label(clean)

        def check(size: int, adler32: str) -> None:
            after = local.stat()
            if (after.st_size, after.st_mtime_ns) != (before.st_size, before.st_mtime_ns) or (
                size != after.st_size
            ):
                raise SourceChanged(
                    f"local file {local} changed while it was copied to {label}; nothing "
                    "was stored",
                    se=library.name,
                    path=clean,
                )
            if (expected_size is not None and size != expected_size) or (
                expected_adler32 is not None and adler32 != expected_adler32.lower()
            ):
                raise ChecksumMismatch(
                    f"{label}: the bytes written have size {size} and adler32 {adler32}, not "
                    f"the expected size {expected_size} and adler32 {expected_adler32}; "
                    "nothing was stored",
                    se=library.name,
                    path=clean,
                )

        started = time.monotonic()
        target = library._bytes(drive.cartridge, self.position)
        with open(local, "rb") as stream:
            # overwrite: bytes a killed writer left at this position were never recorded.
            size, adler32 = write_atomically(
                read_chunks(stream), target, overwrite=True, label=label, check=check
            )
        drive.transferred(size, started, written=True)
        placed = TapeFile(clean, drive.cartridge, self.position, self.used, size, adler32)
        self.rows.append(
            {
                "path": clean,
                "cartridge": drive.cartridge,
                "position": self.position,
                "offset": self.used,
                "size": size,
                "adler32": adler32,
                "mtime": time.time(),
            }
        )
        self.used += size
        self.position += 1
        if len(self.rows) >= COMMIT_EVERY:
            self.commit()
        return placed

    def commit(self) -> None:
        if not self.rows:
            return
        with immediate(self.library.engine) as connection, connection.begin():
            paths = [row["path"] for row in self.rows]
            connection.execute(tape_files.delete().where(tape_files.c.path.in_(paths)))
            connection.execute(tape_files.insert(), self.rows)
            connection.execute(
                cartridges.update()
                .where(cartridges.c.id == self.drive.cartridge)
                .values(used=self.used, next_position=self.position)
            )
            self.drive.flush(connection)
        self.rows = []
