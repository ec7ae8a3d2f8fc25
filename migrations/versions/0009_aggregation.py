"""Aggregation: the embedded response cache and the prepared deliveries.

``agg_cached_queries`` / ``agg_cached_files``: a search's response by query id (the database
stand-in for Redis). ``agg_deliveries`` / ``agg_delivery_files``: deliveries (one per query
id, composition and requester; the queue the workers claim) and their manifests.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "agg_cached_queries",
        sa.Column("query_id", sa.String(32), nullable=False),
        sa.Column("canonical", sa.Text(), nullable=False),
        sa.Column("total", sa.BigInteger(), nullable=False),
        sa.Column("total_bytes", sa.BigInteger(), nullable=False),
        sa.Column("total_events", sa.BigInteger(), nullable=False),
        sa.Column("checksum", sa.String(32), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("query_id", name=op.f("pk_agg_cached_queries")),
    )
    op.create_index(op.f("ix_agg_cached_queries_expires_at"), "agg_cached_queries", ["expires_at"])
    op.create_table(
        "agg_cached_files",
        sa.Column("query_id", sa.String(32), nullable=False),
        sa.Column("position", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("lfn", sa.String(255), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("adler32", sa.String(8), nullable=False),
        sa.ForeignKeyConstraint(
            ["query_id"],
            ["agg_cached_queries.query_id"],
            name=op.f("fk_agg_cached_files_query_id_agg_cached_queries"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("query_id", "position", name=op.f("pk_agg_cached_files")),
    )
    op.create_table(
        "agg_deliveries",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("query_id", sa.String(32), nullable=False),
        sa.Column("owner", sa.String(64), nullable=False),
        sa.Column("composition", sa.String(16), nullable=False),
        sa.Column("token", sa.String(64), nullable=False),
        sa.Column("canonical", sa.Text(), nullable=False),
        sa.Column("checksum", sa.String(32), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("total_bytes", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("last_used_at", sa.DateTime(), nullable=False),
        sa.Column("ttl_seconds", sa.Integer(), nullable=False),
        sa.Column("worker", sa.String(64), nullable=True),
        sa.Column("heartbeat_at", sa.DateTime(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agg_deliveries")),
        sa.UniqueConstraint("token", name=op.f("uq_agg_deliveries_token")),
    )
    op.create_index(
        "ix_agg_deliveries_request",
        "agg_deliveries",
        ["query_id", "composition", "owner"],
        unique=True,
    )
    op.create_index("ix_agg_deliveries_state", "agg_deliveries", ["state"])
    op.create_table(
        "agg_delivery_files",
        sa.Column("delivery_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("lfn", sa.String(255), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("adler32", sa.String(8), nullable=False),
        sa.Column("verified", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(255), nullable=True),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["agg_deliveries.id"],
            name=op.f("fk_agg_delivery_files_delivery_id_agg_deliveries"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("delivery_id", "position", name=op.f("pk_agg_delivery_files")),
    )


def downgrade() -> None:
    op.drop_table("agg_delivery_files")
    op.drop_table("agg_deliveries")
    op.drop_table("agg_cached_files")
    op.drop_table("agg_cached_queries")
