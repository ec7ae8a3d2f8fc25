"""Catalogue engine: directories, attributes, ACLs, sequences, constraints.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _directory_fk() -> sa.Column:
    return sa.Column("directory_id", sa.Integer(), nullable=False)


def _directory_fk_constraint(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["directory_id"],
        ["cat_directories.id"],
        name=op.f(f"fk_{table}_directory_id_cat_directories"),
        ondelete="CASCADE",
    )


def upgrade() -> None:
    op.create_table(
        "cat_directories",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("path", sa.String(700), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("owner", sa.String(255), nullable=False),
        sa.Column("group_name", sa.String(255), nullable=True),
        sa.Column("permissions", sa.String(3), nullable=False),
        sa.Column("group_rights", sa.String(3), nullable=False),
        sa.Column("plain", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["cat_directories.id"],
            name=op.f("fk_cat_directories_parent_id_cat_directories"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cat_directories")),
        sa.UniqueConstraint("path", name=op.f("uq_cat_directories_path")),
    )
    op.create_index(
        op.f("ix_cat_directories_parent_id"), "cat_directories", ["parent_id"], unique=False
    )
    op.create_table(
        "cat_attributes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        _directory_fk(),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("ready", sa.Boolean(), server_default=sa.false(), nullable=False),
        _directory_fk_constraint("cat_attributes"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cat_attributes")),
        sa.UniqueConstraint(
            "directory_id", "name", name=op.f("uq_cat_attributes_directory_id_name")
        ),
    )
    op.create_table(
        "cat_acls",
        _directory_fk(),
        sa.Column("principal", sa.String(255), nullable=False),
        sa.Column("rights", sa.String(3), nullable=False),
        _directory_fk_constraint("cat_acls"),
        sa.PrimaryKeyConstraint("directory_id", "principal", name=op.f("pk_cat_acls")),
    )
    op.create_table(
        "cat_sequences",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        _directory_fk(),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("increment", sa.BigInteger(), nullable=False),
        sa.Column("next_value", sa.BigInteger(), nullable=False),
        _directory_fk_constraint("cat_sequences"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cat_sequences")),
        sa.UniqueConstraint(
            "directory_id", "name", name=op.f("uq_cat_sequences_directory_id_name")
        ),
    )
    op.create_table(
        "cat_constraints",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        _directory_fk(),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("definition", sa.Text(), nullable=False),
        _directory_fk_constraint("cat_constraints"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cat_constraints")),
        sa.UniqueConstraint(
            "directory_id", "name", name=op.f("uq_cat_constraints_directory_id_name")
        ),
    )


def downgrade() -> None:
    # Directory tables (catd_*) are data, not schema: dropping the catalogue drops them too.
    bind = op.get_bind()
    dynamic = [
        name for name in sa.inspect(bind).get_table_names() if name.lower().startswith("catd_")
    ]
    for name in dynamic:
        op.drop_table(name)
    op.drop_table("cat_constraints")
    op.drop_table("cat_sequences")
    op.drop_table("cat_acls")
    op.drop_table("cat_attributes")
    # Dropping the table drops its index; MariaDB refuses to drop an index a foreign key uses.
    op.drop_table("cat_directories")
