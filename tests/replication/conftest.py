"""A real PostgreSQL primary with a streaming standby (``bookkeeping.replication.pgcluster``),
one per test module: built in ~2 s, stopped (by PID) when the module ends."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bookkeeping.bootstrap import initialise
from bookkeeping.engines import create_engine
from bookkeeping.replication import pgcluster
from bookkeeping.replication.pgcluster import PgCluster
from tests.waiting import wait_until

WAIT_S = 30.0


def wait_for(condition: Callable[[], object], what: str, timeout: float = WAIT_S) -> None:
    """``wait_until`` with the replication suites' bound (a standby replays in seconds)."""
    wait_until(condition, what, timeout=timeout)


def replayed(standby_url: str, primary: Engine) -> None:
    """Wait until the standby has replayed everything the primary has written so far."""
    with primary.connect() as connection:
        lsn = connection.execute(sa.text("SELECT pg_current_wal_lsn()")).scalar()
    # Its own database may not exist there yet: ask in the maintenance database.
    probe = sa.create_engine(
        sa.make_url(standby_url).set(database="postgres"), poolclass=sa.NullPool
    )
    try:

        def caught_up() -> bool:
            with probe.connect() as connection:
                return bool(
                    connection.execute(
                        sa.text("SELECT pg_last_wal_replay_lsn() >= CAST(:lsn AS pg_lsn)"),
                        {"lsn": lsn},
                    ).scalar()
                )

        wait_for(caught_up, "the standby to replay the primary's WAL")
    finally:
        probe.dispose()


@pytest.fixture(scope="module")
def cluster() -> Iterator[PgCluster]:
    reason = pgcluster.available()
    if reason:
        pytest.skip(reason)
    with PgCluster() as built:
        built.add_standby()
        primary = create_engine(built.primary.url())  # type: ignore[union-attr]
        try:
            with primary.connect() as connection:
                connection.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(
                    "CREATE DATABASE bk"
                )
        finally:
            primary.dispose()
        engine = create_engine(built.primary.url("bk"))  # type: ignore[union-attr]
        try:
            initialise(engine, root_password="root-pw")  # schema to head and root
            replayed(built.standbys[0].url("bk"), engine)
        finally:
            engine.dispose()
        yield built
