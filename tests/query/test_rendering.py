"""SQL as rendered per dialect: Oracle (compile-checked only: every statement shape renders
with its dialect) and the constructs whose rendering differs by back-end."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import oracle

from bookkeeping.amga_adapter.query import (
    compile_find,
    compile_select,
    compile_update,
    glob_to_like,
)

from .catalogue import TableDirectory, TableResolver, directory_table


@pytest.fixture
def resolver() -> TableResolver:
    metadata = sa.MetaData()
    jobs = directory_table(metadata, "jobs", {"JOB_ID": sa.Integer(), "Order": sa.Integer()})
    files = directory_table(
        metadata,
        "files",
        {
            "JOB_ID": sa.Integer(),
            "Size": sa.BigInteger(),
            "Name": sa.String(64),
            "Group": sa.String(8),
        },
    )
    return TableResolver(
        {"/jobs": TableDirectory("/jobs", jobs), "/files": TableDirectory("/files", files)}
    )


def render(statement: sa.ClauseElement) -> str:
    return str(statement.compile(dialect=oracle.dialect()))


def test_select_with_join_order_limit_offset(resolver: TableResolver) -> None:
    sql = render(
        compile_select(
            ["/files:FILE", "/jobs:Order"],
            '/files:JOB_ID = /jobs:JOB_ID and like(/files:Name, "a%") and /files:Size / 2 > 1.5 '
            "order by /jobs:Order desc, /files:Group limit 10 offset 5",
            resolver,
        )
    )
    assert "JOIN jobs jobs_1 ON 1 = 1" in sql
    assert "LIKE :param_1 ESCAPE '\\'" in sql
    assert 'CAST(files_1."Size" AS BINARY_DOUBLE)' in sql
    assert 'ORDER BY item_1 DESC NULLS LAST, files_1."Group" ASC NULLS FIRST' in sql
    assert (
        "OFFSET __[POSTCOMPILE_param_4] ROWS" in sql
        and "FETCH FIRST __[POSTCOMPILE_param_5] ROWS ONLY" in sql
    )


def test_aggregates_and_grouping(resolver: TableResolver) -> None:
    sql = render(
        compile_select(
            ["/files:Group", "count(/files:FILE)", "sum(/files:Size)", "avg(/files:Size)"],
            "order by /files:Group",
            resolver,
        )
    )
    assert 'GROUP BY files_1."Group"' in sql
    assert 'CAST(sum(files_1."Size") AS NUMBER(19))' in sql
    assert 'avg(CAST(files_1."Size" AS BINARY_DOUBLE))' in sql


def test_find_with_exists_and_name_pattern(resolver: TableResolver) -> None:
    sql = render(
        compile_find(
            "/files",
            "/jobs:JOB_ID = JOB_ID and /jobs:Order in (1, 2)",
            resolver,
            name_like=glob_to_like("*.dst"),
        )
    )
    assert "EXISTS (SELECT 1" in sql and "files_1.file LIKE" in sql


def test_update_both_forms(resolver: TableResolver) -> None:
    plain = render(compile_update("/files", [("Size", "Size + 1")], "/jobs:Order = 1", resolver))
    assert plain.startswith('UPDATE files SET "Size"=(files."Size" + :param_1)')
    assert "EXISTS (SELECT 1" in plain

    def self_reading(directory: TableDirectory, source: sa.FromClause) -> sa.ColumnElement[bool]:
        other = directory.table.alias("acl")
        return sa.exists().where(other.c.file == source.c.file)

    files = resolver.directories["/files"]
    resolver.directories["/files"] = TableDirectory("/files", files.table, self_reading)
    derived = render(compile_update("/files", [("Name", "'x'")], "", resolver))
    assert "WHERE files.file IN (SELECT matched.name" in derived


def test_like_pattern_rendered_inline_is_translated_too() -> None:
    from sqlalchemy.dialects import sqlite

    from bookkeeping.amga_adapter.query.constructs import case_sensitive_like

    column = sa.column("name", sa.String)
    sql = str(
        sa.select(column)
        .where(case_sensitive_like(column, "a%b_"))
        .compile(dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True})
    )
    assert sql.endswith("WHERE name COLLATE BINARY GLOB 'a*b?'")


def test_negated_like_is_not_like() -> None:
    from sqlalchemy.dialects import mysql

    from bookkeeping.amga_adapter.query.constructs import case_sensitive_like

    column = sa.column("name", sa.String)
    sql = str(
        sa.select(column)
        .where(sa.not_(case_sensitive_like(column, "a%")))
        .compile(dialect=mysql.dialect())
    )
    assert sql.endswith("WHERE name COLLATE utf8mb4_bin NOT LIKE %s ESCAPE '\\\\'")
