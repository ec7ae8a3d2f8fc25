"""Two Catalogue objects on one database behave like two server processes."""

from __future__ import annotations

import time

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bookkeeping.amga_adapter.engine.catalogue import Catalogue, CatalogueSession
from bookkeeping.amga_adapter.engine.errors import NoSuchAttribute, PermissionDenied
from bookkeeping.amga_adapter.engine.permissions import EVERYBODY


@pytest.fixture
def second(engine: Engine, catalogue: Catalogue) -> CatalogueSession:
    return Catalogue(engine).session("root")


def _count_statements(engine: Engine) -> list[str]:
    """The statements sent from now on, except the schema version's read (one per
    operation, schema_version.py), which these tests do not count."""
    statements: list[str] = []
    sa.event.listen(
        engine,
        "before_cursor_execute",
        lambda conn, cursor, statement, *args: (
            None if "cat_schema_version" in statement else statements.append(statement)
        ),
    )
    return statements


def test_an_existing_attribute_costs_no_extra_round_trip(
    root: CatalogueSession, engine: Engine
) -> None:
    root.createdir("/d")
    root.addattr("/d", "x", "int")
    root.addentry("/d/warm", {"x": 1}, extend=True)
    statements = _count_statements(engine)
    root.addentry("/d/e", {"x": 2}, extend=True)
    inserts = [s for s in statements if s.lstrip().upper().startswith("INSERT")]
    others = [
        s for s in statements if not s.lstrip().upper().startswith(("INSERT", "BEGIN", "SAVEPOINT"))
    ]
    assert len(inserts) == 1
    assert others == [], others


def test_attribute_added_elsewhere_is_found_on_a_cache_miss(
    root: CatalogueSession, second: CatalogueSession
) -> None:
    root.createdir("/d")
    assert second.listattr("/d") == []
    second.addentry("/d/warm", {})  # caches /d in the second catalogue
    root.addattr("/d", "x", "int")
    second.addentry("/d/e", {"x": 5})
    assert list(second.getattr("/d/e", ["x"])) == [("e", [5])]


def test_attribute_removed_elsewhere_is_reloaded_after_the_error(
    root: CatalogueSession, second: CatalogueSession
) -> None:
    root.createdir("/d")
    root.addattr("/d", "x", "int")
    root.addattr("/d", "y", "int")
    second.addentry("/d/e", {"x": 1, "y": 2})
    root.removeattr("/d", "y", force=True)
    # second's cache still lists y: the statement fails, the schema reloads, the retry works
    assert second.setattr("/d/e", {"x": 3}) == 1
    with pytest.raises(NoSuchAttribute):
        second.setattr("/d/e", {"y": 3})
    assert list(second.getattr("/d/e", ["x"])) == [("e", [3])]


def test_directory_recreated_elsewhere_is_reloaded(
    root: CatalogueSession, second: CatalogueSession
) -> None:
    root.createdir("/d")
    second.addentry("/d/old", {})
    root.rmdir("/d", recursive=True)
    root.createdir("/d")
    root.addattr("/d", "x", "int")
    second.addentry("/d/new", {"x": 1})
    assert list(root.dir("/d")) == [("/d/new", "entry")]


def test_a_read_retried_on_a_reloaded_schema_works_inside_a_reading_block(
    root: CatalogueSession, second: CatalogueSession
) -> None:
    root.createdir("/d")
    root.addattr("/d", "x", "int")
    root.addentry("/d/old", {"x": 1})
    assert list(second.getattr("/d/old", ["x"])) == [("old", [1])]  # second caches /d
    root.rmdir("/d", recursive=True)
    root.createdir("/d")
    root.addattr("/d", "x", "int")
    root.addentry("/d/new", {"x": 2})
    with second.reading():
        # The first statement fails on the dropped table; on PostgreSQL the retry works
        # only because the failed transaction was rolled back.
        assert list(second.selectattr(["/d:x"], "")) == [(2,)]
        assert list(second.getattr("/d/new", ["x"])) == [("new", [2])]


def test_acl_changes_elsewhere_apply_at_the_next_operation(
    engine: Engine, catalogue: Catalogue, root: CatalogueSession
) -> None:
    root.createdir("/d")
    fresh = Catalogue(engine).session("alice")  # another process
    with pytest.raises(PermissionDenied):
        fresh.addentry("/d/e", {})
    root.acl_grant("/d", "alice", "rw")
    fresh.addentry("/d/e", {})
    root.acl_revoke("/d", "alice", "w")
    with pytest.raises(PermissionDenied):
        fresh.addentry("/d/f", {})


def test_queries_see_attributes_added_elsewhere(
    root: CatalogueSession, second: CatalogueSession
) -> None:
    root.createdir("/d")
    second.addentry("/d/e", {})  # caches /d without the attribute
    root.addattr("/d", "Size", "int")
    root.setattr("/d/e", {"Size": 4})
    assert list(second.selectattr(["/d:FILE", "/d:Size"], "/d:Size > 3")) == [("e", 4)]
    assert list(second.find("/d", "Size = 4")) == ["/d/e"]


def _physicists_only(root: CatalogueSession) -> None:
    """/g: root's, group physicists may read it, nobody else (alice is not a member)."""
    root.createdir("/g")
    root.chgrp("/g", "physicists")
    root.chmod("/g", "rwx", "r-x")
    root.acl_revoke("/g", EVERYBODY, "rwx")


def test_opening_a_session_again_costs_no_round_trip(catalogue: Catalogue, engine: Engine) -> None:
    catalogue.session("alice").close()
    statements = _count_statements(engine)
    catalogue.session("alice").close()
    assert statements == []


def test_a_group_membership_added_in_this_process_counts_at_once(
    catalogue: Catalogue, root: CatalogueSession
) -> None:
    _physicists_only(root)
    with pytest.raises(PermissionDenied):
        list(catalogue.session("alice").dir("/g"))
    catalogue.add_group_member("root", "physicists", "alice")
    assert list(catalogue.session("alice").dir("/g")) == []


def test_a_group_membership_added_elsewhere_counts_at_the_next_operation(
    engine: Engine, catalogue: Catalogue, root: CatalogueSession
) -> None:
    _physicists_only(root)
    here = Catalogue(engine)  # another process: no time to live, the schema version
    with pytest.raises(PermissionDenied):
        list(here.session("alice").dir("/g"))
    catalogue.add_group_member("root", "physicists", "alice")  # bumps the version
    assert list(here.session("alice").dir("/g")) == []


def test_a_cache_has_no_time_to_live(
    engine: Engine, root: CatalogueSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A session after an idle hour sends what a warm one sends: the version's read."""
    root.createdir("/d")
    root.addattr("/d", "x", "int")
    list(root.selectattr(["/d:x"], ""))
    statements: list[str] = []

    def listener(conn: object, cursor: object, statement: str, *args: object) -> None:
        if not statement.startswith("BEGIN"):  # SQLite's emulated BEGIN (engines.py)
            statements.append(statement)

    sa.event.listen(engine, "before_cursor_execute", listener)
    try:
        list(root.selectattr(["/d:x"], ""))
        warm = list(statements)
        statements.clear()
        later = time.monotonic() + 3600.0
        monkeypatch.setattr(time, "monotonic", lambda: later)
        list(root.selectattr(["/d:x"], ""))
    finally:
        sa.event.remove(engine, "before_cursor_execute", listener)
    assert statements == warm
    assert len(warm) == 2 and "cat_schema_version" in warm[0]
