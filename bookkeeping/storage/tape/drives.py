"""Drives of the emulated library: taking one for a cartridge, mounting, seeking, giving it back.

A drive is taken in one ``BEGIN IMMEDIATE`` transaction of the library's database, so two
processes never take the same drive nor mount one cartridge twice. A cartridge already in a
free drive is used there (no mount); otherwise a free drive is taken — an empty one first,
else the one idle longest, whose cartridge is unmounted. A request finding every drive
busy (or its cartridge in use) waits, polling the database, up to the config's ``wait``.
A drive held by a process that died is free again.

Latencies are slept while the drive is held and outside any transaction: mount and unmount
latency, seek time proportional to the distance the head travels, transfer time at the
drive's throughput.
"""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from bookkeeping.storage.errors import StorageUnavailable
from bookkeeping.storage.tape.config import TapeConfig
from bookkeeping.storage.tape.state import cartridges, drives, owner_alive

POLL_FIRST = 0.002
POLL_MOST = 0.05


def immediate(engine: Engine) -> sa.engine.Connection:
    return engine.connect().execution_options(bk_sqlite_begin="IMMEDIATE")


@dataclass
class Drive:
    """A drive taken for one cartridge; the counters are written back by ``release``."""

    engine: Engine
    config: TapeConfig
    id: int
    cartridge: str
    owner: str
    head: int
    seeks: int = 0
    bytes_read: int = 0
    bytes_written: int = 0
    _released: bool = field(default=False, repr=False)

    def seek(self, offset: int) -> None:
        """Move the head to ``offset`` (a seek when it moves)."""
        distance = offset - self.head
        if distance:
            self.seeks += 1
            _pause(self.config.seek_time(distance))
            self.head = offset

    def transferred(self, size: int, started: float, *, written: bool) -> None:
        """Account a transfer of ``size`` bytes begun at ``started`` (monotonic), waiting
        out the rest of the time the drive's throughput gives it."""
        _pause(self.config.transfer_time(size) - (time.monotonic() - started))
        self.head += size
        if written:
            self.bytes_written += size
        else:
            self.bytes_read += size

    def flush(self, connection: Connection) -> None:
        """Write the counters gathered so far (in the caller's transaction)."""
        connection.execute(
            cartridges.update()
            .where(cartridges.c.id == self.cartridge)
            .values(
                seeks=cartridges.c.seeks + self.seeks,
                bytes_read=cartridges.c.bytes_read + self.bytes_read,
                bytes_written=cartridges.c.bytes_written + self.bytes_written,
            )
        )
        connection.execute(drives.update().where(drives.c.id == self.id).values(head=self.head))
        self.seeks = self.bytes_read = self.bytes_written = 0

    def release(self) -> None:
        if self._released:
            return
        self._released = True
        with immediate(self.engine) as connection, connection.begin():
            self.flush(connection)
            connection.execute(
                drives.update()
                .where(drives.c.id == self.id, drives.c.owner == self.owner)
                .values(owner=None, last_used=time.time())
            )


def _pause(seconds: float) -> None:
    if seconds > 0:
        time.sleep(seconds)


def new_owner() -> str:
    return f"{os.getpid()}:{secrets.token_hex(6)}"


def acquire(engine: Engine, config: TapeConfig, cartridge: str, label: Callable[[], str]) -> Drive:
    """A drive with ``cartridge`` mounted, waiting for one up to ``config.wait`` seconds;
    ``StorageUnavailable`` (naming ``label()``) after that."""
    owner = new_owner()
    deadline = time.monotonic() + config.wait
    pause = POLL_FIRST
    while True:
        taken = _try_take(engine, config, cartridge, owner)
        if taken is not None:
            drive, unmounted, mounted = taken
            _pause((config.unmount if unmounted else 0.0) + (config.mount if mounted else 0.0))
            return drive
        if time.monotonic() >= deadline:
            raise StorageUnavailable(
                f"{label()}: no drive free for cartridge {cartridge} within {config.wait:g} s "
                f"({config.drives} drives)"
            )
        time.sleep(pause)  # polls the shared database: the holder may be another process
        pause = min(pause * 2, POLL_MOST)


def _try_take(
    engine: Engine, config: TapeConfig, cartridge: str, owner: str
) -> tuple[Drive, bool, bool] | None:
    """(drive, whether a cartridge was unmounted, whether one was mounted), or None."""
    with immediate(engine) as connection, connection.begin():
        rows = connection.execute(
            sa.select(drives).where(drives.c.id < config.drives).order_by(drives.c.id)
        ).all()
        free = [row for row in rows if not owner_alive(row.owner)]
        holding = [row for row in rows if row.cartridge == cartridge]
        if holding:
            row = holding[0]
            if owner_alive(row.owner):
                return None  # the cartridge is in use
            connection.execute(drives.update().where(drives.c.id == row.id).values(owner=owner))
            return Drive(engine, config, row.id, cartridge, owner, row.head), False, False
        if not free:
            # Every drive busy; a cartridge mounted in a drive beyond the configured ones
            # (fewer drives than before) is unmounted there first.
            return None
        row = min(free, key=lambda r: (r.cartridge is not None, r.last_used, r.id))
        connection.execute(
            drives.update().where(drives.c.cartridge == cartridge).values(cartridge=None)
        )
        connection.execute(
            drives.update()
            .where(drives.c.id == row.id)
            .values(owner=owner, cartridge=cartridge, head=0, mounts=drives.c.mounts + 1)
        )
        connection.execute(
            cartridges.update()
            .where(cartridges.c.id == cartridge)
            .values(mounts=cartridges.c.mounts + 1)
        )
        drive = Drive(engine, config, row.id, cartridge, owner, 0)
        return drive, row.cartridge is not None, True
