"""Ordered indexes on directory attributes (engine extension): created idempotently, listed,
dropped, refused on bad input without a trace, guarded by the directory's rights, gone with
their attribute or directory, safe under concurrent creation, and shaped so that the
database reads a compiled ``order by`` from them (compile-checked for Oracle too)."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import mysql, oracle, postgresql, sqlite

from bookkeeping.amga_adapter.engine import system_tables as st
from bookkeeping.amga_adapter.engine.catalogue import Catalogue, CatalogueSession
from bookkeeping.amga_adapter.engine.directory_info import Attribute, table_name
from bookkeeping.amga_adapter.engine.directory_tables import (
    IndexKey,
    create_index_ddl,
    drop_index_ddl,
)
from bookkeeping.amga_adapter.engine.errors import (
    InvalidName,
    InvalidType,
    NoSuchAttribute,
    NoSuchDirectory,
    NoSuchIndex,
    PermissionDenied,
    SchemaChangeInTransaction,
)
from bookkeeping.amga_adapter.engine.indexes import IndexDescription
from bookkeeping.amga_adapter.engine.types import parse_type

HOSTILE = ["Order", 'a"b; DROP TABLE x; --', "na\u00efve \u2603", "Size desc", "`x`", "GROUP"]


@pytest.fixture
def files(root: CatalogueSession) -> CatalogueSession:
    root.createdir("/files")
    root.addattr("/files", "Size", "bigint")
    root.addattr("/files", "Name", "varchar(255)")
    root.addattr("/files", "Note", "text")
    root.addattr("/files", "Wide", "varchar(600)")
    return root


def _database_indexes(engine: sa.Engine, session: CatalogueSession, path: str) -> set[str]:
    """The engine's indexes the database has on the table of ``path``."""
    with engine.connect() as connection:
        directory_id = connection.scalar(
            sa.select(st.directories.c.id).where(st.directories.c.path == path)
        )
        found = sa.inspect(connection).get_indexes(table_name(directory_id))
    return {index["name"] for index in found if index["name"].startswith("ix_")}


def _rows(engine: sa.Engine) -> int:
    with engine.connect() as connection:
        return int(connection.scalar(sa.select(sa.func.count()).select_from(st.indexes)) or 0)


def test_create_is_idempotent_and_listed(engine: sa.Engine, files: CatalogueSession) -> None:
    name = files.create_index("/files", ["Size", "Name"], descending=["Size"])
    assert files.create_index("/files", ["Size", "Name"], descending=["Size"]) == name
    other = files.create_index("/files", ["Size", "Name"])  # other directions: another index
    assert other != name
    assert files.list_indexes("/files") == [
        IndexDescription(name, ("Size", "Name"), (True, False)),
        IndexDescription(other, ("Size", "Name"), (False, False)),
    ]
    assert _database_indexes(engine, files, "/files") == {name, other}
    assert _rows(engine) == 2


def test_drop_removes_the_index_and_refuses_unknown_names(
    engine: sa.Engine, files: CatalogueSession
) -> None:
    name = files.create_index("/files", ["Name"])
    kept = files.create_index("/files", ["Size"])
    files.drop_index("/files", name)
    assert [i.name for i in files.list_indexes("/files")] == [kept]
    assert _database_indexes(engine, files, "/files") == {kept}
    for bad in (name, "ix_catd_1_1; DROP TABLE cat_users", "", "x" * 10_000, kept.upper()):
        with pytest.raises(NoSuchIndex):
            files.drop_index("/files", bad)
    assert [i.name for i in files.list_indexes("/files")] == [kept]
    with pytest.raises(NoSuchDirectory):
        files.drop_index("/nowhere", kept)


@pytest.mark.parametrize(
    ("attributes", "descending", "error"),
    [
        ([], (), InvalidName),
        (["Size", "Size"], (), InvalidName),
        (["Size"], ["Name"], InvalidName),
        (["Size", "Missing"], (), NoSuchAttribute),
        (["FILE"], (), NoSuchAttribute),
        (["Note"], (), InvalidType),  # text: no bounded key
        (["Wide"], (), InvalidType),  # wider than the databases' key limits
        (["Name", "Size", "Wide"], (), InvalidType),
        ([f"a{i}" for i in range(17)], (), InvalidName),
        ("Size", (), TypeError),
        ([7], (), TypeError),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(
    engine: sa.Engine,
    files: CatalogueSession,
    attributes: list[str],
    descending: list[str],
    error: type[Exception],
) -> None:
    with pytest.raises(error):
        files.create_index("/files", attributes, descending=descending)
    assert files.list_indexes("/files") == []
    assert _database_indexes(engine, files, "/files") == set()
    assert _rows(engine) == 0


def test_hostile_directory_and_attribute_names(engine: sa.Engine, root: CatalogueSession) -> None:
    path = '/odd "dir"; DROP TABLE cat_users; -- \u2603'
    root.createdir(path)
    for name in HOSTILE:
        root.addattr(path, name, "varchar(40)")
    name = root.create_index(path, HOSTILE, descending=HOSTILE[::2])
    assert root.list_indexes(path) == [
        IndexDescription(name, tuple(HOSTILE), tuple(i % 2 == 0 for i in range(len(HOSTILE))))
    ]
    root.addentries(path, [(f"e{i}", {h: f"{h}{i}" for h in HOSTILE}) for i in range(5)])
    root.cd(path)  # such a path is no reference token of the query language
    ordered = [r[0] for r in root.selectattr(["FILE"], "order by Order desc")]
    assert ordered == [f"e{i}" for i in reversed(range(5))]
    root.drop_index(path, name)
    assert root.list_indexes(path) == []
    with engine.connect() as connection:  # the users table is still there
        assert connection.scalar(sa.select(sa.func.count()).select_from(st.users))


def test_rights_are_checked_by_the_engine(
    engine: sa.Engine, catalogue: Catalogue, files: CatalogueSession
) -> None:
    files.chmod("/files", "rwx", "r-x")
    existing = files.create_index("/files", ["Size"])
    bob = catalogue.session("bob")  # "other": r-x through the inherited ACL, no w
    assert [i.name for i in bob.list_indexes("/files")] == [existing]
    with pytest.raises(PermissionDenied):
        bob.create_index("/files", ["Name"])
    with pytest.raises(PermissionDenied):
        bob.drop_index("/files", existing)
    files.acl_revoke("/files", "system:anyuser", "rwx")
    with pytest.raises(PermissionDenied):
        bob.list_indexes("/files")
    assert _database_indexes(engine, files, "/files") == {existing}
    assert _rows(engine) == 1
    files.acl_grant("/files", "bob", "rw")
    assert bob.create_index("/files", ["Name"]).startswith("ix_catd_")


def test_removing_an_attribute_drops_its_indexes(
    engine: sa.Engine, files: CatalogueSession
) -> None:
    on_name = files.create_index("/files", ["Name", "Size"])
    on_size = files.create_index("/files", ["Size"])
    files.addentry("/files/a", {"Name": "n", "Size": 1})
    files.removeattr("/files", "Name", force=True)  # SQLite refuses to drop indexed columns
    assert [i.name for i in files.list_indexes("/files")] == [on_size]
    assert _database_indexes(engine, files, "/files") == {on_size}
    assert on_name not in _database_indexes(engine, files, "/files")


def test_removing_the_directory_forgets_its_indexes(
    engine: sa.Engine, files: CatalogueSession
) -> None:
    files.create_index("/files", ["Size"])
    files.rmdir("/files", recursive=True)
    assert _rows(engine) == 0
    files.createdir("/files")
    files.addattr("/files", "Size", "bigint")
    assert files.list_indexes("/files") == []


def test_concurrent_creation_of_one_index(
    engine: sa.Engine, catalogue: Catalogue, files: CatalogueSession
) -> None:
    names: list[str] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def create() -> None:
        try:
            session = Catalogue(engine).session("root")
            barrier.wait()
            names.append(session.create_index("/files", ["Size", "Name"]))
        except BaseException as exc:  # re-raised below
            errors.append(exc)

    threads = [threading.Thread(target=create) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(names) == 4 and len(set(names)) == 1
    assert _database_indexes(engine, files, "/files") == set(names)
    assert _rows(engine) == 1


def test_inside_a_transaction(
    engine: sa.Engine, catalogue: Catalogue, files: CatalogueSession
) -> None:
    files.begin()
    if catalogue.backend == "mariadb":
        with pytest.raises(SchemaChangeInTransaction):
            files.create_index("/files", ["Size"])
        files.abort()
    else:
        files.create_index("/files", ["Size"])
        files.abort()  # the DDL was part of the transaction
    assert files.list_indexes("/files") == []
    assert _database_indexes(engine, files, "/files") == set()
    assert _rows(engine) == 0


def _plan(engine: sa.Engine, session: CatalogueSession, items: list[str], condition: str) -> str:
    """The database's plan of the statement ``selectattr(items, condition)`` sends."""
    sent: list[tuple[str, object]] = []

    def capture(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith("SELECT") and "catd_" in statement:
            sent.append((statement, parameters))

    sa.event.listen(engine, "before_cursor_execute", capture)
    try:
        list(session.selectattr(items, condition))
    finally:
        sa.event.remove(engine, "before_cursor_execute", capture)
    statement, parameters = sent[-1]
    prefix = {"sqlite": "EXPLAIN QUERY PLAN ", "postgresql": "EXPLAIN "}.get(
        engine.dialect.name, "EXPLAIN "
    )
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":  # a small table: make any alternative dear
            connection.exec_driver_sql("SET enable_seqscan = off")
            connection.exec_driver_sql("SET enable_sort = off")
        if engine.dialect.name == "sqlite":
            # EXPLAIN reads no table, so a pooled connection would plan with the schema it
            # saw last (before the index): a read brings it up to date.
            connection.exec_driver_sql("SELECT count(*) FROM sqlite_master").all()
        rows = connection.exec_driver_sql(prefix + statement, parameters).all()  # type: ignore[arg-type]
    return "\n".join(" ".join(str(v) for v in row) for row in rows)


@pytest.mark.parametrize("descending", [False, True])
def test_an_ordered_page_is_read_from_the_index(
    engine: sa.Engine, catalogue: Catalogue, files: CatalogueSession, descending: bool
) -> None:
    """The index's order is the language's (NULL lowest, strings by code point): the
    database walks it for a compiled ``order by ... limit``, with no sort of its own."""
    values = ["b", "B", "\u00e9", "a", None, "\U0001f600", "", "ab"]
    files.addentries(
        "/files", [(f"e{i}", {"Name": v, "Size": i}) for i, v in enumerate(values * 30)]
    )
    direction = " desc" if descending else ""
    condition = f"order by /files:Name{direction}, /files:Size limit 7"
    items = ["/files:FILE", "/files:Name", "/files:Size"]
    before = list(files.selectattr(items, condition))
    name = files.create_index("/files", ["Name", "Size"], descending=["Name"] if descending else [])
    assert list(files.selectattr(items, condition)) == before
    if catalogue.backend == "mariadb":
        return  # varchar(255) is TEXT there: a prefix index, which cannot return rows in order
    plan = _plan(engine, files, items, condition)
    assert name in plan
    assert "TEMP B-TREE" not in plan and "Sort" not in plan


def test_numbers_are_read_in_order_on_every_backend(
    engine: sa.Engine, files: CatalogueSession
) -> None:
    files.addentries("/files", [(f"e{i}", {"Size": (i * 7) % 50}) for i in range(200)])
    name = files.create_index("/files", ["Size"], descending=["Size"])
    plan = _plan(engine, files, ["/files:FILE"], "order by /files:Size desc limit 5")
    assert name in plan
    assert "filesort" not in plan and "TEMP B-TREE" not in plan and "Sort" not in plan


@pytest.mark.parametrize(
    ("dialect", "create", "drop"),
    [
        (
            postgresql.dialect(),
            'CREATE INDEX IF NOT EXISTS ix_catd_3_7 ON catd_3 (a12 COLLATE "C" DESC NULLS LAST, '
            'a5 NULLS FIRST, a6 COLLATE "C" NULLS FIRST)',
            "DROP INDEX IF EXISTS ix_catd_3_7",
        ),
        (
            mysql.dialect(),
            "CREATE INDEX IF NOT EXISTS ix_catd_3_7 ON catd_3 (a12(255) DESC, a5, a6)",
            "DROP INDEX IF EXISTS ix_catd_3_7 ON catd_3",
        ),
        (
            sqlite.dialect(),
            "CREATE INDEX IF NOT EXISTS ix_catd_3_7 ON catd_3 (a12 DESC, a5, a6)",
            "DROP INDEX IF EXISTS ix_catd_3_7",
        ),
        (
            oracle.dialect(),
            "CREATE INDEX ix_catd_3_7 ON catd_3 (a12 DESC, a5, a6)",
            "DROP INDEX ix_catd_3_7",
        ),
    ],
    ids=lambda value: getattr(value, "name", None) or "sql",
)
def test_index_ddl_for_every_dialect(dialect: sa.Dialect, create: str, drop: str) -> None:
    keys = [
        IndexKey(Attribute(12, "FILNAM", parse_type("varchar(255)")), descending=True),
        IndexKey(Attribute(5, "FILE_ID", parse_type("bigint"))),
        IndexKey(Attribute(6, "Short", parse_type("varchar(10)"))),
    ]
    assert " ".join(str(create_index_ddl(3, 7, keys).compile(dialect=dialect)).split()) == create
    assert " ".join(str(drop_index_ddl(3, 7).compile(dialect=dialect)).split()) == drop
