"""The data-handling daemons' state, in the database (static schema, Alembic revision
``0008``): recall requests and their files, copies in flight, copies present in recall
areas, pins with owner and lease, and the archive queue.

Work rows are *claimed*: a daemon writes its instance name and the time into
``claimed_by``/``claimed_at`` inside a transaction that locked the rows
(``FOR UPDATE SKIP LOCKED`` on PostgreSQL and MariaDB, ``BEGIN IMMEDIATE`` on SQLite), so
two daemons never take the same row; a claim whose daemon stopped renewing it (killed) is
taken over after ``stale_after`` seconds, and a daemon restarted under its own name takes
its rows back at once.

Names are the storage elements' registry names (``area``, ``pool``, ``source_se``), LFNs
the bookkeeping's: these tables reach into no other package's tables.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    UniqueConstraint,
)
from sqlalchemy.dialects import mysql

from bookkeeping.metadata import metadata

# Microseconds on every back-end (MariaDB's plain DATETIME keeps whole seconds): leases and
# least-recent use are compared at that grain.
Stamp = DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")

LFN = 255
NAME = 64
PATH = 512
ERROR = 512

# One recall request: a requester, the recall areas it accepts (comma separated, in its
# order), the lease each pin gets.
recall_requests = Table(
    "dh_recall_requests",
    metadata,
    Column("request_id", Integer, primary_key=True, autoincrement=True),
    Column("owner", String(NAME), nullable=False),
    Column("areas", String(PATH), nullable=False),
    Column("lease_seconds", Integer, nullable=False),
    Column("created", Stamp, nullable=False),
    Column("finished", Stamp, nullable=True),
)

# The files of a request: waiting, then ready (in ``area`` at ``path``, pinned) or failed.
requested_files = Table(
    "dh_requested_files",
    metadata,
    Column(
        "request_id",
        Integer,
        ForeignKey("dh_recall_requests.request_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("lfn", String(LFN), primary_key=True),
    Column("state", String(8), nullable=False),  # waiting | ready | failed
    Column("area", String(NAME), nullable=True),
    Column("path", String(PATH), nullable=True),
    Column("error", String(ERROR), nullable=True),
    Index(None, "lfn", "state"),
)

# A copy in flight to a recall area: one per file whatever the number of requests waiting
# for it (a request that accepts other areas only waits, then gets a copy from this one).
# The source is chosen when it is queued; tape copies carry their cartridge and position so
# a drive reads them in order.
copies = Table(
    "dh_copies",
    metadata,
    Column("copy_id", Integer, primary_key=True, autoincrement=True),
    Column("lfn", String(LFN), nullable=False),
    Column("area", String(NAME), nullable=False),
    Column("source_se", String(NAME), nullable=False),
    Column("source_path", String(PATH), nullable=False),
    Column("cartridge", String(NAME), nullable=True),
    Column("position", BigInteger, nullable=True),
    Column("size", BigInteger, nullable=False),
    Column("adler32", String(8), nullable=False),
    Column("queued", Stamp, nullable=False),
    Column("claimed_by", String(NAME), nullable=True),
    Column("claimed_at", Stamp, nullable=True),
    UniqueConstraint("lfn"),
    Index(None, "cartridge", "position"),
)

# What each recall area holds (registered after the bytes are in place, removed before they
# are deleted), with the last use that LRU eviction orders by.
area_files = Table(
    "dh_area_files",
    metadata,
    Column("area", String(NAME), primary_key=True),
    Column("lfn", String(LFN), primary_key=True),
    Column("path", String(PATH), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("created", Stamp, nullable=False),
    Column("last_used", Stamp, nullable=False),
    Index(None, "area", "last_used"),
    Index(None, "lfn"),
)

# A pin keeps a recalled copy from eviction until it is released or its lease expires.
pins = Table(
    "dh_pins",
    metadata,
    Column("pin_id", Integer, primary_key=True, autoincrement=True),
    Column("area", String(NAME), nullable=False),
    Column("lfn", String(LFN), nullable=False),
    Column("owner", String(NAME), nullable=False),
    Column("request_id", Integer, nullable=True),
    Column("expires", Stamp, nullable=False),
    Index(None, "area", "lfn"),
    Index(None, "expires"),
    Index(None, "request_id"),
)

# Closed files waiting to be written to a tape pool: flushed per pool when its bytes, files
# or oldest age pass the thresholds.
archive_queue = Table(
    "dh_archive_queue",
    metadata,
    Column("lfn", String(LFN), primary_key=True),
    Column("pool", String(NAME), nullable=False),
    Column("source_se", String(NAME), nullable=False),
    Column("source_path", String(PATH), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("adler32", String(8), nullable=False),
    Column("queued", Stamp, nullable=False),
    Column("claimed_by", String(NAME), nullable=True),
    Column("claimed_at", Stamp, nullable=True),
    Index(None, "pool", "queued"),
)

# Archived files whose disk copy may go when their pool passes its watermark (oldest
# first): the disk copy is deleted only after the tape copy was verified and recorded.
deletable = Table(
    "dh_deletable",
    metadata,
    Column("lfn", String(LFN), primary_key=True),
    Column("source_se", String(NAME), nullable=False),
    Column("source_path", String(PATH), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("archived", Stamp, nullable=False),
    Index(None, "source_se", "archived"),
)
