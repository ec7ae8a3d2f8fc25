from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.dialects import mysql, oracle, postgresql, sqlite
from sqlalchemy.schema import CreateIndex, CreateTable

from bookkeeping import migrate
from bookkeeping.engines import create_engine
from bookkeeping.metadata import is_dynamic_table
from bookkeeping.schema import metadata
from bookkeeping.scratch import ScratchDatabase


def _static_tables(engine: sa.Engine) -> set[str]:
    names = set(sa.inspect(engine).get_table_names())
    return {name for name in names if name != "alembic_version" and not is_dynamic_table(name)}


def test_upgrade_downgrade_upgrade_on_every_backend(backend: ScratchDatabase) -> None:
    engine = create_engine(backend.url)
    try:
        migrate.upgrade(engine, "head")
        assert migrate.current_revision(engine) == migrate.head_revision()
        assert _static_tables(engine) == set(metadata.tables)
        migrate.downgrade(engine, "base")
        assert migrate.current_revision(engine) is None
        assert _static_tables(engine) == set()
        migrate.upgrade(engine, "head")
        assert _static_tables(engine) == set(metadata.tables)
    finally:
        engine.dispose()


def _include(obj, name, type_, reflected, compare_to) -> bool:  # noqa: ANN001
    if type_ == "table" and name and is_dynamic_table(name):
        return False
    return True


def test_migrations_match_the_metadata(backend: ScratchDatabase) -> None:
    """Drift test: autogenerate finds nothing to change after upgrading to head."""
    engine = create_engine(backend.url)
    try:
        migrate.upgrade(engine, "head")
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "include_object": _include}
            )
            differences = compare_metadata(context, metadata)
        assert differences == []
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    "dialect",
    [oracle.dialect(), postgresql.dialect(), mysql.dialect(), sqlite.dialect()],
    ids=lambda d: d.name,
)
def test_static_schema_compiles_for_every_dialect(dialect: sa.Dialect) -> None:
    for table in metadata.sorted_tables:
        ddl = str(CreateTable(table).compile(dialect=dialect))
        assert table.name in ddl
        for index in table.indexes:
            assert index.name and index.name in str(CreateIndex(index).compile(dialect=dialect))
