"""No hidden DDL: constructing a ``Catalogue`` and reading create no table; the root
directory comes with the schema (``metadata.create_all``, ``bk init``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bookkeeping.amga_adapter.engine import system_tables as st
from bookkeeping.amga_adapter.engine.catalogue import Catalogue

_DDL = ("CREATE", "ALTER", "DROP")


@contextmanager
def ddl_statements(engine: Engine) -> Iterator[list[str]]:
    seen: list[str] = []

    def listener(conn: object, cursor: object, statement: str, *args: object) -> None:
        if statement.lstrip().upper().startswith(_DDL):
            seen.append(statement)

    sa.event.listen(engine, "before_cursor_execute", listener)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", listener)


def test_a_new_catalogue_and_its_first_reads_create_nothing(engine: Engine) -> None:
    tables = set(sa.inspect(engine).get_table_names())
    with ddl_statements(engine) as ddl:
        catalogue = Catalogue(engine)
        session = catalogue.session("root")
        try:
            assert list(session.dir("/")) == []
            assert session.listattr("/") == []
        finally:
            session.close()
    assert ddl == []
    assert set(sa.inspect(engine).get_table_names()) == tables


def test_the_root_directory_comes_with_the_schema(engine: Engine) -> None:
    with engine.connect() as connection:
        root = connection.execute(
            sa.select(st.directories.c.owner).where(st.directories.c.path == "/")
        ).one()
    assert root.owner == "root"
