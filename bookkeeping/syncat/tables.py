"""Syncat's tables (static schema, ``migrations/versions/0008_syncat.py``). Only this package
reads or writes them."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Double,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
)

from bookkeeping.metadata import metadata

# Public keys an endpoint accepts messages from, and the sender name each may sign as.
trusted_keys = Table(
    "syncat_trusted_keys",
    metadata,
    Column("public_key", String(64), primary_key=True),  # base64 of 32 raw bytes
    Column("endpoint", String(255), nullable=False),
    Column("added_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

# One row per file to announce, written in the transaction of the change (bookkeeping/announce.py);
# the relay groups unsent rows by (type, se, requester) into messages of many files.
outbox = Table(
    "syncat_outbox",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("type", String(32), nullable=False),
    Column("se", String(255), nullable=False),
    Column("requester", String(255), nullable=False),
    Column("item", Text, nullable=False),  # the file item, JSON
    Column("created", Double, nullable=False),  # epoch seconds
    Column("message_id", String(64), nullable=True),  # set once the broker confirmed it
    Column("sent", Double, nullable=True, index=True),
)

# Every message an endpoint received: applied or refused, with the reason. The unique
# (endpoint, message_id) refuses replays; malformed messages have no id (NULL).
received = Table(
    "syncat_received",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("endpoint", String(255), nullable=False),
    Column("message_id", String(64), nullable=True),
    Column("type", String(32), nullable=True),
    Column("sender", String(255), nullable=True),
    Column("requester", String(255), nullable=True),
    Column("outcome", String(16), nullable=False),  # "applied" or "refused"
    Column("reason", String(32), nullable=True),
    Column("detail", Text, nullable=True),
    Column("files", Integer, nullable=False, default=0),
    Column("expires", Double, nullable=True),
    Column("received", Double, nullable=False),
    UniqueConstraint("endpoint", "message_id"),
    Index("ix_syncat_received_endpoint_outcome", "endpoint", "outcome"),
)

# Dark data reported by an SE: files on it the catalogue does not know.
quarantine = Table(
    "syncat_quarantine",
    metadata,
    # 64 + 700 characters keep the key inside MariaDB's 3072-byte limit (utf8mb4)
    Column("se", String(64), primary_key=True),
    Column("path", String(700), primary_key=True),
    Column("size", BigInteger, nullable=True),
    Column("adler32", String(8), nullable=True),
    Column("message_id", String(64), nullable=False),
    Column("found", Double, nullable=False),
)

# Files whose copy an SE reported lost or corrupted: to be looked at (and re-replicated).
suspicious = Table(
    "syncat_suspicious",
    metadata,
    Column("se", String(64), primary_key=True),
    Column("lfn", String(700), primary_key=True),
    Column("reason", String(16), nullable=False),  # "lost" or "corrupted"
    Column("message_id", String(64), nullable=False),
    Column("reported", Double, nullable=False),
)

# The space an SE last reported.
space = Table(
    "syncat_space",
    metadata,
    Column("se", String(64), primary_key=True),
    Column("used", BigInteger, nullable=False),
    Column("capacity", BigInteger, nullable=True),
    Column("message_id", String(64), nullable=False),
    Column("reported", Double, nullable=False),
)

# The embedded transport (BK_SYNCAT_BROKER unset or "database"): a queue table consumers
# claim rows of with a lease; a row is deleted when its consumer acknowledges it.
queue = Table(
    "syncat_queue",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("queue", String(255), nullable=False),
    Column("body", LargeBinary, nullable=False),
    Column("created", Double, nullable=False),
    Column("leased_until", Double, nullable=True),
    Index("ix_syncat_queue_queue_id", "queue", "id"),
)
