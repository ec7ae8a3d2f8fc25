"""The aggregation service's tables, in the static schema.

- ``agg_cached_queries`` / ``agg_cached_files``: the embedded response cache (the database
  stand-in for Redis): one row per query id with the totals and checksum of its response,
  and the response's files by position so a page is one range read.
- ``agg_deliveries`` / ``agg_delivery_files``: prepared deliveries, one per (query id,
  composition, requester); the row is the queue entry the workers claim, its files are the
  manifest as it is built (a file is listed ``verified`` only once its bytes are in the
  buffer, checksummed and renamed into place).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
)

from bookkeeping.metadata import metadata
from bookkeeping.warehouse.tables import LFN_LENGTH

QUERY_ID_LENGTH = 32
TOKEN_LENGTH = 64

cached_queries = Table(
    "agg_cached_queries",
    metadata,
    Column("query_id", String(QUERY_ID_LENGTH), primary_key=True),
    Column("canonical", Text, nullable=False),
    Column("total", BigInteger, nullable=False),
    Column("total_bytes", BigInteger, nullable=False),
    Column("total_events", BigInteger, nullable=False),
    Column("checksum", String(32), nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("expires_at", DateTime, nullable=False, index=True),
)

cached_files = Table(
    "agg_cached_files",
    metadata,
    Column(
        "query_id",
        String(QUERY_ID_LENGTH),
        ForeignKey("agg_cached_queries.query_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("position", Integer, primary_key=True, autoincrement=False),
    Column("lfn", String(LFN_LENGTH), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("adler32", String(8), nullable=False),
)

deliveries = Table(
    "agg_deliveries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("query_id", String(QUERY_ID_LENGTH), nullable=False),
    Column("owner", String(64), nullable=False),
    Column("composition", String(16), nullable=False),
    # The capability a delivery's URLs carry: random, never derived from the query id.
    Column("token", String(TOKEN_LENGTH), nullable=False, unique=True),
    Column("canonical", Text, nullable=False),
    Column("checksum", String(32), nullable=False),
    Column("state", String(16), nullable=False),
    Column("done", Integer, nullable=False),
    Column("total", Integer, nullable=False),
    Column("total_bytes", BigInteger, nullable=False),
    Column("reason", Text, nullable=True),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
    Column("last_used_at", DateTime, nullable=False),
    Column("ttl_seconds", Integer, nullable=False),
    # Which worker holds the preparation, and when it last showed it was alive.
    Column("worker", String(64), nullable=True),
    Column("heartbeat_at", DateTime, nullable=True),
    Column("attempts", Integer, nullable=False),
    Index("ix_agg_deliveries_request", "query_id", "composition", "owner", unique=True),
    Index("ix_agg_deliveries_state", "state"),
)

delivery_files = Table(
    "agg_delivery_files",
    metadata,
    Column(
        "delivery_id",
        Integer,
        ForeignKey("agg_deliveries.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("position", Integer, primary_key=True, autoincrement=False),
    Column("lfn", String(LFN_LENGTH), nullable=False),
    Column("name", String(LFN_LENGTH), nullable=False),  # path inside the buffer directory
    Column("size", BigInteger, nullable=False),
    Column("adler32", String(8), nullable=False),
    Column("verified", Boolean, nullable=False),
    Column("source", String(LFN_LENGTH), nullable=True),  # "SE:path" the bytes came from
)
