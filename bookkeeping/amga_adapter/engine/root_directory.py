"""The catalogue's root directory "/" (owned by root, readable by everybody) and its entry
table: made with the schema, never by a read.

``bk init`` makes it after the migrations (``bookkeeping.bootstrap``); a schema made with
``metadata.create_all`` (tests, scratch databases, benchmarks) makes it in the same step
(the listener below). Constructing a ``Catalogue`` or reading creates nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from bookkeeping.amga_adapter.engine import system_tables as st
from bookkeeping.amga_adapter.engine.directory_tables import create_table
from bookkeeping.amga_adapter.engine.permissions import (
    DEFAULT_DIRECTORY_GROUP_RIGHTS,
    DEFAULT_DIRECTORY_PERMISSIONS,
    EVERYBODY,
    ROOT,
)
from bookkeeping.engines import write_transaction
from bookkeeping.metadata import metadata

__all__ = ["create_root_directory", "ensure_root_directory"]


def create_root_directory(connection: sa.Connection) -> None:
    """Insert "/" and create its entry table, unless it exists (idempotent)."""
    root = sa.select(st.directories.c.id).where(st.directories.c.path == "/")
    if connection.scalar(root) is not None:
        return
    directory_id = connection.execute(
        st.directories.insert().values(
            path="/",
            parent_id=None,
            name="",
            owner=ROOT,
            group_name=None,
            permissions=DEFAULT_DIRECTORY_PERMISSIONS,
            group_rights=DEFAULT_DIRECTORY_GROUP_RIGHTS,
            plain=False,
        )
    ).inserted_primary_key[0]  # type: ignore[index]  # set after an INSERT
    connection.execute(
        st.acls.insert().values(directory_id=directory_id, principal=EVERYBODY, rights="r-x")
    )
    create_table(connection, directory_id)


def ensure_root_directory(engine: sa.Engine) -> None:
    """``create_root_directory`` in a transaction of its own; another process making it at
    the same moment is no error (the unique path decides)."""
    root = sa.select(st.directories.c.id).where(st.directories.c.path == "/")
    with engine.connect() as connection:
        if connection.scalar(root) is not None:
            return
    try:
        with write_transaction(engine) as connection:
            create_root_directory(connection)
    except sa.exc.IntegrityError:
        pass  # another process created it first


@sa.event.listens_for(metadata, "after_create")
def _with_the_schema(
    target: sa.MetaData, connection: sa.Connection, tables: Sequence[sa.Table] = (), **kw: Any
) -> None:
    if st.directories in tables:
        create_root_directory(connection)
