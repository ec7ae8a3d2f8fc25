"""Warehouse: job and file-type parameter indexes cover the owner id.

``(name, value)`` becomes ``(name, value, <owner id>)`` on ``jobParams`` and
``typeParams``: a dataset selection ("the jobs whose ProcessingPass is p",
``bookkeeping/warehouse/dataset.py``) reads the job ids from the index alone and can start
there. The new index is built before the old one is dropped, so lookups never lose their
index.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PARAMETER_TABLES = (("jobParams", "job_id"), ("typeParams", "type_id"))


def upgrade() -> None:
    for table, owner in PARAMETER_TABLES:
        op.create_index(op.f(f"ix_{table}_name_value_{owner}"), table, ["name", "value", owner])
        op.drop_index(op.f(f"ix_{table}_name_value"), table_name=table)


def downgrade() -> None:
    for table, owner in PARAMETER_TABLES:
        op.create_index(op.f(f"ix_{table}_name_value"), table, ["name", "value"])
        op.drop_index(op.f(f"ix_{table}_name_value_{owner}"), table_name=table)
