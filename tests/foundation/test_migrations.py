from __future__ import annotations

from typing import Any

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


def _differences(engine: sa.Engine, target: sa.MetaData) -> list[Any]:
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_object": _include}
        )
        return compare_metadata(context, target)


def test_migrations_match_the_metadata(backend: ScratchDatabase) -> None:
    """Drift test: autogenerate finds nothing to change after upgrading to head."""
    engine = create_engine(backend.url)
    try:
        migrate.upgrade(engine, "head")
        assert _differences(engine, metadata) == []
    finally:
        engine.dispose()


def _altered_metadata() -> sa.MetaData:
    """A copy of the metadata with one change of each kind the drift test must see: a new
    table, a new column, a changed column type, a missing index."""
    altered = sa.MetaData(naming_convention=metadata.naming_convention)
    for table in metadata.sorted_tables:
        table.to_metadata(altered)
    sa.Table("drift_probe", altered, sa.Column("id", sa.Integer, primary_key=True))
    altered.tables["cat_users"].append_column(sa.Column("drift_extra", sa.Integer))
    sequences = altered.tables["cat_sequences"]
    sequences.c.name.type = sa.String(17)
    directories = altered.tables["cat_directories"]
    directories.indexes.remove(
        next(i for i in directories.indexes if i.name == "ix_cat_directories_parent_id")
    )
    return altered


def test_the_drift_test_sees_metadata_that_differs_from_the_migrations(
    backend: ScratchDatabase,
) -> None:
    """Negative control: against a deliberately altered copy of the metadata, the same
    comparison reports each alteration (and only those)."""
    engine = create_engine(backend.url)
    try:
        migrate.upgrade(engine, "head")
        found = set()
        for difference in _differences(engine, _altered_metadata()):
            change = difference[0] if isinstance(difference, list) else difference
            kind = change[0]
            if kind == "add_table":
                found.add((kind, change[1].name))
            elif kind == "add_column":
                found.add((kind, change[2], change[3].name))
            elif kind == "modify_type":
                found.add((kind, change[2], change[3]))
            elif kind == "remove_index":
                found.add((kind, change[1].name))
            else:
                found.add((kind,))
        assert found == {
            ("add_table", "drift_probe"),
            ("add_column", "cat_users", "drift_extra"),
            ("modify_type", "cat_sequences", "name"),
            ("remove_index", "ix_cat_directories_parent_id"),
        }
        assert _differences(engine, metadata) == []  # the real metadata is untouched
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
