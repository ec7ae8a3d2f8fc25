"""Views: SQL written for name/value and partitioned tables, run on a catalogue that keeps an
attribute per name and a directory per partition, gives the rows SQLite gives for the
relational shape of the same data (in-process and over amga://, every back-end); and the
translation reads a fixed-name alias as its attribute, in one ``selectattr``."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from typing import Any

import pytest

from bookkeeping import jdbc_compat as driver
from bookkeeping.amga_adapter.engine.catalogue import Catalogue
from bookkeeping.jdbc_compat.fetch import PartitionFetch, TableFetch, UnfoldFetch
from bookkeeping.jdbc_compat.plans import JoinRows, SelectRows
from bookkeeping.jdbc_compat.translate import translate
from bookkeeping.jdbc_compat.views import NameValueTable, PartitionedTable, RenamedTable
from tests.jdbc_compat.conftest import Connect
from tests.jdbc_compat.static_schema import StaticSchema


def _encode(name: str) -> str:
    return "Q_" + name.replace(".", "_") if "." in name else name


def _decode(attribute: str) -> str:
    return attribute[2:].replace("_", ".") if attribute.startswith("Q_") else attribute


VIEWS = {
    "params": NameValueTable("pdir", ("owner", "OWNER"), attribute_of=_encode, name_of=_decode),
    "copies": PartitionedTable(
        "sites",
        "site",
        (("owner", "OWNER", "int"), ("kind", "KIND", "varchar(8)")),
        not_null=("kind",),  # an empty kind reads as "" over amga:// too
    ),
    "quality": RenamedTable("qdir", (("owner", "OWNER"), ("name", "Grp"), ("value", "Flag"))),
}

# The relational shape (SQLite) and the catalogue's shape of the same data.
OWNERS = [(1,), (2,), (3,), (4,)]
PARAMS = {  # owner -> {name: value}; owner 4 has no parameter at all
    1: {"GUID": "g-1", "Size": 100, "Note": "first", "v.x": "dotted"},
    2: {"GUID": "g-2", "Size": 250},
    3: {"GUID": "g-3", "Size": 100, "Note": "third"},
}
COPIES = {
    "CERN": [(1, "tape"), (2, "tape"), (3, "disk")],
    "RAL": [(1, "disk"), (3, "recall"), (2, "")],
}
QUALITY = [(1, "DQ", "OK"), (2, "DQ", "BAD"), (2, "RICH", "OK")]

QUERIES: list[tuple[str, tuple[Any, ...]]] = [
    ("SELECT p.owner, p.value FROM params p WHERE p.name = 'GUID' ORDER BY p.owner", ()),
    ("SELECT value FROM params WHERE owner = ? AND name = ?", (1, "Size")),
    ("SELECT value FROM params WHERE owner = ? AND name = ?", (1, "Nope")),
    ("SELECT value FROM params WHERE owner = ? AND name = ?", (2, "GUID")),
    ("SELECT value FROM params WHERE owner = ? AND name = ?", (3, "Size")),
    ("SELECT value FROM params WHERE name = ?", ("v.x",)),
    ("SELECT name, value FROM params WHERE owner = ? ORDER BY name", (1,)),
    ("SELECT owner, name FROM params WHERE value = '100' ORDER BY owner, name", ()),
    ("SELECT * FROM params WHERE name = 'Note' ORDER BY owner", ()),
    (
        "SELECT a.value, b.value FROM params a JOIN params b ON a.owner = b.owner "
        "AND b.name = 'Size' WHERE a.name = ? ORDER BY 1",
        ("GUID",),
    ),
    ("SELECT owner FROM params WHERE name = 'Size' AND value = ?", ("0100",)),
    ("SELECT owner FROM params WHERE name = 'Size' AND value = ? ORDER BY 1", ("100",)),
    ("SELECT owner FROM params WHERE name = 'Size' AND value <> ? ORDER BY 1", ("100",)),
    ("SELECT COUNT(*), SUM(CAST(value AS BIGINT)) FROM params WHERE name = 'Size'", ()),
    (
        "SELECT o.id, n.value FROM owners o LEFT JOIN params n ON n.owner = o.id "
        "AND n.name = 'Note' ORDER BY o.id",
        (),
    ),
    (
        "SELECT o.id, s.value, n.value FROM owners o JOIN params s ON s.owner = o.id "
        "AND s.name = 'Size' LEFT JOIN params n ON n.owner = o.id AND n.name = 'Note' "
        "ORDER BY o.id",
        (),
    ),
    (
        "SELECT o.id, n.name, n.owner FROM owners o LEFT JOIN params n ON n.owner = o.id "
        "AND n.name = 'Note' ORDER BY o.id",
        (),
    ),
    ("SELECT site, kind FROM copies WHERE owner = ? ORDER BY site, kind", (1,)),
    ("SELECT site, kind FROM copies WHERE owner = ? ORDER BY site, kind", (2,)),
    ("SELECT owner, kind FROM copies WHERE site = 'RAL' ORDER BY owner", ()),
    ("SELECT site, COUNT(*) FROM copies GROUP BY site ORDER BY site", ()),
    (
        "SELECT o.id, c.site FROM owners o LEFT JOIN copies c ON c.owner = o.id "
        "AND c.kind = 'disk' ORDER BY 1, 2",
        (),
    ),
    (
        "SELECT o.id FROM owners o WHERE EXISTS (SELECT * FROM copies c "
        "WHERE c.owner = o.id AND c.kind IN ('disk', 'recall')) ORDER BY o.id",
        (),
    ),
    (
        "SELECT o.id FROM owners o WHERE NOT EXISTS (SELECT * FROM params p "
        "WHERE p.owner = o.id AND p.name = 'Note') ORDER BY o.id",
        (),
    ),
    (
        "SELECT o.id FROM owners o WHERE EXISTS (SELECT * FROM params p WHERE p.owner = o.id "
        "AND p.name = 'Size' AND p.value = ?) ORDER BY o.id",
        ("100",),
    ),
    (
        "SELECT o.id, s.value FROM owners o JOIN params s ON s.owner = o.id AND s.name = 'GUID' "
        "WHERE EXISTS (SELECT * FROM params p WHERE p.owner = o.id AND p.name = 'Size' "
        "AND CAST(p.value AS BIGINT) BETWEEN ? AND ?) ORDER BY o.id",
        (150, 300),
    ),
    (
        "SELECT o.id FROM owners o WHERE EXISTS (SELECT * FROM params p WHERE p.owner = o.id "
        "AND p.name = 'Note') OR o.id = 2 ORDER BY o.id",
        (),
    ),
    ("SELECT owner, name, value FROM quality WHERE name = 'DQ' ORDER BY owner", ()),
    ("SELECT q.value FROM quality q WHERE q.owner = ? ORDER BY q.name", (2,)),
]


@pytest.fixture
def pair(
    connect: Connect, catalogue: Catalogue
) -> Iterator[tuple[sqlite3.Connection, driver.Connection]]:
    reference = sqlite3.connect(":memory:")
    reference.executescript(
        "CREATE TABLE owners (id INT); CREATE TABLE params (owner INT, name TEXT, value TEXT);"
        "CREATE TABLE copies (owner INT, site TEXT, kind TEXT);"
        "CREATE TABLE quality (owner INT, name TEXT, value TEXT);"
    )
    reference.executemany("INSERT INTO owners VALUES (?)", OWNERS)
    reference.executemany(
        "INSERT INTO params VALUES (?, ?, ?)",
        [(o, n, str(v)) for o, found in PARAMS.items() for n, v in found.items()],
    )
    reference.executemany(
        "INSERT INTO copies VALUES (?, ?, ?)",
        [(o, site, kind) for site, rows in COPIES.items() for o, kind in rows],
    )
    reference.executemany("INSERT INTO quality VALUES (?, ?, ?)", QUALITY)
    connection = connect()
    cursor = connection.cursor()
    cursor.execute("CREATE TABLE owners (id INT)")
    cursor.executemany("INSERT INTO owners VALUES (?)", OWNERS)
    cursor.execute(
        "CREATE TABLE pdir (OWNER INT, GUID VARCHAR(20), Size BIGINT, Note VARCHAR(20), "
        "Q_v_x VARCHAR(20))"
    )
    cursor.executemany(
        "INSERT INTO pdir (OWNER, GUID, Size, Note, Q_v_x) VALUES (?, ?, ?, ?, ?)",
        [(o, p["GUID"], p["Size"], p.get("Note"), p.get("v.x")) for o, p in PARAMS.items()],
    )
    cursor.execute("CREATE TABLE qdir (OWNER INT, Grp VARCHAR(8), Flag VARCHAR(8), Other INT)")
    cursor.executemany("INSERT INTO qdir (OWNER, Grp, Flag) VALUES (?, ?, ?)", QUALITY)
    cursor.execute("CREATE TABLE sites (unused INT)")
    connection.commit()
    _add_sites(catalogue, COPIES)
    connection.views.update(VIEWS)
    yield reference, connection
    reference.close()


def _add_sites(catalogue: Catalogue, copies: dict[str, list[tuple[int, str]]]) -> None:
    """The partitions: tables of a connection whose base directory is /sites."""
    sites = driver.connect(catalogue, base_directory="/sites")
    try:
        cursor = sites.cursor()
        for site, rows in copies.items():
            cursor.execute(f"CREATE TABLE {site} (OWNER INT, KIND VARCHAR(8))")
            cursor.executemany(f"INSERT INTO {site} VALUES (?, ?)", rows)
        sites.commit()
    finally:
        sites.close()


def _rows(rows: Any, ordered: bool) -> list[tuple[Any, ...]]:
    normal = [tuple(row) for row in rows]
    return normal if ordered else sorted(normal, key=repr)


def test_views_answer_as_sqlite_answers_the_relational_shape(
    pair: tuple[sqlite3.Connection, driver.Connection],
) -> None:
    reference, connection = pair
    cursor = connection.cursor()
    for sql, params in QUERIES:
        expected = reference.execute(sql, params).fetchall()
        cursor.execute(sql, params)
        ordered = re.search(r"\bORDER BY\b", sql) is not None
        assert _rows(cursor.fetchall(), ordered) == _rows(expected, ordered), sql


def test_a_view_sees_a_partition_added_after_connecting(
    pair: tuple[sqlite3.Connection, driver.Connection], catalogue: Catalogue
) -> None:
    _reference, connection = pair
    cursor = connection.cursor()
    cursor.execute("SELECT COUNT(*) FROM copies")
    assert cursor.fetchone() == (6,)
    _add_sites(catalogue, {"PIC": [(4, "disk")]})
    cursor.execute("SELECT site FROM copies WHERE owner = 4")
    assert cursor.fetchall() == [("PIC",)]


def test_a_parameter_name_added_after_a_query_is_found(
    pair: tuple[sqlite3.Connection, driver.Connection], catalogue: Catalogue
) -> None:
    """The rewrite of a statement is reused, but not one that found no attribute for a
    name: a writer may add it at any moment."""
    _reference, connection = pair
    cursor = connection.cursor()
    sql = "SELECT value FROM params WHERE owner = ? AND name = ?"
    for _ in range(2):
        cursor.execute(sql, (2, "Extra"))
        assert cursor.fetchall() == []
    session = catalogue.session("root")
    try:
        session.addattr("/pdir", "Extra", "varchar(10)")
        (entry,) = [path for path in session.find("/pdir", "/pdir:OWNER = 2")]
        session.setattr(entry, {"Extra": "late"})
    finally:
        session.close()
    cursor.execute(sql, (2, "Extra"))
    assert cursor.fetchall() == [("late",)]
    cursor.execute(sql, (2, "GUID"))
    assert cursor.fetchall() == [("g-2",)]


def test_views_are_read_only(pair: tuple[sqlite3.Connection, driver.Connection]) -> None:
    _reference, connection = pair
    cursor = connection.cursor()
    for sql in (
        "INSERT INTO params VALUES (1, 'x', 'y')",
        "UPDATE quality SET value = 'x'",
        "DELETE FROM copies",
        "DROP TABLE params",
    ):
        with pytest.raises(driver.NotSupportedError, match="read-only view"):
            cursor.execute(sql)


# --- translation alone ---------------------------------------------------------------------

SCHEMA = StaticSchema(
    {
        "owners": [("id", "int")],
        "pdir": [("OWNER", "int"), ("GUID", "varchar(20)"), ("Size", "bigint"), ("Name", "text")],
        "qdir": [("OWNER", "int"), ("Grp", "varchar(8)"), ("Flag", "varchar(8)")],
        "sites": [],
    }
)
SCHEMA.views = VIEWS  # type: ignore[attr-defined]


def test_fixed_name_aliases_of_one_key_are_one_entry_in_one_selectattr() -> None:
    plan = translate(
        "SELECT o.id, g.value, CAST(s.value AS BIGINT), n.value FROM owners o "
        "JOIN params g ON g.owner = o.id AND g.name = ? "
        "JOIN params s ON s.owner = o.id AND s.name = ? "
        "LEFT JOIN params n ON n.owner = o.id AND n.name = ? WHERE CAST(s.value AS BIGINT) > ?",
        ("GUID", "Size", "Name", 5),
        SCHEMA,
    )
    assert isinstance(plan, SelectRows)  # no self-join, no LEFT JOIN left
    assert plan.query.items == ("/owners:id", "/pdir:GUID", "/pdir:Size", "/pdir:Name")
    # The parameter called "Name" is the attribute Name, not the view's name column.
    assert plan.query.condition == (
        "(/pdir:Size > 5) and (/pdir:Size = /pdir:Size) and (/pdir:OWNER = /owners:id) "
        "and (/pdir:GUID = /pdir:GUID)"
    )
    assert plan.pipeline is None


def test_the_seed_self_join_is_one_lookup() -> None:
    plan = translate(
        "SELECT p2.value FROM params p1 JOIN params p2 ON p1.owner = p2.owner "
        "WHERE p1.name = ? AND p1.value = ? AND p2.name = ?",
        ("GUID", "g-1", "Size"),
        SCHEMA,
    )
    assert isinstance(plan, SelectRows)  # one selectattr; the number is made text in Python
    assert plan.query.items == ("/pdir:Size",)
    assert plan.query.condition == (
        '(/pdir:GUID = /pdir:GUID) and (/pdir:GUID = "g-1") and (/pdir:Size = /pdir:Size)'
    )
    assert plan.pipeline is not None
    assert list(plan.pipeline.run([(250,)])) == [("250",)]


@pytest.mark.parametrize(
    ("value", "condition"),
    [("100", "(/pdir:Size = 100)"), ("0100", "(/pdir:Size <> /pdir:Size)")],
)
def test_a_number_attribute_equals_only_its_canonical_text(value: str, condition: str) -> None:
    plan = translate("SELECT owner FROM params WHERE name = 'Size' AND value = ?", (value,), SCHEMA)
    assert isinstance(plan, SelectRows)
    assert plan.query.condition == f"(/pdir:Size = /pdir:Size) and {condition}"


def test_a_name_no_attribute_holds_matches_nothing() -> None:
    plan = translate("SELECT value FROM params WHERE name = 'Missing'", (), SCHEMA)
    assert isinstance(plan, SelectRows)
    assert "(/pdir:OWNER <> /pdir:OWNER)" in plan.query.condition


def test_unfixed_names_partitions_and_exists_are_read_by_python() -> None:
    unfold = translate("SELECT name, value FROM params WHERE owner = ?", (3,), SCHEMA)
    assert isinstance(unfold, JoinRows) and isinstance(unfold.fetches[0], UnfoldFetch)
    assert unfold.fetches[0].condition == "(/pdir:OWNER = 3)"
    outer = translate(
        "SELECT o.id, n.name FROM owners o LEFT JOIN params n ON n.owner = o.id "
        "AND n.name = 'Size'",
        (),
        SCHEMA,
    )
    assert isinstance(outer, JoinRows)  # the name is read: unmatched rows must give NULL
    assert [type(f) for f in outer.fetches] == [TableFetch, UnfoldFetch]
    partitioned = translate(
        "SELECT o.id FROM owners o WHERE EXISTS (SELECT * FROM copies c WHERE c.owner = o.id "
        "AND c.kind = 'disk' AND c.site <> 'RAL')",
        (),
        SCHEMA,
    )
    assert isinstance(partitioned, SelectRows)
    (semijoin,) = partitioned.semijoins
    assert isinstance(semijoin.fetch, PartitionFetch)
    assert len(semijoin.fetch.terms) == 1  # the kind is pushed; the site is not an attribute
    assert semijoin.keep is not None


def test_a_left_join_reads_only_the_keys_it_needs(connect: Connect) -> None:
    connection = connect()
    cursor = connection.cursor()
    cursor.execute("CREATE TABLE a (k INT, x VARCHAR(5))")
    cursor.execute("CREATE TABLE b (k INT, y VARCHAR(5))")
    cursor.executemany("INSERT INTO a VALUES (?, ?)", [(1, "p"), (2, "q"), (3, "r")])
    cursor.executemany("INSERT INTO b VALUES (?, ?)", [(i % 4, f"b{i}") for i in range(12)])
    connection.commit()
    seen: list[str] = []
    backend = connection._backend
    original = backend.selectattr

    def recording(items: Any, condition: str, types: Any) -> Any:
        seen.append(condition)
        return original(items, condition, types)

    backend.selectattr = recording  # type: ignore[method-assign]
    cursor.execute(
        "SELECT a.x, b.y FROM a LEFT JOIN b ON b.k = a.k WHERE a.k <> ? ORDER BY 1, 2", (2,)
    )
    rows = cursor.fetchall()
    assert rows == [("p", "b1"), ("p", "b5"), ("p", "b9"), ("r", "b11"), ("r", "b3"), ("r", "b7")]
    assert seen == ["(/a:k <> 2)", "(/b:k in (1, 3))"]


def test_exists_over_a_fixed_name_is_the_attribute_joined() -> None:
    plan = translate(
        "SELECT o.id FROM owners o JOIN params g ON g.owner = o.id AND g.name = 'GUID' "
        "WHERE EXISTS (SELECT * FROM params p WHERE p.owner = o.id AND p.name = ? "
        "AND p.value = ?)",
        ("Size", "250"),
        SCHEMA,
    )
    assert isinstance(plan, SelectRows) and not plan.semijoins
    assert plan.query.condition == (
        "(/pdir:Size = /pdir:Size) and (/pdir:Size = 250) "
        "and (/pdir:OWNER = /owners:id) and (/pdir:GUID = /pdir:GUID)"
    )
