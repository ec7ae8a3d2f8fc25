"""The storage layer's static table: the registry of storage elements (data, not code)."""

from __future__ import annotations

from sqlalchemy import BigInteger, CheckConstraint, Column, String, Table

from bookkeeping.metadata import metadata

SE_NAME_LENGTH = 64
SE_URL_LENGTH = 512

# One row per storage element. ``capacity`` is the most bytes it may hold (NULL: what its
# file system or server has); ``watermark`` the free bytes a put must leave (a put that
# would go below it is refused with ``StorageFull``).
storage_elements = Table(
    "storage_elements",
    metadata,
    Column("name", String(SE_NAME_LENGTH), primary_key=True),
    Column("url", String(SE_URL_LENGTH), nullable=False),
    Column("role", String(16), nullable=False),
    Column("site", String(64), nullable=False, server_default=""),
    Column("capacity", BigInteger, nullable=True),
    Column("watermark", BigInteger, nullable=False, server_default="0"),
    CheckConstraint("role IN ('daq', 'offline', 'mc', 'recall', 'tape')", name="role"),
)

STORAGE_TABLES = (storage_elements,)
