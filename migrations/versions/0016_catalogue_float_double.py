"""Catalogue attributes of type ``float``, ``timestamp`` and ``time``: one meaning on every
back-end (docs/catalogue.md, "Types").

``float`` was ``sa.Float``: four bytes (``FLOAT``) on MySQL and MariaDB, eight on PostgreSQL
and SQLite, so the same value read back differently (``0.1`` as ``0.10000000149011612``).
AMGA's ``float`` is its reference back-end's, PostgreSQL's: double precision. MariaDB's
``DATETIME`` and ``TIME`` without a precision dropped the microseconds the other back-ends
keep. New columns are made right by the engine (``amga_adapter/engine/types.py``); this
widens the columns of existing catalogues on MySQL and MariaDB (``bk db upgrade``). Other
back-ends had the right sizes already: nothing to do there.

Values already stored in a four-byte FLOAT or without microseconds keep what they were
rounded to; every value written afterwards is exact. The downgrade keeps the wider
columns: narrowing them would round stored values again, and the engine writes the same
Python values into either.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# catalogue type -> (the column type it needs on MySQL/MariaDB, information_schema's
# DATA_TYPE and DATETIME_PRECISION of a column that has it already)
WIDER = {
    "float": ("DOUBLE", "double", None),
    "timestamp": ("DATETIME(6)", "datetime", 6),
    "time": ("TIME(6)", "time", 6),
}
# The engine's names (amga_adapter/engine/directory_info.py): a migration does not import
# the package, whose code moves on while this revision stays as it is.
TABLE_PREFIX = "catd_"


def upgrade() -> None:
    connection = op.get_bind()
    if connection.dialect.name not in {"mysql", "mariadb"}:
        return
    attributes = sa.table(
        "cat_attributes",
        sa.column("id", sa.Integer),
        sa.column("directory_id", sa.Integer),
        sa.column("type", sa.String),
    )
    rows = connection.execute(
        sa.select(attributes.c.id, attributes.c.directory_id, attributes.c.type).where(
            attributes.c.type.in_(list(WIDER))
        )
    ).all()
    preparer = connection.dialect.identifier_preparer
    for attribute_id, directory_id, kind in rows:
        table, column = f"{TABLE_PREFIX}{directory_id}", f"a{attribute_id}"
        found = connection.execute(
            sa.text(
                "SELECT DATA_TYPE, DATETIME_PRECISION, IS_NULLABLE FROM information_schema.COLUMNS"
                " WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = :t AND COLUMN_NAME = :c"
            ),
            {"t": table, "c": column},
        ).first()
        wanted, data_type, precision = WIDER[kind]
        if found is None:  # an attribute whose column was never made (ready is false)
            continue
        if found[0].lower() == data_type and (precision is None or found[1] == precision):
            continue  # made by the engine after the fix, or upgraded already
        nullable = "NULL" if found[2] == "YES" else "NOT NULL"  # as it was
        connection.exec_driver_sql(
            f"ALTER TABLE {preparer.quote(table)} MODIFY COLUMN {preparer.quote(column)}"
            f" {wanted} {nullable}"
        )


def downgrade() -> None:
    pass  # the wider columns stay (see the module docstring)
