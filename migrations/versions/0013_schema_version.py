"""Catalogue engine: the schema version (``cat_schema_version``).

One row, bumped by every change of the catalogue's schema (directories, attributes, ACLs,
ownership, constraints, group memberships); sessions validate their schema cache against it
instead of letting it expire (``bookkeeping/amga_adapter/schema_version.py``). The row is
made here with version 1, so caches filled before the upgrade are emptied once.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    table = op.create_table(
        "cat_schema_version",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cat_schema_version")),
    )
    op.bulk_insert(table, [{"id": 1, "version": 1}])


def downgrade() -> None:
    op.drop_table("cat_schema_version")
