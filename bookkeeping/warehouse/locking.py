"""One warehouse writer at a time, while readers go on.

Ids are ``max + 1`` and a duplicate is recognised by looking up the DIRAC job id, so two
writers must not interleave: each could pick the same ids, or both record one report sent
twice at once. Writers therefore take a lock readers never ask for: ``BEGIN IMMEDIATE`` on
SQLite, a transaction-scoped advisory lock on PostgreSQL, a named lock on MariaDB.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError

from bookkeeping.engines import backend_name, write_transaction
from bookkeeping.writer.errors import WriterBusy

LOCK_NAME = "bookkeeping.warehouse.writer"
LOCK_KEY = 0x626B5748  # "bkWH": the PostgreSQL advisory lock key
LOCK_TIMEOUT_SECONDS = 120


@contextmanager
def exclusive_write(engine: Engine) -> Iterator[Connection]:
    """A write transaction no other warehouse writer runs alongside."""
    if backend_name(engine) == "mariadb":
        with _mariadb_named_lock(engine) as connection:
            yield connection
        return
    with write_transaction(engine) as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
        yield connection


@contextmanager
def _mariadb_named_lock(engine: Engine) -> Iterator[Connection]:
    # GET_LOCK belongs to the session, not the transaction: take it before the transaction
    # begins and release it only after the commit, so the next writer sees our rows.
    with engine.connect() as connection:
        acquired = connection.scalar(
            sa.text("SELECT GET_LOCK(:name, :timeout)"),
            {"name": LOCK_NAME, "timeout": LOCK_TIMEOUT_SECONDS},
        )
        connection.commit()
        if acquired != 1:
            raise WriterBusy(f"another writer held the write lock for {LOCK_TIMEOUT_SECONDS} s")
        try:
            with connection.begin():
                yield connection
        finally:
            try:
                connection.execute(sa.text("SELECT RELEASE_LOCK(:name)"), {"name": LOCK_NAME})
                connection.commit()
            except DBAPIError:
                connection.invalidate()  # closing the session frees the lock
