"""Syncat: trusted keys, the outbox, messages received, quarantine (dark data), suspicious
files, SE space and the embedded transport's queue (docs/syncat.md).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 13:04:24.754681
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "syncat_outbox",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("se", sa.String(length=255), nullable=False),
        sa.Column("requester", sa.String(length=255), nullable=False),
        sa.Column("item", sa.Text(), nullable=False),
        sa.Column("created", sa.Float(), nullable=False),
        sa.Column("message_id", sa.String(length=64), nullable=True),
        sa.Column("sent", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_syncat_outbox")),
    )
    op.create_index(op.f("ix_syncat_outbox_sent"), "syncat_outbox", ["sent"], unique=False)

    op.create_table(
        "syncat_quarantine",
        sa.Column("se", sa.String(length=64), nullable=False),
        sa.Column("path", sa.String(length=700), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=True),
        sa.Column("adler32", sa.String(length=8), nullable=True),
        sa.Column("message_id", sa.String(length=64), nullable=False),
        sa.Column("found", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("se", "path", name=op.f("pk_syncat_quarantine")),
    )
    op.create_table(
        "syncat_queue",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("queue", sa.String(length=255), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("created", sa.Float(), nullable=False),
        sa.Column("leased_until", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_syncat_queue")),
    )
    op.create_index(op.f("ix_syncat_queue_queue_id"), "syncat_queue", ["queue", "id"], unique=False)

    op.create_table(
        "syncat_received",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("endpoint", sa.String(length=255), nullable=False),
        sa.Column("message_id", sa.String(length=64), nullable=True),
        sa.Column("type", sa.String(length=32), nullable=True),
        sa.Column("sender", sa.String(length=255), nullable=True),
        sa.Column("requester", sa.String(length=255), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("files", sa.Integer(), nullable=False),
        sa.Column("expires", sa.Float(), nullable=True),
        sa.Column("received", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_syncat_received")),
        sa.UniqueConstraint(
            "endpoint", "message_id", name=op.f("uq_syncat_received_endpoint_message_id")
        ),
    )
    op.create_index(
        op.f("ix_syncat_received_endpoint_outcome"),
        "syncat_received",
        ["endpoint", "outcome"],
        unique=False,
    )

    op.create_table(
        "syncat_space",
        sa.Column("se", sa.String(length=64), nullable=False),
        sa.Column("used", sa.BigInteger(), nullable=False),
        sa.Column("capacity", sa.BigInteger(), nullable=True),
        sa.Column("message_id", sa.String(length=64), nullable=False),
        sa.Column("reported", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("se", name=op.f("pk_syncat_space")),
    )
    op.create_table(
        "syncat_suspicious",
        sa.Column("se", sa.String(length=64), nullable=False),
        sa.Column("lfn", sa.String(length=700), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("message_id", sa.String(length=64), nullable=False),
        sa.Column("reported", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("se", "lfn", name=op.f("pk_syncat_suspicious")),
    )
    op.create_table(
        "syncat_trusted_keys",
        sa.Column("public_key", sa.String(length=64), nullable=False),
        sa.Column("endpoint", sa.String(length=255), nullable=False),
        sa.Column(
            "added_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("public_key", name=op.f("pk_syncat_trusted_keys")),
    )


def downgrade() -> None:
    op.drop_table("syncat_trusted_keys")
    op.drop_table("syncat_suspicious")
    op.drop_table("syncat_space")
    op.drop_index(op.f("ix_syncat_received_endpoint_outcome"), table_name="syncat_received")

    op.drop_table("syncat_received")
    op.drop_index(op.f("ix_syncat_queue_queue_id"), table_name="syncat_queue")

    op.drop_table("syncat_queue")
    op.drop_table("syncat_quarantine")
    op.drop_index(op.f("ix_syncat_outbox_sent"), table_name="syncat_outbox")

    op.drop_table("syncat_outbox")
