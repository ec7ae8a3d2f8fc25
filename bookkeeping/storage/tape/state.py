"""The tape library's state, shared by every process using it: a SQLite database
(``library.db``) in the library's folder.

Every process (the archiver, the recall daemon, ``bk put``/``bk get``) opens the same file;
writes take SQLite's write lock up front (``BEGIN IMMEDIATE``), so allocating a drive or a
position on a cartridge is one serialised decision. ``synchronous=FULL``: a file's position
is recorded durably once its bytes are.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine

from bookkeeping.engines import create_engine
from bookkeeping.storage.tape.config import TapeConfig

DATABASE = "library.db"

state = sa.MetaData()

cartridges = sa.Table(
    "cartridges",
    state,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("pool", sa.String(32), nullable=False, index=True),
    sa.Column("capacity", sa.BigInteger, nullable=False),
    sa.Column("used", sa.BigInteger, nullable=False, default=0),  # append-only: never shrinks
    sa.Column("next_position", sa.Integer, nullable=False, default=0),
    sa.Column("mounts", sa.Integer, nullable=False, default=0),
    sa.Column("seeks", sa.Integer, nullable=False, default=0),
    sa.Column("bytes_read", sa.BigInteger, nullable=False, default=0),
    sa.Column("bytes_written", sa.BigInteger, nullable=False, default=0),
)

tape_files = sa.Table(
    "files",
    state,
    sa.Column("path", sa.String(1024), primary_key=True),
    sa.Column("cartridge", sa.String(64), sa.ForeignKey("cartridges.id"), nullable=False),
    sa.Column("position", sa.Integer, nullable=False),  # its index on the cartridge
    sa.Column("offset", sa.BigInteger, nullable=False),  # bytes from the cartridge's start
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("adler32", sa.String(8), nullable=False),
    sa.Column("mtime", sa.Double, nullable=False),
    sa.Column("mode", sa.Integer, nullable=False, default=0o644),
    sa.UniqueConstraint("cartridge", "position"),
)

drives = sa.Table(
    "drives",
    state,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("cartridge", sa.String(64), nullable=True, unique=True),  # mounted, or NULL
    sa.Column("head", sa.BigInteger, nullable=False, default=0),  # offset under the head
    sa.Column("owner", sa.String(64), nullable=True),  # "<pid>:<token>" while in use
    sa.Column("last_used", sa.Double, nullable=False, default=0.0),
    sa.Column("mounts", sa.Integer, nullable=False, default=0),
)


@dataclass(frozen=True)
class TapeFile:
    """A file on tape: where it lies and what it holds."""

    path: str
    cartridge: str
    position: int
    offset: int
    size: int
    adler32: str


@dataclass(frozen=True)
class CartridgeStatus:
    id: str
    pool: str
    capacity: int
    used: int
    files: int
    mounts: int
    seeks: int
    bytes_read: int
    bytes_written: int


@dataclass(frozen=True)
class DriveStatus:
    id: int
    cartridge: str | None
    busy: bool
    mounts: int


@dataclass(frozen=True)
class TapeStatus:
    drives: tuple[DriveStatus, ...]
    cartridges: tuple[CartridgeStatus, ...]

    @property
    def mounts(self) -> int:
        return sum(c.mounts for c in self.cartridges)

    @property
    def seeks(self) -> int:
        return sum(c.seeks for c in self.cartridges)

    @property
    def bytes_read(self) -> int:
        return sum(c.bytes_read for c in self.cartridges)

    @property
    def bytes_written(self) -> int:
        return sum(c.bytes_written for c in self.cartridges)

    def as_dict(self) -> dict[str, Any]:
        return {
            "drives": [vars(d) for d in self.drives],
            "cartridges": [vars(c) for c in self.cartridges],
            "totals": {
                "mounts": self.mounts,
                "seeks": self.seeks,
                "bytes_read": self.bytes_read,
                "bytes_written": self.bytes_written,
            },
        }


def cartridge_id(pool: str, index: int) -> str:
    return f"{pool}-{index:03d}"


def cartridge_folder(root: Path, cartridge: str) -> Path:
    return root / "cartridges" / cartridge


def open_state(config: TapeConfig) -> Engine:
    """The library's database, laid out and holding the drives and cartridges the config
    asks for (more are added when the URL asks for more; none is ever removed)."""
    config.root.mkdir(parents=True, exist_ok=True)
    engine = create_engine(f"sqlite:///{config.root / DATABASE}", pool_size=2)

    @event.listens_for(engine, "connect")
    def _durable(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute("PRAGMA synchronous=FULL")

    state.create_all(engine)
    with engine.connect() as connection:
        connection = connection.execution_options(bk_sqlite_begin="IMMEDIATE")
        with connection.begin():
            have_drives = {row[0] for row in connection.execute(sa.select(drives.c.id))}
            wanted = [{"id": i} for i in range(config.drives) if i not in have_drives]
            if wanted:
                connection.execute(drives.insert(), wanted)
            have = {row[0] for row in connection.execute(sa.select(cartridges.c.id))}
            new = [
                {"id": cartridge_id(pool, i), "pool": pool, "capacity": config.capacity}
                for pool in config.pools
                for i in range(config.cartridges)
                if cartridge_id(pool, i) not in have
            ]
            if new:
                connection.execute(cartridges.insert(), new)
    for pool in config.pools:
        for i in range(config.cartridges):
            cartridge_folder(config.root, cartridge_id(pool, i)).mkdir(parents=True, exist_ok=True)
    return engine


def owner_alive(owner: str | None) -> bool:
    """Whether the process holding a drive still runs (a killed one's drive is free)."""
    if not owner:
        return False
    try:
        pid = int(owner.split(":", 1)[0])
        os.kill(pid, 0)
    except (ValueError, ProcessLookupError):
        return False
    except PermissionError:
        return True
    return True
