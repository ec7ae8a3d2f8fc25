"""Claiming work rows so that two daemons never take the same one.

A claim is ``claimed_by``/``claimed_at`` written in the transaction that selected the rows
with ``FOR UPDATE SKIP LOCKED`` (PostgreSQL, MariaDB: a row another daemon is claiming right
now is skipped, not waited for) or, on SQLite, under ``BEGIN IMMEDIATE`` (one writer at a
time). A row is free when nobody claimed it, when its claim is older than ``stale_after``
(its daemon was killed, or stopped renewing) or when the claimant is this very daemon (a
restarted daemon, under its own name, takes its rows back at once).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from bookkeeping.engines import write_transaction


def now() -> datetime:
    """Naive UTC, as every time in the database."""
    return datetime.now(UTC).replace(tzinfo=None)


def free(table: sa.Table, me: str, stale_after: float) -> sa.ColumnElement[bool]:
    c = table.c
    stale = now() - timedelta(seconds=stale_after)
    return sa.or_(c.claimed_by.is_(None), c.claimed_by == me, c.claimed_at < stale)


def claim(
    connection: Connection,
    table: sa.Table,
    me: str,
    *,
    where: Sequence[sa.ColumnElement[bool]] = (),
    order_by: Sequence[sa.ColumnElement] = (),
    limit: int,
    stale_after: float,
) -> list[Row]:
    """Claim up to ``limit`` free rows of ``table`` matching ``where``, in ``order_by``;
    call inside ``write_transaction``."""
    key = list(table.primary_key.columns)
    query = (
        sa.select(table)
        .where(free(table, me, stale_after), *where)
        .order_by(*order_by, *key)
        .limit(limit)
    )
    if connection.dialect.name != "sqlite":
        query = query.with_for_update(skip_locked=True)
    found = list(connection.execute(query))
    if found:
        stamp = now()
        keys = [tuple(getattr(row, column.name) for column in key) for row in found]
        condition = key[0].in_([k[0] for k in keys]) if len(key) == 1 else sa.tuple_(*key).in_(keys)
        connection.execute(table.update().where(condition).values(claimed_by=me, claimed_at=stamp))
    return found


def renew(engine: sa.Engine, table: sa.Table, me: str) -> None:
    """Keep this daemon's claims fresh while it works on them."""
    with write_transaction(engine) as connection:
        connection.execute(table.update().where(table.c.claimed_by == me).values(claimed_at=now()))


def release(engine: sa.Engine, table: sa.Table, me: str) -> None:
    """Give this daemon's claims back (a graceful stop)."""
    with write_transaction(engine) as connection:
        connection.execute(
            table.update().where(table.c.claimed_by == me).values(claimed_by=None, claimed_at=None)
        )
