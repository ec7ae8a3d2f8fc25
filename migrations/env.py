"""Alembic environment: run migrations on the connection handed over by bookkeeping.migrate."""

from __future__ import annotations

from alembic import context

from bookkeeping.metadata import is_dynamic_table
from bookkeeping.schema import metadata


def include_object(obj, name, type_, reflected, compare_to):  # noqa: ANN001, ANN201
    # Catalogue directories are tables made at run time, not by migrations.
    if type_ == "table" and name is not None and is_dynamic_table(name):
        return False
    table = getattr(obj, "table", None)
    if table is not None and is_dynamic_table(table.name):
        return False
    return True


def run_migrations() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError(
            "run migrations through 'bk init' or bookkeeping.migrate, which pass a connection"
        )
    context.configure(
        connection=connection,
        target_metadata=metadata,
        include_object=include_object,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        transaction_per_migration=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
