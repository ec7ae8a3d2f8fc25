"""Web UI: API tokens for the production writer endpoint.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "webui_api_tokens",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_sha256", sa.String(64), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.func.now(),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["cat_users.id"],
            name=op.f("fk_webui_api_tokens_user_id_cat_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webui_api_tokens")),
        sa.UniqueConstraint("token_sha256", name=op.f("uq_webui_api_tokens_token_sha256")),
    )
    op.create_index(op.f("ix_webui_api_tokens_user_id"), "webui_api_tokens", ["user_id"])


def downgrade() -> None:
    # Dropping the table drops its index too (MariaDB refuses to drop an index that a
    # foreign key still needs).
    op.drop_table("webui_api_tokens")
