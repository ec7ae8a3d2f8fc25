"""The shared test database is emptied before each test (conftest.py): after ``reset`` it
holds exactly what a fresh database holds, whatever the previous test left behind."""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa

from bookkeeping.amga_adapter.engine import system_tables as st
from bookkeeping.amga_adapter.engine.catalogue import Catalogue, CatalogueSession
from bookkeeping.engines import create_engine
from bookkeeping.schema import metadata
from bookkeeping.scratch import scratch_database, server_url

from .conftest import reset

_SURROGATE = {"id", "created_at"}  # ids keep growing, timestamps move: compared by name
_DIRECTORY_TABLE = re.compile(r"catd_(\d+)")


def _by_path(name: str, paths: dict[int, str]) -> str:
    """A directory table's name, and its indexes', with the directory's path for its id:
    ids keep growing across resets (conftest.py), so the root's table is ``catd_2`` in one
    database and ``catd_5`` in another."""
    return _DIRECTORY_TABLE.sub(
        lambda found: f"catd<{paths.get(int(found.group(1)), found.group(1))}>", name
    )


def _state(engine: sa.Engine) -> dict[str, Any]:
    """The tables, their indexes, and every row (without surrogate ids and timestamps),
    plus group membership by names."""
    inspector = sa.inspect(engine)
    state: dict[str, Any] = {}
    with engine.connect() as connection:
        paths = dict(
            connection.execute(sa.select(st.directories.c.id, st.directories.c.path)).all()
        )
        for name in sorted(inspector.get_table_names()):
            table = sa.Table(name, sa.MetaData(), autoload_with=connection)
            kept = [c for c in table.c if c.name not in _SURROGATE and not c.name.endswith("_id")]
            rows = connection.execute(sa.select(*kept)).all() if kept else []
            count = connection.scalar(sa.select(sa.func.count()).select_from(table))
            indexes = sorted(_by_path(i["name"] or "", paths) for i in inspector.get_indexes(name))
            state[_by_path(name, paths)] = (
                count,
                sorted(repr(tuple(row)) for row in rows),
                indexes,
            )
        members = (
            sa.select(st.groups.c.name, st.users.c.name)
            .select_from(st.group_members.join(st.groups).join(st.users))
            .order_by(st.groups.c.name, st.users.c.name)
        )
        state["members by name"] = [tuple(row) for row in connection.execute(members)]
    return state


def _leave_a_mess(catalogue: Catalogue, root: CatalogueSession) -> None:
    """Something in every system table, directory tables with columns and indexes, an
    orphan directory table, a user's open transaction and a row in a warehouse table."""
    root.createdir("/m")
    root.createdir("/m/sub")
    root.addattr("/m", "Size", "int")
    root.addattr("/m", "Name", "varchar(20)")
    root.addentries("/m", [(f"e{i}", {"Size": i, "Name": f"n{i}"}) for i in range(50)])
    root.acl_grant("/m", "group:physicists", "rw")
    root.sequence_create("ids", "/m")
    root.sequence_next("/m/ids")
    root.constraint_add_unique("/m", ["Name"])
    root.constraint_add_check("/m", "Size >= 0")
    root.create_index("/m", ["Size", "Name"])
    catalogue.add_user("root", "dave", "pw", groups=["physicists"])
    catalogue.add_group("root", "strangers")
    with catalogue.engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE catd_999999 (name VARCHAR(10))")
        connection.execute(metadata.tables["evtTypes"].insert(), [
            {"type_id": 1, "description": "d", "primary": "p", "decay": "x"}
        ])  # fmt: skip
    bob = catalogue.session("bob")
    bob.begin()
    bob.addentry("/m/uncommitted", {"Size": 1})
    bob.abort()


def test_reset_leaves_what_a_fresh_database_holds(
    engine: sa.Engine, catalogue: Catalogue, root: CatalogueSession
) -> None:
    # A database of its own on the same back-end, never used before.
    with scratch_database(catalogue.backend, server_url(catalogue.backend)) as scratch:
        fresh_engine = create_engine(scratch.url)
        try:
            metadata.create_all(fresh_engine)
            reset(fresh_engine)
            fresh = _state(fresh_engine)
        finally:
            fresh_engine.dispose()

    _leave_a_mess(catalogue, root)
    messy = _state(engine)
    assert any(name.startswith("catd") for name in messy)
    assert all(messy[t.name][0] > 0 for t in (st.indexes, st.constraints, st.sequences))

    reset(engine)
    assert _state(engine) == fresh
    # and the catalogue built on it starts from an empty root again
    again = Catalogue(engine).session("root")
    assert list(again.dir("/")) == []
    assert again.listattr("/") == []
    users = {user.name: user.groups for user in again.catalogue.list_users("root")}
    assert users == {
        "root": (),
        "anonymous": (),
        "alice": (),
        "bob": ("physicists",),
        "carol": (),
    }
