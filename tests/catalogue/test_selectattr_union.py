"""``CatalogueSession.selectattr_union``: selectattr over several directories as one
statement. The reference is ``selectattr`` run in each directory (as the current one),
concatenated, ordered and cut in Python."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
import sqlglot
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.dialects import mysql, oracle, postgresql, sqlite

from bookkeeping.amga_adapter.engine.catalogue import Catalogue, CatalogueSession
from bookkeeping.amga_adapter.engine.errors import (
    NoSuchAttribute,
    NoSuchDirectory,
    PermissionDenied,
)
from bookkeeping.amga_adapter.engine.permissions import EVERYBODY
from bookkeeping.amga_adapter.engine.resolver import SessionResolver
from bookkeeping.amga_adapter.query import QuerySyntaxError, QueryTypeError
from bookkeeping.amga_adapter.query import union as union_module
from bookkeeping.amga_adapter.query.union import compile_union

DIRECTORIES = ["/u/a", "/u/b", "/u/c"]
NAMES = ["alpha", "Beta", "beta", "caf\u00e9", "Zulu", "zulu", None]


def _fill(session: CatalogueSession, directories: list[str] = DIRECTORIES) -> None:
    session.createdir("/u")
    for d, directory in enumerate(directories):
        session.createdir(directory)
        session.addattr(directory, "Size", "int")
        session.addattr(directory, "Name", "varchar(20)")
        session.addattr(directory, "Made", "timestamp")
        session.addentries(
            directory,
            (
                (
                    f"{directory[-1]}{i}",
                    {
                        "Size": None if (i + d) % 5 == 0 else (i * 7 + d) % 6,
                        "Name": NAMES[(i + 2 * d) % len(NAMES)],
                        "Made": dt.datetime(2024, 1, 1) + dt.timedelta(hours=(i * 5 + d) % 9),
                    },
                )
                for i in range(8)
            ),
        )


@pytest.fixture
def filled(root: CatalogueSession) -> CatalogueSession:
    _fill(root)
    return root


def _reference(
    session: CatalogueSession,
    directories: list[str],
    items: list[str],
    where: str,
    order: list[tuple[str, bool]],
    limit: int | None,
    offset: int,
) -> list[tuple]:
    """selectattr in each directory; then ordered (NULL lowest, as the engine orders) and
    cut here. The order attributes are fetched too and dropped at the end."""
    keys = [attribute for attribute, _ in order]
    rows = []
    for directory in directories:
        session.cd(directory)
        try:
            rows.extend(session.selectattr([*items, *keys], where))
        finally:
            session.cd("/")
    for position in reversed(range(len(keys))):
        index, descending = len(items) + position, order[position][1]
        rows.sort(key=lambda row: (row[index] is not None, row[index]), reverse=descending)
    end = None if limit is None else offset + limit
    return [tuple(row[: len(items)]) for row in rows[offset:end]]


# Read-only: the fixture's data serves every example.
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    attribute=st.sampled_from(["Size", "Name", "Made", "FILE"]),
    descending=st.booleans(),
    limit=st.none() | st.integers(0, 30),
    offset=st.integers(0, 6),
    where=st.sampled_from(["", "Size > 1", 'Name like "%eta"', "Size is null or Size = 3"]),
    selected=st.sampled_from([["FILE", "Size"], ["Name"], ["FILE", "Name", "Made"]]),
)
def test_the_union_is_the_ordered_concatenation_of_each_directory(
    filled: CatalogueSession,
    attribute: str,
    descending: bool,
    limit: int | None,
    offset: int,
    where: str,
    selected: list[str],
) -> None:
    # FILE last makes the order total, so the page is one definite answer.
    order = [(attribute, descending), ("FILE", False)]
    text = f"{where} order by {attribute}{' desc' if descending else ''}, FILE"
    if limit is not None:
        text += f" limit {limit}"
    if offset:
        text += f" offset {offset}"
    got = list(filled.selectattr_union(DIRECTORIES, selected, text))
    assert got == _reference(filled, DIRECTORIES, selected, where, order, limit, offset)


def test_rows_can_name_their_directory_and_relative_paths_resolve(
    filled: CatalogueSession,
) -> None:
    filled.cd("/u")
    rows = list(
        filled.selectattr_union(
            ["a", "./b", "../u/c"], ["FILE"], 'FILE like "%1"', with_directory=True
        )
    )
    assert sorted(rows) == [("/u/a", "a1"), ("/u/b", "b1"), ("/u/c", "c1")]


def test_aggregates_are_per_directory(filled: CatalogueSession) -> None:
    rows = list(
        filled.selectattr_union(
            DIRECTORIES, ["count(FILE)", "sum(Size)", "max(Name)"], "", with_directory=True
        )
    )
    expected = []
    for directory in DIRECTORIES:
        [(count, total, highest)] = list(
            filled.selectattr(
                [f"count({directory}:FILE)", f"sum({directory}:Size)", f"max({directory}:Name)"]
            )
        )
        expected.append((directory, count, total, highest))
    assert sorted(rows) == expected


def test_grouped_items_order_the_union(filled: CatalogueSession) -> None:
    rows = list(filled.selectattr_union(DIRECTORIES, ["Size", "count(FILE)"], "order by Size desc"))
    sizes = [size for size, _ in rows]
    assert sizes == sorted(sizes, key=lambda s: (s is not None, s), reverse=True)
    assert sum(count for _, count in rows) == 24  # one row per (directory, size)
    assert len(rows) > len(set(sizes))


def test_distinct_makes_a_union_without_duplicates(filled: CatalogueSession) -> None:
    rows = list(filled.selectattr_union(DIRECTORIES, ["Name"], "order by Name distinct"))
    names = {n for n in NAMES}
    assert [name for (name,) in rows] == sorted(names, key=lambda n: (n is not None, n or ""))


def test_other_directories_in_the_condition_join_each_branch(filled: CatalogueSession) -> None:
    filled.createdir("/wanted")
    filled.addattr("/wanted", "Name", "varchar(20)")
    filled.addentry("/wanted/w", {"Name": "beta"})
    rows = list(
        filled.selectattr_union(
            DIRECTORIES, ["FILE"], "Name = /wanted:Name order by FILE", with_directory=True
        )
    )
    expected = [
        (directory, name)
        for directory in DIRECTORIES
        for (name,) in filled.selectattr([f"{directory}:FILE"], f'{directory}:Name = "beta"')
    ]
    assert rows == sorted(expected, key=lambda row: row[1])


def test_no_directories_no_rows_but_the_text_is_still_checked(root: CatalogueSession) -> None:
    assert list(root.selectattr_union([], ["Size"], "Size > 1 order by Size limit 3")) == []
    with pytest.raises(QuerySyntaxError):
        root.selectattr_union([], ["Size"], "Size >")
    with pytest.raises(QuerySyntaxError):
        root.selectattr_union([], [], "")


def test_long_unions_are_nested(filled: CatalogueSession, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(union_module, "UNION_FAN_OUT", 2)
    directories = [*DIRECTORIES, *DIRECTORIES, DIRECTORIES[0]]  # seven branches, three levels
    got = list(
        filled.selectattr_union(directories, ["FILE", "Size"], "order by Size, FILE limit 9")
    )
    order = [("Size", False), ("FILE", False)]
    assert got == _reference(filled, directories, ["FILE", "Size"], "", order, 9, 0)


# --- permissions ---------------------------------------------------------------------------


def _private(root: CatalogueSession) -> None:
    """/u/a readable by everybody, /u/b by nobody but root; in /u/a the entry a3 is
    readable by its owner (root) only."""
    _fill(root)
    root.acl_revoke("/u/b", EVERYBODY, "rwx")
    root.chmod("/u/b", "rwx", "---")
    root.chmod("/u/a/a3", "rw-", "---")


def test_a_directory_the_user_may_not_read_refuses_the_whole_union(
    root: CatalogueSession, catalogue: Catalogue
) -> None:
    _private(root)
    carol = catalogue.session("carol")
    try:
        with pytest.raises(PermissionDenied, match="/u/b"):
            list(carol.selectattr_union(["/u/a", "/u/b"], ["FILE"], ""))
        rows = [name for (name,) in carol.selectattr_union(["/u/a", "/u/c"], ["FILE"], "")]
    finally:
        carol.close()
    assert "a3" not in rows and "a2" in rows and "c3" in rows  # the entry's own rights hold
    everything = [name for (name,) in root.selectattr_union(["/u/a", "/u/b"], ["FILE"], "")]
    assert "a3" in everything and "b3" in everything


def test_unreadable_entries_do_not_count(root: CatalogueSession, catalogue: Catalogue) -> None:
    _private(root)
    carol = catalogue.session("carol")
    try:
        [(count,)] = list(carol.selectattr_union(["/u/a"], ["count(FILE)"], ""))
    finally:
        carol.close()
    assert count == 7


# --- bad and hostile input -----------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        'x"; DROP TABLE cat_directories; --',
        "' OR '1'='1",
        '\\" or 1=1 --',
        "caf\u00e9 \u2603",
    ],
)
def test_hostile_values_are_values(filled: CatalogueSession, value: str) -> None:
    literal = '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    assert list(filled.selectattr_union(DIRECTORIES, ["FILE"], f"Name = {literal}")) == []
    assert len(list(filled.selectattr_union(DIRECTORIES, ["FILE"], ""))) == 24


@pytest.mark.parametrize(
    ("directories", "items", "condition", "error"),
    [
        (["/u/a", "/nowhere"], ["FILE"], "", NoSuchDirectory),
        (["/u/a", "/u/b"], ["Missing"], "", NoSuchAttribute),
        (["/u/a"], ["FILE"], "Size >", QuerySyntaxError),
        (["/u/a"], ["FILE"], "order by Size limit -1", QuerySyntaxError),
        (["/u/a"], ["FILE"], "limit 99999999999999999999999", QuerySyntaxError),
        (["/u/a"], ["FILE; DROP TABLE cat_users"], "", QuerySyntaxError),
        (["/u/a"], ["Size", "count(FILE)"], "order by Name", QueryTypeError),
        (["/u/a"], ["Size"], "order by Name distinct", QueryTypeError),
        (["/u/a\x00"], ["FILE"], "", Exception),
        (["/" + "x" * 800], ["FILE"], "", NoSuchDirectory),
    ],
)
def test_bad_input_is_a_clear_error_and_changes_nothing(
    filled: CatalogueSession,
    directories: list[str],
    items: list[str],
    condition: str,
    error: type[Exception],
) -> None:
    before = list(filled.selectattr_union(DIRECTORIES, ["FILE", "Size", "Name"], "order by FILE"))
    with pytest.raises(error):
        list(filled.selectattr_union(directories, items, condition))
    after = list(filled.selectattr_union(DIRECTORIES, ["FILE", "Size", "Name"], "order by FILE"))
    assert after == before


def test_directories_must_agree_on_the_selected_types(filled: CatalogueSession) -> None:
    filled.createdir("/u/odd")
    filled.addattr("/u/odd", "Size", "varchar(8)")
    with pytest.raises(QueryTypeError, match="/u/odd"):
        list(filled.selectattr_union(["/u/a", "/u/odd"], ["Size"], ""))


def test_one_string_is_not_a_list_of_directories(filled: CatalogueSession) -> None:
    with pytest.raises(TypeError):
        filled.selectattr_union("/u/a", ["FILE"], "")  # type: ignore[arg-type]


# --- statements ----------------------------------------------------------------------------


def _statements(engine: sa.Engine, call) -> int:  # type: ignore[no-untyped-def]
    seen: list[str] = []

    def listener(*arguments: object) -> None:
        statement = str(arguments[2])
        # Not SQLite's emulated BEGIN (engines.py), nor the schema version's read (one per
        # operation, whatever the number of directories: schema_version.py).
        if not statement.startswith("BEGIN") and "cat_schema_version" not in statement:
            seen.append(statement)

    sa.event.listen(engine, "before_cursor_execute", listener)
    try:
        call()
    finally:
        sa.event.remove(engine, "before_cursor_execute", listener)
    return len(seen)


def test_one_statement_whatever_the_number_of_directories(
    root: CatalogueSession, catalogue: Catalogue
) -> None:
    many = [f"/u/d{i}" for i in range(12)]
    _fill(root, many)

    def select(directories: list[str]) -> Iterator[tuple]:
        return iter(list(root.selectattr_union(directories, ["FILE"], "order by FILE limit 5")))

    select(many)  # cached schema
    assert _statements(catalogue.engine, lambda: select(many[:2])) == 1
    assert _statements(catalogue.engine, lambda: select(many)) == 1
    # With the schema cache expired, the directories are loaded together, not one by one.
    catalogue.cache.invalidate()
    cold_two = _statements(catalogue.engine, lambda: select(many[:2]))
    catalogue.cache.invalidate()
    assert _statements(catalogue.engine, lambda: select(many)) == cold_two == 5


def test_inside_a_transaction_the_union_sees_its_own_writes(filled: CatalogueSession) -> None:
    filled.begin()
    try:
        filled.addentry("/u/b/new", {"Size": 99})
        rows = list(filled.selectattr_union(DIRECTORIES, ["FILE"], "Size = 99"))
    finally:
        filled.abort()
    assert rows == [("new",)]
    assert list(filled.selectattr_union(DIRECTORIES, ["FILE"], "Size = 99")) == []


SQLGLOT_DIALECTS = {
    "oracle": "oracle",
    "postgresql": "postgres",
    "mysql": "mysql",
    "sqlite": "sqlite",
}
# Each dialect's way of cutting a page: in every branch (offset + limit rows) and at the end.
PAGE_SQL = {
    "oracle": (" FETCH FIRST 4 ROWS ONLY)", " OFFSET 1 ROWS FETCH FIRST 3 ROWS ONLY"),
    "postgresql": (" LIMIT 4)", " LIMIT 3 OFFSET 1"),
    "mysql": (" LIMIT 4)", " LIMIT 1, 3"),
    "sqlite": (" LIMIT 4 OFFSET 0)", " LIMIT 3 OFFSET 1"),
}
DESCENDING_SQL = {
    "oracle": "ORDER BY u.item_0 DESC NULLS LAST",
    "postgresql": 'ORDER BY u.item_0 COLLATE "C" DESC NULLS LAST',
    "mysql": "ORDER BY u.item_0 COLLATE utf8mb4_bin DESC",
    "sqlite": "ORDER BY u.item_0 COLLATE BINARY DESC",
}


@pytest.mark.parametrize(
    "dialect",
    [oracle.dialect(), postgresql.dialect(), mysql.dialect(), sqlite.dialect()],
    ids=lambda d: d.name,
)
def test_the_statement_compiles_for_every_dialect(
    filled: CatalogueSession, dialect: sa.Dialect
) -> None:
    """Every dialect gets a statement its parser (sqlglot's) accepts, with the page cut in
    every branch and at the end in the dialect's own syntax."""
    with filled.catalogue.engine.connect() as connection:
        statement = compile_union(
            DIRECTORIES,
            ["FILE", "count(FILE)"],
            "Size > 1 order by FILE desc limit 3 offset 1",
            SessionResolver(filled.core, connection),
            with_directory=True,
        )
    text = str(statement.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
    flat = " ".join(text.split())
    parsed = sqlglot.parse_one(flat, read=SQLGLOT_DIALECTS[dialect.name])
    assert isinstance(parsed, sqlglot.exp.Select)
    assert len(list(parsed.find_all(sqlglot.exp.Union))) == len(DIRECTORIES) - 1
    assert flat.count("UNION ALL") == len(DIRECTORIES) - 1
    branch_page, page = PAGE_SQL[dialect.name]
    assert flat.count(branch_page) == len(DIRECTORIES)
    assert flat.endswith(DESCENDING_SQL[dialect.name] + page)
    assert flat.count("GROUP BY") == len(DIRECTORIES)
    if dialect.name == "oracle":
        # Oracle refuses AS before a table alias and has no LIMIT.
        assert " AS b0" not in flat and " AS u " not in flat and "LIMIT" not in flat
