"""Catalogue engine: ordered indexes on directory tables (``cat_indexes``).

One row per index the engine created on a directory table (``ix_catd_<directory>_<id>``):
its key in attribute ids and whether the index exists yet. Existing catalogues have no such
index; the views' shards get theirs from ``bk views index`` (docs/views.md).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "cat_indexes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("directory_id", sa.Integer(), nullable=False),
        sa.Column("definition", sa.String(255), nullable=False),
        sa.Column("ready", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.ForeignKeyConstraint(
            ["directory_id"],
            ["cat_directories.id"],
            name=op.f("fk_cat_indexes_directory_id_cat_directories"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cat_indexes")),
        sa.UniqueConstraint(
            "directory_id", "definition", name=op.f("uq_cat_indexes_directory_id_definition")
        ),
    )


def downgrade() -> None:
    # The indexes go with their rows: a catalogue without this table could neither list
    # nor drop them (and SQLite refuses to drop an indexed column).
    rows = op.get_bind().execute(sa.text("SELECT id, directory_id FROM cat_indexes")).all()
    for index_id, directory_id in rows:
        op.drop_index(
            f"ix_catd_{directory_id}_{index_id}", table_name=f"catd_{directory_id}", if_exists=True
        )
    op.drop_table("cat_indexes")
