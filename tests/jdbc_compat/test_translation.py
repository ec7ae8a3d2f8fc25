"""SQL in -> catalogue operations out: the translator alone, no database."""

from __future__ import annotations

import decimal
import sqlite3

import pytest

from bookkeeping.jdbc_compat import DataError, NotSupportedError, ProgrammingError
from bookkeeping.jdbc_compat.plans import (
    CreateTable,
    DeleteEntries,
    DropTable,
    InsertRows,
    JoinRows,
    RewriteEntries,
    SelectRows,
    UpdateEntries,
)
from bookkeeping.jdbc_compat.translate import translate
from tests.jdbc_compat.static_schema import BOOKKEEPING, StaticSchema


def select(sql: str, *params: object) -> SelectRows:
    plan = translate(sql, params, BOOKKEEPING)
    assert isinstance(plan, SelectRows)
    return plan


def test_seed_statement_becomes_selectattr_over_jobs() -> None:
    plan = select("SELECT * FROM Jobs WHERE ConfigName = ? AND ConfigVersion = ?", "MC", "2008")
    assert plan.query.items == (
        "/jobs:JOB_ID",
        "/jobs:CONFIGNAME",
        "/jobs:CONFIGVERSION",
        "/jobs:JOBDATE",
    )
    assert plan.query.condition == '(/jobs:CONFIGNAME = "MC") and (/jobs:CONFIGVERSION = "2008")'
    assert [c.name for c in plan.columns] == ["JOB_ID", "CONFIGNAME", "CONFIGVERSION", "JOBDATE"]
    assert plan.pipeline is None


def test_explicit_join_names_both_directories_with_the_join_predicate() -> None:
    plan = select(
        "SELECT j.JOB_ID, f.FILENAME AS name FROM jobs j JOIN files f ON j.JOB_ID = f.JOB_ID "
        "WHERE f.Size > 10"
    )
    assert plan.query.items == ("/jobs:JOB_ID", "/files:FILENAME")
    assert plan.query.condition == "(/files:Size > 10) and (/jobs:JOB_ID = /files:JOB_ID)"
    assert [c.name for c in plan.columns] == ["JOB_ID", "name"]


def test_implicit_join_is_the_same_as_explicit() -> None:
    implicit = select("SELECT FILENAME FROM jobs, files WHERE jobs.JOB_ID = files.JOB_ID")
    explicit = select("SELECT FILENAME FROM jobs INNER JOIN files ON jobs.JOB_ID = files.JOB_ID")
    assert implicit.query == explicit.query


def test_table_named_nowhere_else_still_joins() -> None:
    plan = select("SELECT FILENAME FROM files CROSS JOIN jobs")
    assert plan.query.condition == "(/jobs:FILE = /jobs:FILE)"


def test_ambiguous_unqualified_column_is_a_programming_error() -> None:
    with pytest.raises(ProgrammingError, match="ambiguous column name: JOB_ID"):
        select("SELECT JOB_ID FROM jobs, files")


@pytest.mark.parametrize(
    ("sql", "construct"),
    [
        ("SELECT * FROM jobs RIGHT JOIN files ON jobs.JOB_ID = files.JOB_ID", "RIGHT JOIN"),
        ("SELECT * FROM jobs FULL OUTER JOIN files ON jobs.JOB_ID = files.JOB_ID", "FULL"),
        ("SELECT JOB_ID FROM jobs GROUP BY JOB_ID HAVING COUNT(*) > 1", "HAVING"),
        ("SELECT JOB_ID FROM jobs WHERE JOB_ID IN (SELECT JOB_ID FROM files)", "subquery"),
        (
            "SELECT JOB_ID FROM jobs WHERE JOB_ID = (SELECT MAX(JOB_ID) FROM files)",
            "a scalar subquery is not supported: \\(SELECT MAX",
        ),
        ("SELECT (SELECT MAX(JOB_ID) FROM files) FROM jobs", "a scalar subquery"),
        ("UPDATE jobs SET JOB_ID = (SELECT MAX(JOB_ID) FROM files)", "a scalar subquery"),
        ("DELETE FROM jobs WHERE JOB_ID > (SELECT 1 FROM files)", "a scalar subquery"),
        ("SELECT JOB_ID FROM (SELECT JOB_ID FROM jobs)", "subquery in FROM"),
        ("SELECT CONFIGNAME FROM jobs ORDER BY CONFIGNAME COLLATE NOCASE", "COLLATE NOCASE"),
        ("SELECT JOB_ID FROM jobs WHERE JOB_ID / 2 = '1'", "no column"),
        ("SELECT JOB_ID FROM jobs WHERE LOWER(CONFIGNAME) = 5 OR JOB_ID IS NULL", "no column"),
        ("SELECT SUBSTR(CONFIGNAME, 1, 2) FROM jobs", "SUBSTRING"),
        ("SELECT CAST(JOB_ID AS BLOB) FROM jobs", "no catalogue attribute type"),
        ("WITH x AS (SELECT 1) SELECT * FROM jobs", "WITH"),
        ("SELECT JOB_ID FROM jobs UNION SELECT JOB_ID FROM files", "UNION"),
        ("SELECT JOB_ID % 2 FROM jobs", "MOD"),
        ("SELECT JOB_ID FROM jobs WHERE CONFIGNAME GLOB 'a*'", "GLOB"),
        ("SELECT 1", "without FROM"),
        ("SELECT JOB_ID FROM jobs ORDER BY JOB_ID NULLS LAST LIMIT 2", None),
        ("SELECT JOB_ID FROM jobs WHERE JOB_ID BETWEEN SYMMETRIC 9 AND 3", "BETWEEN"),
        ("SELECT JOB_ID FROM jobs WHERE JOB_ID = ALL (1)", "ALL"),
        ("SELECT JOB_ID FROM jobs WHERE JOB_ID IS NOT DISTINCT FROM 1", "NULLSAFEEQ"),
        (
            "SELECT JOB_ID FROM jobs j WHERE EXISTS (SELECT * FROM files f JOIN jobs k "
            "ON k.JOB_ID = f.JOB_ID WHERE f.JOB_ID = j.JOB_ID)",
            "JOINS is not supported in an EXISTS subquery",
        ),
        (
            "SELECT JOB_ID FROM jobs j WHERE EXISTS (SELECT * FROM files f "
            "WHERE f.JOB_ID > j.JOB_ID)",
            "correlated subquery condition",
        ),
        (
            "SELECT JOB_ID FROM jobs j WHERE EXISTS (SELECT * FROM files f "
            "WHERE f.JOB_ID = j.JOB_ID LIMIT 1)",
            "LIMIT",
        ),
        (
            "SELECT JOB_ID FROM jobs j WHERE EXISTS (SELECT f.JOB_ID FROM files f "
            "GROUP BY f.JOB_ID)",
            "GROUP",
        ),
        (
            "SELECT j.JOB_ID FROM jobs j LEFT JOIN files f ON EXISTS (SELECT * FROM files g "
            "WHERE g.JOB_ID = j.JOB_ID)",
            "subqueries",
        ),
        (
            "UPDATE jobs SET CONFIGNAME = 'x' WHERE EXISTS "
            "(SELECT * FROM files WHERE files.JOB_ID = jobs.JOB_ID)",
            "EXISTS",
        ),
    ],
)
def test_unsupported_constructs_are_named(sql: str, construct: str | None) -> None:
    if construct is None:  # exact in Python instead: not an error
        assert select(sql).pipeline is not None
        return
    with pytest.raises(NotSupportedError, match=construct):
        translate(sql, (), BOOKKEEPING)


def test_self_and_left_joins_are_joined_in_python_per_table() -> None:
    plan = translate(
        "SELECT p2.FILENAME FROM files p1 JOIN files p2 ON p1.JOB_ID = p2.JOB_ID "
        "LEFT JOIN jobs j ON j.JOB_ID = p1.JOB_ID AND j.CONFIGNAME = 'MC' "
        "WHERE p1.Size > ? AND j.JOBDATE IS NULL",
        (5,),
        BOOKKEEPING,
    )
    assert isinstance(plan, JoinRows)
    conditions = [fetch.query.condition for fetch in plan.fetches]
    # p1's own WHERE term is pushed; j is NULL-supplying, so its WHERE term stays in Python,
    # while its own ON term filters it before the join.
    assert conditions == ["(/files:Size > 5)", "", '(/jobs:CONFIGNAME = "MC")']
    assert [(step.index, step.outer, len(step.left_keys)) for step in plan.steps] == [
        (1, False, 1),
        (2, True, 1),
    ]


_AGGREGATE_EXPRESSIONS = (
    "SELECT JOB_ID, COALESCE(SUM(CAST(FILENAME AS BIGINT)), 0) + COUNT(*), "
    "CASE WHEN MAX(Size) IS NULL THEN 'none' ELSE 'some' END FROM files GROUP BY JOB_ID"
)


@pytest.mark.parametrize(
    "source",
    [
        [],  # GROUP BY over no rows: no groups (not one row of NULLs)
        [(1, "7", None), (1, "8", 3), (2, None, None)],
        [(3, "-4", 5), (3, "4", None), (4, "10", None), (4, None, 2)],
    ],
)
def test_expressions_over_aggregates_cast_coalesce_case_run_in_python(
    source: list[tuple[object, ...]],
) -> None:
    plan = select(_AGGREGATE_EXPRESSIONS)
    assert plan.pipeline is not None
    fetched = {"/files:JOB_ID": 0, "/files:FILENAME": 1, "/files:Size": 2}
    rows = [tuple(r[fetched[i]] for i in plan.query.items) for r in source]
    database = sqlite3.connect(":memory:")
    database.execute("CREATE TABLE files (JOB_ID INTEGER, FILENAME TEXT, Size INTEGER)")
    database.executemany("INSERT INTO files VALUES (?, ?, ?)", source)
    expected = sorted(database.execute(_AGGREGATE_EXPRESSIONS).fetchall())
    assert sorted(plan.pipeline.run(rows)) == expected
    assert len(expected) == len({row[0] for row in source})


def test_a_cast_python_cannot_make_is_a_data_error() -> None:
    """SQLite casts 'x2' to 0; the driver refuses rather than answer a different number."""
    plan = select(_AGGREGATE_EXPRESSIONS)
    assert plan.pipeline is not None
    fetched = {"/files:JOB_ID": 0, "/files:FILENAME": 1, "/files:Size": 2}
    rows = [tuple(r[fetched[i]] for i in plan.query.items) for r in [(1, "x2", 3)]]
    with pytest.raises(DataError, match="cannot CAST 'x2'"):
        list(plan.pipeline.run(rows))


def test_between_becomes_two_comparisons() -> None:
    plan = select("SELECT JOB_ID FROM jobs WHERE JOB_ID BETWEEN ? AND 9", 3)
    assert plan.query.condition == "(/jobs:JOB_ID >= 3 and /jobs:JOB_ID <= 9)"


def test_in_not_in_like_and_or_not() -> None:
    plan = select(
        "SELECT JOB_ID FROM jobs WHERE (JOB_ID IN (1, 2) OR NOT CONFIGNAME LIKE 'MC%') "
        "AND JOB_ID NOT IN (?)",
        7,
    )
    assert plan.query.condition == (
        '((/jobs:JOB_ID in (1, 2)) or (not (/jobs:CONFIGNAME like "MC%"))) '
        "and (not (/jobs:JOB_ID in (7)))"
    )


def test_not_like_keeps_its_negation() -> None:
    plan = select("SELECT JOB_ID FROM jobs WHERE CONFIGNAME NOT LIKE '_C'")
    assert plan.query.condition == '(/jobs:CONFIGNAME not like "_C")'


def test_like_backslash_stays_literal() -> None:
    plan = select("SELECT JOB_ID FROM jobs WHERE CONFIGNAME LIKE ?", "a\\%")
    # SQL: backslash then any run; the query language escapes with backslash, so it doubles.
    assert plan.query.condition == '(/jobs:CONFIGNAME like "a\\\\\\\\%")'


def test_modifiers_order_limit_offset_distinct() -> None:
    plan = select(
        "SELECT DISTINCT CONFIGNAME AS c, JOB_ID FROM jobs ORDER BY c, 2 DESC LIMIT ? OFFSET 5", 10
    )
    assert plan.query.condition == (
        "order by /jobs:CONFIGNAME, /jobs:JOB_ID desc limit 10 offset 5 distinct"
    )
    assert plan.pipeline is None


def test_attribute_named_like_a_keyword_is_qualified() -> None:
    plan = select('SELECT "Order" FROM files WHERE "order" > 1 ORDER BY "Order"')
    assert plan.query.items == ("/files:Order",)
    assert plan.query.condition == "(/files:Order > 1) order by /files:Order"


def test_aggregates_without_group_by_run_in_the_catalogue() -> None:
    plan = select("SELECT COUNT(*), MIN(Size), MAX(Size), SUM(Size), AVG(Size) FROM files")
    assert plan.query.items == (
        "count(/files:FILE)",
        "min(/files:Size)",
        "max(/files:Size)",
        "sum(/files:Size)",
        "avg(/files:Size)",
    )
    assert [c.type_code for c in plan.columns] == ["int", "bigint", "bigint", "bigint", "double"]
    assert plan.pipeline is None


def test_group_by_the_selected_columns_runs_in_the_catalogue() -> None:
    # The catalogue groups by the selected items holding no aggregate (AMGA's rule).
    plan = select("SELECT JOB_ID AS j, COUNT(*) AS n FROM files GROUP BY j ORDER BY j LIMIT 3")
    assert plan.query.items == ("/files:JOB_ID", "count(/files:FILE)")
    assert plan.query.condition == "order by /files:JOB_ID limit 3"
    assert plan.pipeline is None
    # The catalogue refuses ORDER BY an aggregate: then Python groups and sorts.
    plan = select("SELECT JOB_ID AS j, COUNT(*) AS n FROM files GROUP BY j ORDER BY n DESC")
    assert plan.pipeline is not None


def test_group_by_is_computed_in_python_over_the_fetched_columns() -> None:
    plan = select("SELECT COUNT(*), SUM(Size) FROM files WHERE Size > 0 GROUP BY JOB_ID")
    assert plan.query.items == ("/files:JOB_ID", "/files:Size")
    assert plan.query.condition == "(/files:Size > 0)"
    assert plan.pipeline is not None
    rows = [(1, 10), (2, 5), (1, 7)]
    assert sorted(plan.pipeline.run(rows)) == [(1, 5), (2, 17)]


def test_is_null_filters_in_python_and_pushes_the_rest() -> None:
    plan = select(
        "SELECT FILENAME FROM files WHERE Size IS NULL AND JOB_ID = 3 ORDER BY FILENAME LIMIT 2"
    )
    assert plan.query.condition == "(/files:JOB_ID = 3)"
    assert plan.query.items == ("/files:Size", "/files:FILENAME")
    assert plan.pipeline is not None
    rows = [(None, "c"), (1, "a"), (None, "b"), (None, "d")]
    assert list(plan.pipeline.run(rows)) == [("b",), ("c",)]


def test_comparison_with_null_parameter_is_unknown_not_an_error() -> None:
    plan = select("SELECT FILENAME FROM files WHERE Size = ?", None)
    assert plan.pipeline is not None
    assert list(plan.pipeline.run([("a", None), ("b", 3)])) == []


def test_mixing_aggregates_and_columns_needs_group_by() -> None:
    with pytest.raises(ProgrammingError, match="GROUP BY"):
        select("SELECT JOB_ID, COUNT(*) FROM files")


def test_unknown_table_and_column_are_programming_errors() -> None:
    with pytest.raises(ProgrammingError, match="no such table: nope"):
        select("SELECT * FROM nope")
    with pytest.raises(ProgrammingError, match="no such column: nope"):
        select("SELECT nope FROM jobs")


def test_insert_with_and_without_column_list_multi_row() -> None:
    plan = translate(
        "INSERT INTO files (filename, size) VALUES ('a', 1), (?, NULL), ('c', -2.5)",
        ("b",),
        BOOKKEEPING,
    )
    assert plan == InsertRows(
        "/files", ("FILENAME", "Size"), (("a", 1), ("b", None), ("c", decimal.Decimal("-2.5")))
    )
    plan = translate("INSERT INTO jobs VALUES (1, 'MC', 'v1', NULL)", (), BOOKKEEPING)
    assert isinstance(plan, InsertRows)
    assert plan.attributes == ("JOB_ID", "CONFIGNAME", "CONFIGVERSION", "JOBDATE")


def test_insert_of_file_names_the_entry() -> None:
    plan = translate("INSERT INTO jobs (FILE, JOB_ID) VALUES ('job7', 7)", (), BOOKKEEPING)
    assert isinstance(plan, InsertRows)
    assert plan.name_slot == 0


def test_insert_row_width_must_match() -> None:
    with pytest.raises(ProgrammingError, match="2 columns but a row of 1"):
        translate("INSERT INTO files (FILENAME, Size) VALUES ('a')", (), BOOKKEEPING)
    with pytest.raises(NotSupportedError, match="INSERT ... SELECT"):
        translate("INSERT INTO files (FILENAME) SELECT CONFIGNAME FROM jobs", (), BOOKKEEPING)


def test_update_becomes_updateattr() -> None:
    plan = translate(
        "UPDATE files SET Size = Size + 1, FILENAME = ? WHERE JOB_ID = 3", ("x",), BOOKKEEPING
    )
    assert plan == UpdateEntries(
        "/files", (("Size", "(/files:Size + 1)"), ("FILENAME", '"x"')), "(/files:JOB_ID = 3)"
    )


def test_update_to_null_or_where_is_null_rewrites_entry_by_entry() -> None:
    plan = translate("UPDATE files SET Size = NULL WHERE FILENAME IS NULL", (), BOOKKEEPING)
    assert isinstance(plan, RewriteEntries)
    assert plan.query.items == ("/files:FILE", "/files:FILENAME")
    assert plan.keep is not None and plan.keep(("e1", None)) is True
    assert plan.values is not None and plan.values[0][1](("e1", None)) is None


def test_delete_becomes_find_and_rm() -> None:
    assert translate("DELETE FROM files WHERE Size < ?", (5,), BOOKKEEPING) == DeleteEntries(
        "/files", "(/files:Size < 5)"
    )
    assert translate("DELETE FROM files", (), BOOKKEEPING) == DeleteEntries("/files", "")


def test_create_table_maps_types_and_constraints() -> None:
    schema = StaticSchema({}, base="/sql")
    plan = translate(
        "CREATE TABLE Runs (id INTEGER PRIMARY KEY, name VARCHAR(40) NOT NULL, note TEXT, "
        "energy DOUBLE, fill DECIMAL(10,2), day DATE, at TIMESTAMP, n SMALLINT, big BIGINT, "
        "label CHAR(3), free VARCHAR, UNIQUE (name, day))",
        (),
        schema,
    )
    assert plan == CreateTable(
        "/sql/Runs",
        (
            ("id", "int"),
            ("name", "varchar(40)"),
            ("note", "text"),
            ("energy", "double"),
            ("fill", "numeric(10,2)"),
            ("day", "date"),
            ("at", "timestamp"),
            ("n", "smallint"),
            ("big", "bigint"),
            ("label", "varchar(3)"),
            ("free", "text"),
        ),
        not_null=("id", "name"),
        unique=(("id",), ("name", "day")),
    )


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("CREATE TABLE t (a BLOB)", "no catalogue attribute type"),
        ("CREATE TABLE t (a BOOLEAN)", "no catalogue attribute type"),
        ("CREATE TABLE t (a NUMERIC)", "without a precision"),
        ("CREATE TABLE t (a INT DEFAULT 3)", "DEFAULT"),
        ('CREATE TABLE "a/b" (a INT)', "cannot be a catalogue directory name"),
        ('CREATE TABLE t ("a b" INT)', "cannot be named in the query language"),
        ("CREATE TABLE t AS SELECT * FROM jobs", "column list|AS|EXPRESSION"),
        ("CREATE VIEW v AS SELECT * FROM jobs", "CREATE VIEW"),
    ],
)
def test_create_table_refuses_what_the_catalogue_cannot_hold(sql: str, message: str) -> None:
    with pytest.raises(NotSupportedError, match=message):
        translate(sql, (), StaticSchema({}))


def test_create_existing_table() -> None:
    with pytest.raises(ProgrammingError, match="already exists"):
        translate("CREATE TABLE JOBS (a INT)", (), BOOKKEEPING)
    assert translate("CREATE TABLE IF NOT EXISTS JOBS (a INT)", (), BOOKKEEPING) is None


def test_drop_table() -> None:
    assert translate("DROP TABLE Files", (), BOOKKEEPING) == DropTable("/files")
    assert translate("DROP TABLE IF EXISTS nope", (), BOOKKEEPING) == DropTable(None)
    with pytest.raises(ProgrammingError, match="no such table"):
        translate("DROP TABLE nope", (), BOOKKEEPING)


def test_like_escape_with_a_constant_pattern_is_the_query_languages_like() -> None:
    plan = select(
        "SELECT FILENAME FROM files WHERE FILENAME LIKE '%' || ? || '%' ESCAPE '/'", "a/_b\\c/%"
    )
    assert plan.query.condition == r'(/files:FILENAME like "%a\\_b\\\\c\\%%")'
    assert plan.pipeline is None


def test_integer_division_is_computed_in_python_and_real_division_in_the_catalogue() -> None:
    plan = select("SELECT JOB_ID / 2 FROM jobs WHERE JOB_ID / ? > 0", 2)
    assert plan.pipeline is not None and plan.query.condition == ""
    assert plan.columns[0].type_code == "bigint"
    plan = select("SELECT JOB_ID / 2.0, Size / ? FROM files WHERE JOB_ID / 0.5 > 1", 2.0)
    assert plan.pipeline is None
    assert plan.query.items == ("(/files:JOB_ID / 2.0)", "(/files:Size / 2.0)")
    assert plan.query.condition == "((/files:JOB_ID / 0.5) > 1)"
    assert plan.columns[0].type_code == "double"


def test_a_binary_collation_orders_as_the_catalogue_does() -> None:
    for collation in ('"C"', "utf8mb4_bin", "BINARY", '"POSIX"'):
        plan = select(f"SELECT CONFIGNAME FROM jobs ORDER BY CONFIGNAME COLLATE {collation} DESC")
        assert plan.query.condition == "order by /jobs:CONFIGNAME desc"


def test_a_number_meeting_a_text_column_is_sent_as_its_text() -> None:
    # The query language reads -1 as a negation, which it would not compare with text.
    plan = select("SELECT JOB_ID FROM jobs WHERE CONFIGNAME IN (?, 2.0, -1)", -0.5)
    assert plan.query.condition == '(/jobs:CONFIGNAME in ("-0.5", "2.0", "-1"))'
