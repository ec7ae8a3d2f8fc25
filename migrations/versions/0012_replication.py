"""Replication: catalogue subtree replication's log, counter, subtrees and slave state.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "replication_subtrees",
        sa.Column("path", sa.String(700), nullable=False),
        sa.Column("role", sa.String(8), nullable=False),
        sa.Column("master", sa.String(700), server_default="", nullable=False),
        sa.Column("registered", sa.Float(), nullable=False),
        sa.CheckConstraint(
            "role IN ('master', 'slave')", name=op.f("ck_replication_subtrees_role")
        ),
        sa.PrimaryKeyConstraint("path", name=op.f("pk_replication_subtrees")),
    )
    op.create_table(
        "replication_counter",
        sa.Column("name", sa.String(32), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_replication_counter")),
    )
    op.create_table(
        "replication_log",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("created", sa.Float(), nullable=False),
        sa.Column("directory", sa.String(700), nullable=False),
        sa.Column("op", sa.String(16), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_replication_log")),
    )
    op.create_table(
        "replication_state",
        sa.Column("path", sa.String(700), nullable=False),
        sa.Column("applied_id", sa.BigInteger(), nullable=False),
        sa.Column("applied_created", sa.Float(), nullable=False),
        sa.Column("applied_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("path", name=op.f("pk_replication_state")),
    )


def downgrade() -> None:
    op.drop_table("replication_state")
    op.drop_table("replication_log")
    op.drop_table("replication_counter")
    op.drop_table("replication_subtrees")
