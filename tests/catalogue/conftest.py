"""Fixtures: a catalogue on each back-end with root, anonymous and a few users.

Creating a server database per test costs more than the tests themselves, so each back-end
gets one database per test session, emptied before every test (every catalogue table and
every directory table; users and groups back to the set below). Tests still see a fresh
catalogue: ``Catalogue(engine)`` creates the root directory anew.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bookkeeping.amga_adapter import system_tables as st
from bookkeeping.amga_adapter.catalogue import Catalogue, CatalogueSession
from bookkeeping.amga_adapter.passwords import hash_password
from bookkeeping.engines import create_engine
from bookkeeping.metadata import is_dynamic_table
from bookkeeping.schema import metadata
from bookkeeping.scratch import scratch_database, server_url
from tests.conftest import BACKENDS

ALICE_PASSWORD = "alice's secret"
_HASHES = {"root": hash_password("root-pw"), "alice": hash_password(ALICE_PASSWORD)}
USERS = ["root", "anonymous", "alice", "bob", "carol"]
_CATALOGUE_TABLES = [
    st.indexes,
    st.constraints,
    st.sequences,
    st.acls,
    st.attributes,
    st.directories,
    st.group_members,
    st.groups,
    st.users,
]


def reset(engine: Engine) -> None:
    """Empty the catalogue; then users root, anonymous, alice, bob (in group physicists),
    carol. Only root and alice have passwords."""
    dynamic = [name for name in sa.inspect(engine).get_table_names() if is_dynamic_table(name)]
    with engine.begin() as connection:
        for name in dynamic:
            connection.exec_driver_sql(
                f"DROP TABLE {connection.dialect.identifier_preparer.quote(name)}"
            )
    with engine.begin() as connection:
        # Children before parents: the directory tree's own foreign key needs them deepest
        # first, which descending ids give (a child is always created after its parent).
        for table in _CATALOGUE_TABLES:
            if table is st.directories:
                ids = connection.scalars(
                    sa.select(st.directories.c.id).order_by(st.directories.c.id.desc())
                ).all()
                for directory_id in ids:
                    connection.execute(table.delete().where(table.c.id == directory_id))
            else:
                connection.execute(table.delete())
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
