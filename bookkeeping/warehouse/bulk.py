"""Bulk inserts of warehouse rows (dicts, one per row) through ``bookkeeping.bulk``."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bookkeeping.bulk import insert_rows


def insert_many(connection: Connection, table: sa.Table, values: list[dict]) -> None:
    """Insert ``values`` (dicts with the same keys, in the same order) into ``table`` on
    ``connection``, inside its transaction (``COPY`` on PostgreSQL)."""
    if not values:
        return
    columns = list(values[0])
    insert_rows(connection, table, columns, [tuple(row.values()) for row in values])
