"""Pure tests (no database): type specifications, coercion, paths, and the DDL every dialect
(Oracle included, compile-checked only) gets for directory tables."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import mysql, oracle, postgresql, sqlite
from sqlalchemy.schema import CreateTable

from bookkeeping.amga_adapter import paths
from bookkeeping.amga_adapter.directory_info import Attribute, entry_table
from bookkeeping.amga_adapter.directory_tables import add_column_sql, drop_column_sql
from bookkeeping.amga_adapter.errors import InvalidName, InvalidType, InvalidValue, TypeMismatch
from bookkeeping.amga_adapter.permissions import merge, parse_rights, remove
from bookkeeping.amga_adapter.types import parse_type

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


@pytest.mark.parametrize("dialect", DIALECTS, ids=lambda d: d.name)
def test_directory_tables_compile_for_every_dialect(dialect: sa.Dialect) -> None:
    attributes = [
        Attribute(i, f"n{i}", parse_type(spec))
        for i, spec in enumerate(
            [
                "int",
                "bigint",
                "double",
                "numeric(10,2)",
                "varchar(300)",
                "text",
                "timestamp",
                "date",
                "time",
            ],
            start=1,
        )
    ]
    ddl = str(CreateTable(entry_table(7, attributes)).compile(dialect=dialect))
    assert "catd_7" in ddl and "a9" in ddl
    added = add_column_sql(dialect, 7, attributes[4])
    assert added.startswith("ALTER TABLE catd_7 ADD") and "a5" in added
    assert "a5" in drop_column_sql(dialect, 7, "a5")


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
