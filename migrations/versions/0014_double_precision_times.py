"""Epoch-second columns as double precision on MySQL and MariaDB.

``sa.Float()`` without a precision is ``FLOAT`` there: four bytes, a 24-bit mantissa, so a
Unix time of 1.8e9 is rounded to a multiple of 128 seconds. Syncat's expiry and leases and
replication's registration times were off by up to a minute on those servers (a subtree
bootstrap waited on a registration time in the future). PostgreSQL's ``FLOAT`` and SQLite's
``REAL`` are already eight bytes; there only the declared type changes (SQLite through a
batch copy of these small tables), so the schema matches the metadata everywhere.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, column, nullable)
TIME_COLUMNS: tuple[tuple[str, str, bool], ...] = (
    ("syncat_outbox", "created", False),
    ("syncat_outbox", "sent", True),
    ("syncat_received", "expires", True),
    ("syncat_received", "received", False),
    ("syncat_quarantine", "found", False),
    ("syncat_suspicious", "reported", False),
    ("syncat_space", "reported", False),
    ("syncat_queue", "created", False),
    ("syncat_queue", "leased_until", True),
    ("replication_subtrees", "registered", False),
    ("replication_log", "created", False),
    ("replication_state", "applied_created", False),
    ("replication_state", "applied_at", False),
)


FloatType = type[sa.types.TypeEngine[float]]


def _alter(kind: FloatType, previous: FloatType) -> None:
    tables: dict[str, list[tuple[str, bool]]] = {}
    for table, column, nullable in TIME_COLUMNS:
        tables.setdefault(table, []).append((column, nullable))
    for table, columns in tables.items():
        with op.batch_alter_table(table) as batch:
            for column, nullable in columns:
                batch.alter_column(
                    column, type_=kind(), existing_type=previous(), existing_nullable=nullable
                )


def upgrade() -> None:
    _alter(sa.Double, sa.Float)


def downgrade() -> None:
    _alter(sa.Float, sa.Double)
