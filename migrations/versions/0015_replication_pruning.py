"""Replication: the slaves a master knows and how far each has applied, and how far each
subtree's log was pruned (so a slave that needs pruned records is told to re-bootstrap).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "replication_slaves",
        sa.Column("slave", sa.String(64), nullable=False),
        sa.Column("path", sa.String(700), nullable=False),
        sa.Column("description", sa.String(700), server_default="", nullable=False),
        sa.Column("applied_id", sa.BigInteger(), nullable=False),
        sa.Column("reported", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("slave", "path", name=op.f("pk_replication_slaves")),
    )
    with op.batch_alter_table("replication_subtrees") as batch:
        batch.add_column(
            sa.Column("pruned_id", sa.BigInteger(), server_default="0", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("replication_subtrees") as batch:
        batch.drop_column("pruned_id")
    op.drop_table("replication_slaves")
