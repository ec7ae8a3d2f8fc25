"""Foundation: catalogue users and groups.

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "cat_users",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=True),
        sa.Column("dn", sa.String(700), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cat_users")),
        sa.UniqueConstraint("name", name=op.f("uq_cat_users_name")),
        sa.UniqueConstraint("dn", name=op.f("uq_cat_users_dn")),
    )
    op.create_table(
        "cat_groups",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cat_groups")),
        sa.UniqueConstraint("name", name=op.f("uq_cat_groups_name")),
    )
    op.create_table(
        "cat_group_members",
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["cat_groups.id"],
            name=op.f("fk_cat_group_members_group_id_cat_groups"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["cat_users.id"],
            name=op.f("fk_cat_group_members_user_id_cat_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("group_id", "user_id", name=op.f("pk_cat_group_members")),
    )


def downgrade() -> None:
    op.drop_table("cat_group_members")
    op.drop_table("cat_groups")
    op.drop_table("cat_users")
