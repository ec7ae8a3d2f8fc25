"""Storage: the registry of storage elements; a replica names its storage element and path.

``storage_elements``: one row per storage element (name, URL, role, site, capacity,
free-space watermark). ``replicas`` gains ``se`` and ``se_path`` (empty for the copies
recorded before, which name no storage element).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "storage_elements",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("url", sa.String(512), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("site", sa.String(64), server_default="", nullable=False),
        sa.Column("capacity", sa.BigInteger(), nullable=True),
        sa.Column("watermark", sa.BigInteger(), server_default="0", nullable=False),
        sa.CheckConstraint(
            "role IN ('daq', 'offline', 'mc', 'recall', 'tape')",
            name=op.f("ck_storage_elements_role"),
        ),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_storage_elements")),
    )
    with op.batch_alter_table("replicas") as batch:
        batch.add_column(sa.Column("se", sa.String(64), server_default="", nullable=False))
        batch.add_column(sa.Column("se_path", sa.String(512), server_default="", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("replicas") as batch:
        batch.drop_column("se_path")
        batch.drop_column("se")
    op.drop_table("storage_elements")
