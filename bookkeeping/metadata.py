"""The single SQLAlchemy MetaData of the static schema, with a constraint naming convention.

Static tables (catalogue system tables, warehouse tables) register here and are created by
Alembic revisions in ``migrations/``. Catalogue directories are real tables too, but created
at run time; their names start with ``DYNAMIC_TABLE_PREFIX`` and migrations ignore them.
"""

from __future__ import annotations

from sqlalchemy import MetaData

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

DYNAMIC_TABLE_PREFIX = "catd_"

metadata = MetaData(naming_convention=NAMING_CONVENTION)


def is_dynamic_table(name: str) -> bool:
    return name.lower().startswith(DYNAMIC_TABLE_PREFIX)
