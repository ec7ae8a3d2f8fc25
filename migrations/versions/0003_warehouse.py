"""Warehouse: the relational bookkeeping schema.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _parameter_table(
    name: str, owner: str, owner_type: sa.types.TypeEngine, target: str | None
) -> None:
    foreign_keys = (
        [
            sa.ForeignKeyConstraint(
                [owner], [target], name=op.f(f"fk_{name}_{owner}_{target.split('.')[0]}")
            )
        ]
        if target
        else []
    )
    op.create_table(
        name,
        sa.Column(owner, owner_type, autoincrement=False, nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("value", sa.String(255), nullable=False),
        *foreign_keys,
        sa.PrimaryKeyConstraint(owner, "name", name=op.f(f"pk_{name}")),
    )
    op.create_index(op.f(f"ix_{name}_name_value"), name, ["name", "value"])


def upgrade() -> None:
    op.create_table(
        "jobs",
        sa.Column("job_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("configname", sa.String(128), nullable=False),
        sa.Column("configversion", sa.String(128), nullable=False),
        sa.Column("jobdate", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("job_id", name=op.f("pk_jobs")),
    )
    op.create_index(
        op.f("ix_jobs_configname_configversion"), "jobs", ["configname", "configversion"]
    )
    op.create_table(
        "files",
        sa.Column("file_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("job_id", sa.BigInteger(), nullable=False),
        sa.Column("type_id", sa.Integer(), nullable=False),
        sa.Column("logname", sa.String(255), nullable=False),
        sa.Column("creationdate", sa.DateTime(), nullable=False),
        sa.Column("visible", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["job_id"], ["jobs.job_id"], name=op.f("fk_files_job_id_jobs")),
        sa.PrimaryKeyConstraint("file_id", name=op.f("pk_files")),
        sa.UniqueConstraint("logname", name=op.f("uq_files_logname")),
    )
    op.create_index(op.f("ix_files_job_id"), "files", ["job_id"])
    op.create_index(op.f("ix_files_type_id"), "files", ["type_id"])
    op.create_table(
        "inputFiles",
        sa.Column("job_id", sa.BigInteger(), nullable=False),
        sa.Column("file_id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["job_id"], ["jobs.job_id"], name=op.f("fk_inputFiles_job_id_jobs")
        ),
        sa.ForeignKeyConstraint(
            ["file_id"], ["files.file_id"], name=op.f("fk_inputFiles_file_id_files")
        ),
        sa.PrimaryKeyConstraint("job_id", "file_id", name=op.f("pk_inputFiles")),
    )
    op.create_index(op.f("ix_inputFiles_file_id"), "inputFiles", ["file_id"])
    op.create_table(
        "evtTypes",
        sa.Column("type_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("description", sa.String(255), nullable=False),
        sa.Column("primary", sa.String(255), nullable=False),
        sa.Column("decay", sa.String(255), nullable=False),
        sa.PrimaryKeyConstraint("type_id", name=op.f("pk_evtTypes")),
    )
    _parameter_table("fileParams", "file_id", sa.BigInteger(), "files.file_id")
    _parameter_table("jobParams", "job_id", sa.BigInteger(), "jobs.job_id")
    _parameter_table("typeParams", "type_id", sa.Integer(), None)
    _parameter_table("qualityParams", "file_id", sa.BigInteger(), "files.file_id")
    op.create_table(
        "replicas",
        sa.Column("file_id", sa.BigInteger(), nullable=False),
        sa.Column("site", sa.String(64), nullable=False),
        sa.Column("storageclass", sa.String(16), nullable=False),
        sa.Column("area", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("replica", sa.String(512), nullable=False),
        sa.ForeignKeyConstraint(
            ["file_id"], ["files.file_id"], name=op.f("fk_replicas_file_id_files")
        ),
        sa.PrimaryKeyConstraint(
            "file_id", "site", "storageclass", "area", name=op.f("pk_replicas")
        ),
    )


def downgrade() -> None:
    # Dropping a table drops its indexes (MariaDB refuses to drop an index a foreign key uses).
    for name in (
        "replicas",
        "qualityParams",
        "typeParams",
        "jobParams",
        "fileParams",
        "evtTypes",
        "inputFiles",
        "files",
        "jobs",
    ):
        op.drop_table(name)
