"""updateattr compiled and run on every back-end."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from bookkeeping.amga_adapter.query import (
    QuerySyntaxError,
    QueryTypeError,
    compile_update,
    glob_to_like,
)

from .catalogue import TableDirectory
from .conftest import Catalogue


def run(catalogue: Catalogue, statement: sa.Update) -> int:
    with catalogue.engine.begin() as connection:
        return connection.execute(statement).rowcount


def files(catalogue: Catalogue, *columns: str) -> dict[str, tuple[Any, ...]]:
    table = catalogue.files
    statement = sa.select(table.c.file, *(table.c[name] for name in columns))
    return {row[0]: tuple(row[1:]) for row in catalogue.rows(statement)}


def test_update_with_an_expression_and_a_condition(fresh_catalogue: Catalogue) -> None:
    statement = compile_update(
        "files", [("Size", "Size + 1")], "Size >= 250", fresh_catalogue.resolver
    )
    assert run(fresh_catalogue, statement) == 2
    assert files(fresh_catalogue, "Size") == {
        "f1.dst": (100,),
        "f2.dst": (251,),
        "f3_x.raw": (301,),
        "f4.raw": (None,),
        "f5.dst": (50,),
    }


def test_literals_take_the_assigned_columns_type(fresh_catalogue: Catalogue) -> None:
    statement = compile_update(
        "files",
        [("Name", "5"), ("Size", '"7"'), ("Ratio", "'0.75'")],
        "FILE = 'f1.dst'",
        fresh_catalogue.resolver,
    )
    assert run(fresh_catalogue, statement) == 1
    assert files(fresh_catalogue, "Name", "Size", "Ratio")["f1.dst"] == ("5", 7, 0.75)


def test_division_assigned_to_an_integer_is_cast(fresh_catalogue: Catalogue) -> None:
    statement = compile_update("files", [("Size", "Size / 2")], "", fresh_catalogue.resolver)
    assert run(fresh_catalogue, statement) == 5
    assert files(fresh_catalogue, "Size")["f1.dst"] == (50,)


def test_other_directories_join_through_exists(fresh_catalogue: Catalogue) -> None:
    statement = compile_update(
        "files",
        [("Code", '"mc"')],
        '/bk/jobs:JOB_ID = JOB_ID and /bk/jobs:CONFIGNAME = "MC"',
        fresh_catalogue.resolver,
    )
    assert run(fresh_catalogue, statement) == 3
    assert {name for name, (code,) in files(fresh_catalogue, "Code").items() if code == "mc"} == {
        "f1.dst",
        "f2.dst",
        "f3_x.raw",
    }


def test_name_pattern_restricts_the_update(fresh_catalogue: Catalogue) -> None:
    statement = compile_update(
        "files", [("Size", "0")], "", fresh_catalogue.resolver, name_like=glob_to_like("*.raw")
    )
    assert run(fresh_catalogue, statement) == 2


def test_filter_reading_the_updated_table_goes_through_a_derived_table(
    fresh_catalogue: Catalogue,
) -> None:
    """A read filter that consults the directory's own table (as a per-entry ACL lookup
    might) puts the updated table in a subquery, which MariaDB refuses (error 1093) unless
    it is materialised first."""

    def readable_if_sized(
        directory: TableDirectory, source: sa.FromClause
    ) -> sa.ColumnElement[bool]:
        other = directory.table.alias("acl")
        return sa.exists().where(other.c.file == source.c.file, other.c.Size.is_not(None))

    table = fresh_catalogue.files
    fresh_catalogue.resolver.directories["/bk/files"] = TableDirectory(
        "/bk/files", table, readable_if_sized
    )
    statement = compile_update(
        "files", [("Ratio", "Ratio * 2")], "/bk/jobs:JOB_ID = JOB_ID", fresh_catalogue.resolver
    )
    assert "matched" in str(statement)
    assert run(fresh_catalogue, statement) == 3  # f4 has no Size, f5 no job
    assert files(fresh_catalogue, "Ratio") == {
        "f1.dst": (1.0,),
        "f2.dst": (3.0,),
        "f3_x.raw": (None,),
        "f4.raw": (2.0,),
        "f5.dst": (0.25,),
    }


def test_hostile_value_is_stored_literally(fresh_catalogue: Catalogue) -> None:
    value = "'; DROP TABLE files; --\\\" ☃"
    statement = compile_update(
        "files", [("Name", f'"{value}"')], 'FILE = "f2.dst"', fresh_catalogue.resolver
    )
    assert run(fresh_catalogue, statement) == 1
    assert files(fresh_catalogue, "Name")["f2.dst"] == ("'; DROP TABLE files; --\" ☃",)


@pytest.mark.parametrize(
    ("assignments", "condition", "error", "message"),
    [
        ([("Size", "/bk/jobs:JOB_ID")], "", QueryTypeError, "can only use attributes of /bk/files"),
        ([("FILE", '"renamed"')], "", QueryTypeError, "cannot be assigned"),
        ([("Size", '"big"')], "", QueryTypeError, "'big' is not a number"),
        ([("Size", "Name")], "", QueryTypeError, "cannot compare a number with a string"),
        ([("Size", "Size +")], "", QuerySyntaxError, "unexpected end of text"),
        ([("Size", "count(FILE)")], "", QuerySyntaxError, "not allowed in an expression"),
        ([("Size", "1")], "Size > 1 limit 2", QueryTypeError, "not allowed here"),
        ([], "", QuerySyntaxError, "assign at least one attribute"),
    ],
)
def test_bad_updates_are_refused_before_running(
    catalogue: Catalogue,
    assignments: list[tuple[str, str]],
    condition: str,
    error: type[Exception],
    message: str,
) -> None:
    with pytest.raises(error, match=message):
        compile_update("files", assignments, condition, catalogue.resolver)
