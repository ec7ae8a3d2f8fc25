"""Pure tests (no database): type specifications, coercion, paths, and the DDL every dialect
(Oracle included, compile-checked only) gets for directory tables."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import mysql, oracle, postgresql, sqlite
from sqlalchemy.schema import CreateTable

from bookkeeping.amga_adapter.engine import paths
from bookkeeping.amga_adapter.engine.directory_info import Attribute, entry_table
from bookkeeping.amga_adapter.engine.directory_tables import add_column_sql, drop_column_sql
from bookkeeping.amga_adapter.engine.errors import (
    InvalidName,
    InvalidType,
    InvalidValue,
    TypeMismatch,
)
from bookkeeping.amga_adapter.engine.permissions import merge, parse_rights, remove
from bookkeeping.amga_adapter.engine.types import parse_type
from bookkeeping.amga_adapter.query import compile_find
from tests.query.catalogue import TableDirectory, TableResolver, directory_table

DIALECTS = [oracle.dialect(), postgresql.dialect(), mysql.dialect(), sqlite.dialect()]


@pytest.mark.parametrize(
    ("spec", "normal"),
    [
        ("INT", "int"),
        ("integer", "int"),
        (" VarChar( 64 ) ", "varchar(64)"),
        ("varchar2(10)", "varchar2(10)"),
        ("NUMERIC(10, 2)", "numeric(10,2)"),
        ("numeric(5)", "numeric(5,0)"),
        ("decimal(3,1)", "numeric(3,1)"),
        (None, "varchar(255)"),
        ("double", "double"),
        ("timestamp", "timestamp"),
    ],
)
def test_type_specifications_are_normalised(spec: str | None, normal: str) -> None:
    assert parse_type(spec).spec == normal


@pytest.mark.parametrize(
    "spec",
    [
        "",
        "char(3)",
        "varchar(4001)",
        "numeric(3,4)",
        "int int",
        "varchar(1) primary key",
        "text)--",
    ],
)
def test_unknown_type_specifications(spec: str) -> None:
    with pytest.raises(InvalidType):
        parse_type(spec)


def test_coercion_from_wire_strings() -> None:
    assert parse_type("int").coerce("a", " 12 ") == 12
    assert parse_type("numeric(6,2)").coerce("a", 1.005) == Decimal("1.01")
    assert parse_type("timestamp").coerce("a", "2024-01-02T03:04:05+01:00") == dt.datetime(
        2024, 1, 2, 2, 4, 5
    )
    assert parse_type("date").coerce("a", "2024-01-02") == dt.date(2024, 1, 2)
    assert parse_type("varchar(3)").coerce("a", 123) == "123"
    assert parse_type("int").coerce("a", None) is None
    with pytest.raises(TypeMismatch, match="'a'"):
        parse_type("smallint").coerce("a", 2**15)
    with pytest.raises(TypeMismatch):
        parse_type("date").coerce("a", dt.datetime(2024, 1, 1))
    with pytest.raises(InvalidValue):
        parse_type("text").coerce("a", "nul\x00")


SPECS = [
    "int",
    "smallint",
    "bigint",
    "float",
    "double",
    "numeric(10,2)",
    "varchar(300)",
    "varchar2(20)",
    "text",
    "timestamp",
    "date",
    "time",
]
# The column type each attribute type gets, per dialect, in the order of SPECS.
COLUMN_TYPES = {
    "oracle": [
        "INTEGER",
        "SMALLINT",
        "NUMBER(19)",
        "DOUBLE PRECISION",  # float: double precision everywhere (AMGA's on PostgreSQL)
        "DOUBLE PRECISION",
        "NUMERIC(10, 2)",
        "VARCHAR2(300 CHAR)",
        "VARCHAR2(20 CHAR)",
        "CLOB",
        "TIMESTAMP",
        "DATE",
        "INTERVAL DAY(0) TO SECOND(6)",
    ],
    "postgresql": [
        "INTEGER",
        "SMALLINT",
        "BIGINT",
        "DOUBLE PRECISION",
        "DOUBLE PRECISION",
        "NUMERIC(10, 2)",
        "VARCHAR(300)",
        "VARCHAR(20)",
        "TEXT",
        "TIMESTAMP WITHOUT TIME ZONE",
        "DATE",
        "TIME WITHOUT TIME ZONE",
    ],
    "mysql": [
        "INTEGER",
        "SMALLINT",
        "BIGINT",
        "DOUBLE",  # not FLOAT: four bytes there
        "DOUBLE",
        "NUMERIC(10, 2)",
        "TEXT",  # wider than 64: TEXT on MariaDB (row size limit)
        "VARCHAR(20)",
        "TEXT",
        "DATETIME(6)",  # microseconds, as on the other back-ends
        "DATE",
        "TIME(6)",
    ],
    "sqlite": [
        "INTEGER",
        "SMALLINT",
        "BIGINT",
        "DOUBLE",
        "DOUBLE",
        "FLOAT",  # numeric: REAL, returned as Decimal
        "VARCHAR(300)",
        "VARCHAR(20)",
        "TEXT",
        "DATETIME",
        "DATE",
        "TIME",
    ],
}
SYSTEM_COLUMN_TYPES = {
    "oracle": "VARCHAR2(255 CHAR) NOT NULL",
    "postgresql": "VARCHAR(255) NOT NULL",
    "mysql": "VARCHAR(255) NOT NULL",
    "sqlite": "VARCHAR(255) NOT NULL",
}


def _attributes() -> list[Attribute]:
    return [Attribute(i, f"n{i}", parse_type(spec)) for i, spec in enumerate(SPECS, start=1)]


def _column_types(ddl: str) -> dict[str, str]:
    """{column: type} from a CREATE TABLE (one column per line, as SQLAlchemy writes it)."""
    columns = {}
    for line in ddl.splitlines():
        match = re.fullmatch(r"\s+(\w+) (.+?),?\s*", line)
        if match and match.group(1) != "PRIMARY":
            columns[match.group(1)] = match.group(2)
    return columns


def test_every_attribute_type_has_a_column_type_for_every_dialect() -> None:
    assert set(COLUMN_TYPES) == {d.name for d in DIALECTS}
    assert all(len(types) == len(SPECS) for types in COLUMN_TYPES.values())


@pytest.mark.parametrize("dialect", DIALECTS, ids=lambda d: d.name)
def test_directory_tables_compile_for_every_dialect(dialect: sa.Dialect) -> None:
    attributes = _attributes()
    ddl = str(CreateTable(entry_table(7, attributes)).compile(dialect=dialect))
    assert ddl.strip().startswith("CREATE TABLE catd_7 (")
    # MariaDB's directory tables name their binary collation (case-sensitive comparisons
    # whatever the server's default, and no COLLATE wrapper keeping indexes out of use).
    options = "CHARSET=utf8mb4 COLLATE utf8mb4_bin" if dialect.name == "mysql" else ""
    assert ddl.strip().endswith("PRIMARY KEY (name)\n)" + options)
    expected = {f"a{i}": type_ for i, type_ in enumerate(COLUMN_TYPES[dialect.name], start=1)}
    columns = _column_types(ddl)
    assert columns.pop("name") == SYSTEM_COLUMN_TYPES[dialect.name]
    assert {k: columns.pop(k) for k in ("owner", "permissions", "group_rights", "link")}
    assert columns == expected


@pytest.mark.parametrize("dialect", DIALECTS, ids=lambda d: d.name)
@pytest.mark.parametrize("position", range(len(SPECS)), ids=SPECS)
def test_added_columns_have_the_same_types(dialect: sa.Dialect, position: int) -> None:
    attribute = _attributes()[position]
    added = add_column_sql(dialect, 7, attribute)
    column = f"{attribute.column} {COLUMN_TYPES[dialect.name][position]}"
    expected = {
        "oracle": f"ALTER TABLE catd_7 ADD ({column})",
        "postgresql": f"ALTER TABLE catd_7 ADD COLUMN IF NOT EXISTS {column}",
        "mysql": f"ALTER TABLE catd_7 ADD COLUMN IF NOT EXISTS {column}",
        "sqlite": f"ALTER TABLE catd_7 ADD COLUMN {column}",
    }
    assert added == expected[dialect.name]


@pytest.mark.parametrize(
    ("dialect", "sql"),
    [
        (oracle.dialect(), "ALTER TABLE catd_7 DROP COLUMN a5"),
        (postgresql.dialect(), "ALTER TABLE catd_7 DROP COLUMN IF EXISTS a5"),
        (mysql.dialect(), "ALTER TABLE catd_7 DROP COLUMN IF EXISTS a5"),
        (sqlite.dialect(), "ALTER TABLE catd_7 DROP COLUMN a5"),
    ],
    ids=lambda value: getattr(value, "name", None) or "sql",
)
def test_dropped_columns_for_every_dialect(dialect: sa.Dialect, sql: str) -> None:
    assert drop_column_sql(dialect, 7, "a5") == sql


@pytest.mark.parametrize(
    ("value", "interval"),
    [
        (dt.time(0, 0), dt.timedelta(0)),
        (dt.time(8, 30, 5, 250), dt.timedelta(hours=8, minutes=30, seconds=5, microseconds=250)),
        (dt.time(23, 59, 59, 999_999), dt.timedelta(days=1, microseconds=-1)),
        (None, None),
    ],
)
def test_oracle_stores_a_time_as_the_interval_since_midnight(
    value: dt.time | None, interval: dt.timedelta | None
) -> None:
    dialect = oracle.dialect()
    impl = parse_type("time").sql_type().dialect_impl(dialect)
    assert str(impl.compile(dialect=dialect)) == "INTERVAL DAY(0) TO SECOND(6)"
    assert impl.bind_processor(dialect)(value) == interval  # type: ignore[misc]
    # oracledb hands INTERVAL DAY TO SECOND over as a timedelta
    assert impl.result_processor(dialect, None)(interval) == value  # type: ignore[misc]


def test_an_oracle_query_binds_a_time_literal_as_an_interval() -> None:
    table = directory_table(sa.MetaData(), "jobs", {"Window": parse_type("time").sql_type()})
    resolver = TableResolver({"/jobs": TableDirectory("/jobs", table)}, cwd="/")
    dialect = oracle.dialect()
    compiled = compile_find("/jobs", 'Window >= "08:00" order by Window', resolver).compile(
        dialect=dialect
    )
    bind = compiled.binds["param_1"]
    processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
    assert processor(bind.value) == dt.timedelta(hours=8)  # type: ignore[misc]
    assert 'WHERE jobs_1."Window" >= :param_1 ORDER BY jobs_1."Window" ASC NULLS FIRST' in str(
        compiled
    )


def test_mariadb_stores_wide_varchar_as_text() -> None:
    sql = add_column_sql(mysql.dialect(), 1, Attribute(3, "x", parse_type("varchar(300)")))
    assert sql.endswith("a3 TEXT")
    sql = add_column_sql(mysql.dialect(), 1, Attribute(3, "x", parse_type("varchar(30)")))
    assert sql.endswith("a3 VARCHAR(30)")


@pytest.mark.parametrize(
    ("raw", "cwd", "normal"),
    [
        ("a", "/", "/a"),
        ("../x/./y", "/a/b", "/a/x/y"),
        ("//a//b/", "/", "/a/b"),
        ("/..", "/a", "/"),
        ("", "/a", "/a"),
        (".", "/a", "/a"),
    ],
)
def test_paths_are_normalised(raw: str, cwd: str, normal: str) -> None:
    assert paths.normalise(raw, cwd) == normal


def test_names_and_rights() -> None:
    with pytest.raises(InvalidName):
        paths.check_name("entry", "a/b")
    assert parse_rights("xr") == "r-x" and parse_rights("") == "---"
    assert merge("r--", "-w-") == "rw-" and remove("rwx", "w") == "r-x"
    with pytest.raises(InvalidName):
        parse_rights("rwxr")
