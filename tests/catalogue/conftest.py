"""Fixtures: a catalogue on each back-end with root, anonymous and a few users.

Isolation. Each back-end gets one scratch database (random name, dropped at the end) per
test *process* (each pytest-xdist worker has its own), emptied before every test instead
of a new database per test. Measured on the 2-core CI machine (load average 5-7): the 459
PostgreSQL and MariaDB tests of this folder take 338 s this way and 935 s with a fresh database
each (CREATE DATABASE plus the static schema costs ~1.3 s on PostgreSQL and ~2.2 s on
MariaDB, against 25-75 ms for emptying), which would add some ten minutes of machine time
to every run.

What makes a shared database as good as a fresh one, before every test (``reset``):

* every directory table (``catd_*``) is dropped, found by inspecting the database, not
  from the catalogue's rows, so tables orphaned by a failed schema change go too;
* every row of every static table goes (children first; the directory tree's
  self-reference is cut first), then the fixed users and group below are inserted;
* a new ``Catalogue(engine)`` per test: a new schema cache, and the root directory
  created anew; sessions of the ``root``/``alice`` fixtures are closed (any transaction
  aborted) after each test, so no lock outlives its test;
* a worker runs its tests one at a time, so no other test shares the database meanwhile.

Not reset: autoincrement counters (ids keep growing across tests); no test depends on an
id's value. ``test_isolation.py`` proves that after ``reset`` the database is what a
fresh one holds.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bookkeeping.amga_adapter.engine import system_tables as st
from bookkeeping.amga_adapter.engine.catalogue import Catalogue, CatalogueSession
from bookkeeping.amga_adapter.engine.passwords import hash_password
from bookkeeping.amga_adapter.engine.root_directory import create_root_directory
from bookkeeping.engines import create_engine
from bookkeeping.metadata import is_dynamic_table
from bookkeeping.schema import metadata
from bookkeeping.scratch import scratch_database, server_url
from tests.conftest import BACKENDS

ALICE_PASSWORD = "alice's secret"
_HASHES = {"root": hash_password("root-pw"), "alice": hash_password(ALICE_PASSWORD)}
USERS = ["root", "anonymous", "alice", "bob", "carol"]


def reset(engine: Engine) -> None:
    """Empty the database (see the module docstring); then users root, anonymous, alice,
    bob (in group physicists), carol. Only root and alice have passwords."""
    dynamic = [name for name in sa.inspect(engine).get_table_names() if is_dynamic_table(name)]
    with engine.begin() as connection:
        for name in dynamic:
            connection.exec_driver_sql(
                f"DROP TABLE {connection.dialect.identifier_preparer.quote(name)}"
            )
    with engine.begin() as connection:
        for table in reversed(metadata.sorted_tables):
            # A table referring to itself (the directory tree) is unlinked first.
            linked = [fk.parent for fk in table.foreign_keys if fk.column.table is table]
            if linked:
                connection.execute(table.update().values({c.name: None for c in linked}))
            connection.execute(table.delete())
        create_root_directory(connection)  # as the schema makes it
        connection.execute(
            st.users.insert(), [{"name": n, "password_hash": _HASHES.get(n)} for n in USERS]
        )
        connection.execute(st.groups.insert().values(name="physicists"))
        bob = connection.scalar(sa.select(st.users.c.id).where(st.users.c.name == "bob"))
        group = connection.scalar(sa.select(st.groups.c.id))
        connection.execute(st.group_members.insert().values(group_id=group, user_id=bob))


@pytest.fixture(scope="session", params=BACKENDS)
def shared_engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    name: str = request.param
    with scratch_database(name, server_url(name)) as database:
        engine = create_engine(database.url)
        metadata.create_all(engine)
        try:
            yield engine
        finally:
            engine.dispose()


@pytest.fixture
def engine(shared_engine: Engine) -> Engine:
    """Overrides the suite-wide fixture: the shared database, emptied and re-populated."""
    reset(shared_engine)
    return shared_engine


@pytest.fixture
def catalogue(engine: Engine) -> Catalogue:
    return Catalogue(engine)


@pytest.fixture
def root(catalogue: Catalogue) -> Iterator[CatalogueSession]:
    session = catalogue.session("root")
    yield session
    session.close()


@pytest.fixture
def alice(catalogue: Catalogue) -> Iterator[CatalogueSession]:
    session = catalogue.session("alice")
    yield session
    session.close()
