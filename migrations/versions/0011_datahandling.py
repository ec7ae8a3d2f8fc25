"""Data handling: the files' life cycle (``files.state``) and the daemons' state tables
(recall requests, requested files, copies in flight, recall-area contents, pins, archive
queue, deletable disk copies); docs/datahandling.md.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STAMP = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def upgrade() -> None:
    with op.batch_alter_table("files") as batch:
        batch.add_column(sa.Column("state", sa.String(8), server_default="closed", nullable=False))
        batch.create_index(batch.f("ix_files_state"), ["state"])
    op.create_table(
        "dh_recall_requests",
        sa.Column("request_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("owner", sa.String(64), nullable=False),
        sa.Column("areas", sa.String(512), nullable=False),
        sa.Column("lease_seconds", sa.Integer(), nullable=False),
        sa.Column("created", STAMP, nullable=False),
        sa.Column("finished", STAMP, nullable=True),
        sa.PrimaryKeyConstraint("request_id", name=op.f("pk_dh_recall_requests")),
    )
    op.create_table(
        "dh_requested_files",
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("lfn", sa.String(255), nullable=False),
        sa.Column("state", sa.String(8), nullable=False),
        sa.Column("area", sa.String(64), nullable=True),
        sa.Column("path", sa.String(512), nullable=True),
        sa.Column("error", sa.String(512), nullable=True),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["dh_recall_requests.request_id"],
            name=op.f("fk_dh_requested_files_request_id_dh_recall_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("request_id", "lfn", name=op.f("pk_dh_requested_files")),
    )
    op.create_index(op.f("ix_dh_requested_files_lfn_state"), "dh_requested_files", ["lfn", "state"])
    op.create_table(
        "dh_copies",
        sa.Column("copy_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("lfn", sa.String(255), nullable=False),
        sa.Column("area", sa.String(64), nullable=False),
        sa.Column("source_se", sa.String(64), nullable=False),
        sa.Column("source_path", sa.String(512), nullable=False),
        sa.Column("cartridge", sa.String(64), nullable=True),
        sa.Column("position", sa.BigInteger(), nullable=True),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("adler32", sa.String(8), nullable=False),
        sa.Column("queued", STAMP, nullable=False),
        sa.Column("claimed_by", sa.String(64), nullable=True),
        sa.Column("claimed_at", STAMP, nullable=True),
        sa.PrimaryKeyConstraint("copy_id", name=op.f("pk_dh_copies")),
        sa.UniqueConstraint("lfn", name=op.f("uq_dh_copies_lfn")),
    )
    op.create_index(op.f("ix_dh_copies_cartridge_position"), "dh_copies", ["cartridge", "position"])
    op.create_table(
        "dh_area_files",
        sa.Column("area", sa.String(64), nullable=False),
        sa.Column("lfn", sa.String(255), nullable=False),
        sa.Column("path", sa.String(512), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("created", STAMP, nullable=False),
        sa.Column("last_used", STAMP, nullable=False),
        sa.PrimaryKeyConstraint("area", "lfn", name=op.f("pk_dh_area_files")),
    )
    op.create_index(op.f("ix_dh_area_files_area_last_used"), "dh_area_files", ["area", "last_used"])
    op.create_index(op.f("ix_dh_area_files_lfn"), "dh_area_files", ["lfn"])
    op.create_table(
        "dh_pins",
        sa.Column("pin_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("area", sa.String(64), nullable=False),
        sa.Column("lfn", sa.String(255), nullable=False),
        sa.Column("owner", sa.String(64), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=True),
        sa.Column("expires", STAMP, nullable=False),
        sa.PrimaryKeyConstraint("pin_id", name=op.f("pk_dh_pins")),
    )
    op.create_index(op.f("ix_dh_pins_area_lfn"), "dh_pins", ["area", "lfn"])
    op.create_index(op.f("ix_dh_pins_expires"), "dh_pins", ["expires"])
    op.create_index(op.f("ix_dh_pins_request_id"), "dh_pins", ["request_id"])
    op.create_table(
        "dh_archive_queue",
        sa.Column("lfn", sa.String(255), nullable=False),
        sa.Column("pool", sa.String(64), nullable=False),
        sa.Column("source_se", sa.String(64), nullable=False),
        sa.Column("source_path", sa.String(512), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("adler32", sa.String(8), nullable=False),
        sa.Column("queued", STAMP, nullable=False),
        sa.Column("claimed_by", sa.String(64), nullable=True),
        sa.Column("claimed_at", STAMP, nullable=True),
        sa.PrimaryKeyConstraint("lfn", name=op.f("pk_dh_archive_queue")),
    )
    op.create_index(op.f("ix_dh_archive_queue_pool_queued"), "dh_archive_queue", ["pool", "queued"])
    op.create_table(
        "dh_deletable",
        sa.Column("lfn", sa.String(255), nullable=False),
        sa.Column("source_se", sa.String(64), nullable=False),
        sa.Column("source_path", sa.String(512), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("archived", STAMP, nullable=False),
        sa.PrimaryKeyConstraint("lfn", name=op.f("pk_dh_deletable")),
    )
    op.create_index(
        op.f("ix_dh_deletable_source_se_archived"), "dh_deletable", ["source_se", "archived"]
    )


def downgrade() -> None:
    for table in (
        "dh_deletable",
        "dh_archive_queue",
        "dh_pins",
        "dh_area_files",
        "dh_copies",
        "dh_requested_files",
        "dh_recall_requests",
    ):
        op.drop_table(table)
    with op.batch_alter_table("files") as batch:
        batch.drop_index(batch.f("ix_files_state"))
        batch.drop_column("state")
