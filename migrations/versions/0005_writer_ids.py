"""Warehouse writer: id counters handed out in blocks, and one row per recorded DIRAC job.

Existing bookkeepings keep working: the counters start above the largest ids already
recorded, and every recorded report's DIRAC job id is copied from jobParams.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DIRAC_JOB_ID = "DIRAC_JobID"  # the jobParams name (bookkeeping.writer.model)


def upgrade() -> None:
    counters = op.create_table(
        "idCounters",
        sa.Column("name", sa.String(32), nullable=False),
        sa.Column("next_value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_idCounters")),
    )
    dirac_jobs = op.create_table(
        "diracJobs",
        sa.Column("dirac_job_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("job_id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["job_id"], ["jobs.job_id"], name=op.f("fk_diracJobs_job_id_jobs")),
        sa.PrimaryKeyConstraint("dirac_job_id", name=op.f("pk_diracJobs")),
        sa.UniqueConstraint("job_id", name=op.f("uq_diracJobs_job_id")),
    )
    # The tables as this revision knows them (not the application's metadata, which may
    # have moved on by the time an old database is upgraded).
    meta = sa.MetaData()
    jobs = sa.Table("jobs", meta, sa.Column("job_id", sa.BigInteger))
    files = sa.Table("files", meta, sa.Column("file_id", sa.BigInteger))
    type_params = sa.Table("typeParams", meta, sa.Column("type_id", sa.Integer))
    job_params = sa.Table(
        "jobParams",
        meta,
        sa.Column("job_id", sa.BigInteger),
        sa.Column("name", sa.String(128)),
        sa.Column("value", sa.String(255)),
    )
    connection = op.get_bind()
    for name, column in (
        ("jobs", jobs.c.job_id),
        ("files", files.c.file_id),
        ("file_types", type_params.c.type_id),
    ):
        largest = connection.scalar(sa.select(sa.func.coalesce(sa.func.max(column), 0)))
        connection.execute(counters.insert().values(name=name, next_value=int(largest) + 1))
    # The writer recorded a DIRAC job id once; the lowest job id wins should an old,
    # unlocked writer ever have recorded one twice.
    dirac = sa.cast(job_params.c.value, sa.BigInteger)
    connection.execute(
        dirac_jobs.insert().from_select(
            ["dirac_job_id", "job_id"],
            sa.select(dirac, sa.func.min(job_params.c.job_id))
            .where(job_params.c.name == DIRAC_JOB_ID)
            .group_by(dirac),
        )
    )


def downgrade() -> None:
    op.drop_table("diracJobs")
    op.drop_table("idCounters")
