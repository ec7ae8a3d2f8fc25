"""selectattr and find compiled and run on every back-end."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from bookkeeping.amga_adapter.query import (
    QuerySyntaxError,
    QueryTypeError,
    compile_filter,
    compile_find,
    compile_select,
    glob_to_like,
)

from .catalogue import TableDirectory, UnknownAttribute, UnknownDirectory
from .conftest import Catalogue


def test_selectattr_joins_two_directories_through_the_condition(catalogue: Catalogue) -> None:
    statement = compile_select(
        ["/bk/jobs:FILE", "/bk/files:FILE"],
        '/bk/jobs:JOB_ID = /bk/files:JOB_ID and /bk/jobs:CONFIGNAME = "MC"',
        catalogue.resolver,
    )
    assert sorted(catalogue.rows(statement)) == [
        ("job1", "f1.dst"),
        ("job1", "f2.dst"),
        ("job2", "f3_x.raw"),
    ]


def test_two_spellings_of_one_directory_are_one_from_element(catalogue: Catalogue) -> None:
    statement = compile_select(
        ["jobs:FILE"], "/bk/jobs:JOB_ID = 2 and ./jobs:Order = 1", catalogue.resolver
    )
    assert catalogue.rows(statement) == [("job2",)]
    assert len(statement.get_final_froms()) == 1


def test_directory_named_only_in_the_condition_takes_part(catalogue: Catalogue) -> None:
    statement = compile_select(["jobs:FILE"], "files:Size > 280", catalogue.resolver)
    # a cross join: every job once per file of size > 280 (one such file)
    assert sorted(catalogue.rows(statement)) == [("job1",), ("job2",), ("job3",), ("job4",)]


def test_bare_attributes_refer_to_the_default_directory(catalogue: Catalogue) -> None:
    statement = compile_select(["FILE"], "Order >= 2", catalogue.resolver, default_directory="jobs")
    assert sorted(catalogue.rows(statement)) == [("job1",), ("job3",)]


def test_reserved_words_as_attribute_names(catalogue: Catalogue) -> None:
    statement = compile_select(
        ["FILE", "Group"],
        'Group = "a" or Order = 3 order by Order desc',
        catalogue.resolver,
        default_directory="jobs",
    )
    assert catalogue.rows(statement) == [("job1", "b"), ("job2", "a")]


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("", ["f1.dst", "f2.dst", "f3_x.raw", "f4.raw", "f5.dst"]),
        ("Size > 100", ["f2.dst", "f3_x.raw"]),
        ('Size > "100"', ["f2.dst", "f3_x.raw"]),  # a string literal meets an int column
        ("Code = 10", ["f1.dst"]),  # a number literal meets a varchar column
        ("Code < 5", ["f1.dst"]),  # ... and compares as a string: "10" < "5" < "9"
        ("Size != 100", ["f2.dst", "f3_x.raw", "f5.dst"]),  # NULL is not != 100
        ("Size <> 100", ["f2.dst", "f3_x.raw", "f5.dst"]),
        ("not Size = 100", ["f2.dst", "f3_x.raw", "f5.dst"]),
        ("Size is null", ["f4.raw"]),
        ("Size is not null and Ratio is null", ["f3_x.raw"]),
        ("not Size is null", ["f1.dst", "f2.dst", "f3_x.raw", "f5.dst"]),
        ("Size in (50, 300)", ["f3_x.raw", "f5.dst"]),
        ("Size not in (50, 300)", ["f1.dst", "f2.dst"]),
        ("Name in ('alpha', \"Beta\")", ["f1.dst", "f2.dst"]),
        ('like(Name, "al%")', ["f1.dst", "f4.raw"]),  # case-sensitive everywhere
        ('Name like "%a"', ["f1.dst", "f2.dst", "f4.raw"]),
        ('Name not like "%a"', ["f3_x.raw", "f5.dst"]),
        ('like(Name, "al\\_pha")', ["f4.raw"]),
        ('like(Name, "%\\%")', ["f3_x.raw"]),
        ('like(FILE, "f_.raw")', ["f4.raw"]),
        ("Size + 1 = 101", ["f1.dst"]),
        ("Size * 2 - 100 = 400", ["f2.dst"]),
        ("Size / 200 = 1.5", ["f3_x.raw"]),  # real division, also on SQLite
        ("Size / 0 > 0 or Size / 0 <= 0", []),  # division by zero is NULL
        ("-Size < -280", ["f3_x.raw"]),
        ("Ratio * 2 = 1", ["f1.dst"]),
        ("Ratio < Size / 100", ["f1.dst", "f2.dst", "f5.dst"]),
        ('lower(Name) = "alpha"', ["f1.dst", "f5.dst"]),
        ("upper(Name) = 'BETA'", ["f2.dst"]),
        ('Name > "Z"', ["f1.dst", "f3_x.raw", "f4.raw"]),  # binary: lower case after upper
        ('(Size > 200 or Ratio > 1) and not Name = "Beta"', ["f3_x.raw", "f4.raw"]),
        ("Size > 100 and Size < 300 or JOB_ID = 9", ["f2.dst", "f5.dst"]),
    ],
)
def test_condition_selects(catalogue: Catalogue, condition: str, expected: list[str]) -> None:
    statement = compile_select(["FILE"], condition, catalogue.resolver, default_directory="files")
    assert sorted(row[0] for row in catalogue.rows(statement)) == expected


def test_date_literal_is_typed_after_the_date_column(catalogue: Catalogue) -> None:
    statement = compile_select(
        ["FILE"], 'JOBDATE >= "2024-01-01"', catalogue.resolver, default_directory="jobs"
    )
    assert sorted(catalogue.rows(statement)) == [("job1",), ("job2",)]


def test_order_by_puts_null_first_ascending_and_last_descending(catalogue: Catalogue) -> None:
    ascending = compile_select(
        ["FILE"], "order by Order", catalogue.resolver, default_directory="jobs"
    )
    descending = compile_select(
        ["FILE"], "order by Order desc", catalogue.resolver, default_directory="jobs"
    )
    assert [row[0] for row in catalogue.rows(ascending)] == ["job4", "job2", "job3", "job1"]
    assert [row[0] for row in catalogue.rows(descending)] == ["job1", "job3", "job2", "job4"]


def test_order_by_strings_is_binary(catalogue: Catalogue) -> None:
    statement = compile_select(
        ["Name"], "order by Name", catalogue.resolver, default_directory="files"
    )
    assert [row[0] for row in catalogue.rows(statement)] == [
        "ALPHA",
        "Beta",
        "al_pha",
        "alpha",
        "gamma%",
    ]


def test_limit_and_offset_alone_make_a_condition(catalogue: Catalogue) -> None:
    statement = compile_select(
        ["FILE"], "order by FILE limit 2 offset 1", catalogue.resolver, default_directory="files"
    )
    assert catalogue.rows(statement) == [("f2.dst",), ("f3_x.raw",)]


def test_distinct(catalogue: Catalogue) -> None:
    statement = compile_select(
        ["CONFIGNAME"], "distinct order by CONFIGNAME", catalogue.resolver, default_directory="jobs"
    )
    assert catalogue.rows(statement) == [("MC",), ("Real",), ("mc",)]


def test_aggregates_group_by_the_plain_selected_items(catalogue: Catalogue) -> None:
    statement = compile_select(
        [
            "jobs:CONFIGNAME",
            "count(files:FILE)",
            "sum(files:Size)",
            "max(files:Name)",
            "avg(files:Ratio)",
        ],
        "jobs:JOB_ID = files:JOB_ID order by jobs:CONFIGNAME",
        catalogue.resolver,
    )
    assert catalogue.rows(statement) == [
        ("MC", 3, 650, "gamma%", 1.0),
        ("Real", 1, None, "al_pha", 2.0),
    ]


def test_aggregates_alone_give_one_row(catalogue: Catalogue) -> None:
    statement = compile_select(
        ["count(FILE)", "count(Size)", "min(Size)", "sum(Size)", "avg(Size)", "min(Name)"],
        "",
        catalogue.resolver,
        default_directory="files",
    )
    assert catalogue.rows(statement) == [(5, 4, 50, 700, 175.0, "ALPHA")]


def test_aggregate_of_no_rows(catalogue: Catalogue) -> None:
    statement = compile_select(
        ["count(FILE)", "sum(Size)"], "Size > 1000", catalogue.resolver, default_directory="files"
    )
    assert catalogue.rows(statement) == [(0, None)]


def test_grouped_expression_with_a_literal_runs(catalogue: Catalogue) -> None:
    statement = compile_select(
        ["Size / 100 + 1", "count(FILE)"],
        "Size > 0 order by Size / 100 + 1",
        catalogue.resolver,
        default_directory="files",
    )
    assert catalogue.rows(statement) == [(1.5, 1), (2.0, 1), (3.5, 1), (4.0, 1)]


def test_attribute_outside_aggregate_must_be_grouped(catalogue: Catalogue) -> None:
    with pytest.raises(QueryTypeError, match="Size must be inside an aggregate"):
        compile_select(
            ["Name", "max(Ratio) + Size"], "", catalogue.resolver, default_directory="files"
        )


def test_order_by_ungrouped_attribute_is_refused(catalogue: Catalogue) -> None:
    with pytest.raises(QueryTypeError, match="order by a selected attribute") as caught:
        compile_select(
            ["Name", "count(FILE)"], "order by Size", catalogue.resolver, default_directory="files"
        )
    assert caught.value.position == 9


def test_order_by_unselected_attribute_with_distinct_is_refused(catalogue: Catalogue) -> None:
    with pytest.raises(QueryTypeError, match="with distinct"):
        compile_select(
            ["Name"], "distinct order by Size", catalogue.resolver, default_directory="files"
        )


@pytest.mark.parametrize(
    ("condition", "message", "position"),
    [
        ('Size = "big"', "'big' is not a number", 7),
        ("Name > Size", "cannot compare a number with a string", 0),
        ("Name + 1 > 0", "arithmetic needs numbers, not a string", 0),
        ('lower(Size) = "a"', "lower\\(\\) needs a string", 6),
        ("like(Name, Code)", "pattern of like must be a string literal", 11),
    ],
)
def test_type_errors_point_at_the_culprit(
    catalogue: Catalogue, condition: str, message: str, position: int
) -> None:
    with pytest.raises(QueryTypeError, match=message) as caught:
        compile_select(["FILE"], condition, catalogue.resolver, default_directory="files")
    assert caught.value.position == position


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ('STARTED >= "2024-01-05 10:00:00"', ["job1", "job2"]),
        ('STARTED < "2024-01-05T10:30"', ["job3"]),
        ('STARTED = "2024-02-01 23:59:59"', ["job2"]),
        ("WINDOW > '08:30'", ["job2", "job3"]),
        ('JOBDATE in ("2024-01-05", "2023-12-31")', ["job1", "job4"]),
    ],
)
def test_timestamp_and_time_literals(
    catalogue: Catalogue, condition: str, expected: list[str]
) -> None:
    statement = compile_select(["FILE"], condition, catalogue.resolver, default_directory="jobs")
    assert sorted(row[0] for row in catalogue.rows(statement)) == expected


def test_temporal_attribute_compared_with_a_number(catalogue: Catalogue) -> None:
    with pytest.raises(QueryTypeError, match="expected a date"):
        compile_select(["FILE"], "JOBDATE > 5", catalogue.resolver, default_directory="jobs")


def test_date_literal_that_is_not_a_date(catalogue: Catalogue) -> None:
    with pytest.raises(QueryTypeError, match="not a date"):
        compile_select(
            ["FILE"], 'JOBDATE = "yesterday"', catalogue.resolver, default_directory="jobs"
        )


def test_unknown_names_raise_the_resolvers_errors(catalogue: Catalogue) -> None:
    with pytest.raises(UnknownAttribute):
        compile_select(["FILE"], "Nope = 1", catalogue.resolver, default_directory="files")
    with pytest.raises(UnknownDirectory):
        compile_select(["FILE"], "/nowhere:x = 1", catalogue.resolver, default_directory="files")


def test_select_needs_an_item(catalogue: Catalogue) -> None:
    with pytest.raises(QuerySyntaxError):
        compile_select([], "", catalogue.resolver)


def test_read_filter_hides_unreadable_entries(catalogue: Catalogue) -> None:
    hidden = TableDirectory(
        "/bk/files", catalogue.files, lambda directory, source: source.c.file != "f1.dst"
    )
    catalogue.resolver.directories["/bk/files"] = hidden
    statement = compile_select(
        ["files:FILE", "jobs:FILE"], "files:JOB_ID = jobs:JOB_ID", catalogue.resolver
    )
    assert sorted(catalogue.rows(statement)) == [
        ("f2.dst", "job1"),
        ("f3_x.raw", "job2"),
        ("f4.raw", "job3"),
    ]
    assert catalogue.names(compile_find("files", "", catalogue.resolver)) == [
        "f2.dst",
        "f3_x.raw",
        "f4.raw",
        "f5.dst",
    ]


def test_hostile_literals_are_bound_not_spliced(catalogue: Catalogue) -> None:
    condition = (
        'Name = "\'; DROP TABLE files; --" or Name = \'\\" or 1=1 --\' or Name = "'
        + "x" * 10_000
        + '"'
    )
    statement = compile_select(["FILE"], condition, catalogue.resolver, default_directory="files")
    assert catalogue.rows(statement) == []
    assert catalogue.rows(sa.select(sa.func.count()).select_from(catalogue.files)) == [(5,)]


def test_unicode_literal(catalogue: Catalogue) -> None:
    statement = compile_select(
        ["FILE"], 'Name = "αβγ 🚀"', catalogue.resolver, default_directory="files"
    )
    assert catalogue.rows(statement) == []


# -- find ---------------------------------------------------------------------------------


def test_find_names_the_matching_entries_once(catalogue: Catalogue) -> None:
    statement = compile_find(
        "jobs", "/bk/files:JOB_ID = JOB_ID and /bk/files:Size > 0", catalogue.resolver
    )
    # job1 has two such files but is found once
    assert catalogue.names(statement) == ["job1", "job2"]


def test_find_with_name_pattern(catalogue: Catalogue) -> None:
    statement = compile_find(
        "files", "Size > 60", catalogue.resolver, name_like=glob_to_like("f?.*")
    )
    assert catalogue.names(statement) == ["f1.dst", "f2.dst"]


def test_find_name_pattern_is_literal_for_percent_and_underscore(catalogue: Catalogue) -> None:
    assert catalogue.names(
        compile_find("files", "", catalogue.resolver, name_like=glob_to_like("f3_*"))
    ) == ["f3_x.raw"]
    assert (
        catalogue.names(
            compile_find("files", "", catalogue.resolver, name_like=glob_to_like("f_*"))
        )
        == []
    )
    assert (
        catalogue.names(
            compile_find("files", "", catalogue.resolver, name_like=glob_to_like("F1*"))
        )
        == []
    )


def test_find_orders_and_limits(catalogue: Catalogue) -> None:
    statement = compile_find("files", "order by Size desc limit 2", catalogue.resolver)
    assert [row[0] for row in catalogue.rows(statement)] == ["f3_x.raw", "f2.dst"]


def test_find_cannot_order_by_another_directory(catalogue: Catalogue) -> None:
    with pytest.raises(QueryTypeError, match="find can only order by"):
        compile_find("files", "jobs:JOB_ID = JOB_ID order by jobs:Order", catalogue.resolver)


def test_filter_gives_source_and_clause(catalogue: Catalogue) -> None:
    source, where = compile_filter(
        "files", 'jobs:JOB_ID = JOB_ID and jobs:CONFIGNAME = "MC"', catalogue.resolver
    )
    statement = sa.select(source.c.file).where(where)
    assert catalogue.names(statement) == ["f1.dst", "f2.dst", "f3_x.raw"]


def test_filter_refuses_modifiers(catalogue: Catalogue) -> None:
    with pytest.raises(QueryTypeError, match="not allowed here"):
        compile_filter("files", "Size > 1 limit 3", catalogue.resolver)


def test_like_wildcards_and_glob_characters_on_every_back_end(fresh_catalogue: Catalogue) -> None:
    names = ["a*b", "a?b", "a[b]", "a\\b", "axb", "A_b", "a%b"]
    with fresh_catalogue.engine.begin() as connection:
        connection.execute(fresh_catalogue.files.delete())
        connection.execute(
            fresh_catalogue.files.insert(),
            [{"file": f"n{i}", "Name": n} for i, n in enumerate(names)],
        )

    def matching(pattern: str) -> list[str]:
        statement = compile_select(
            ["Name"], f"like(Name, {pattern})", fresh_catalogue.resolver, default_directory="files"
        )
        return sorted(row[0] for row in fresh_catalogue.rows(statement))

    assert matching('"a_b"') == ["a%b", "a*b", "a?b", "a\\b", "axb"]
    assert matching('"a*b"') == ["a*b"]
    assert matching('"a?b"') == ["a?b"]
    assert matching('"a[b%"') == ["a[b]"]
    assert matching('"a\\\\b"') == ["a\\b"]
    assert matching('"a\\%b"') == ["a%b"]
    assert matching('"%\\\\"') == []
    assert matching('"A\\_b"') == ["A_b"]


def test_each_spelling_of_a_directory_is_resolved_once(catalogue: Catalogue) -> None:
    compile_select(
        ["/bk/jobs:JOB_ID", "jobs:Order", "count(/bk/jobs:FILE)"],
        "/bk/jobs:JOB_ID > 1 and jobs:Order < 3 and Order > 0",
        catalogue.resolver,
        default_directory="jobs",
    )
    assert catalogue.resolver.calls == ["/bk/jobs", "jobs"]


def test_deepest_accepted_expression_runs(catalogue: Catalogue) -> None:
    def condition(additions: int) -> str:
        return "(" * 40 + "Size" + " + 1" * additions + f" = {100 + additions}" + ")" * 40

    with pytest.raises(QuerySyntaxError, match="nested too deeply"):
        compile_select(["FILE"], condition(48), catalogue.resolver, default_directory="files")
    statement = compile_select(
        ["FILE"], condition(47), catalogue.resolver, default_directory="files"
    )
    assert catalogue.rows(statement) == [("f1.dst",)]


# -- the examples of PROTOCOL.md, verbatim -------------------------------------------------


def test_protocol_example_condition(catalogue: Catalogue) -> None:
    catalogue.resolver.cwd = "/"
    catalogue.resolver.directories["/jobs"] = catalogue.resolver.directories["/bk/jobs"]
    statement = compile_select(
        ["/jobs:JOB_ID", "/jobs:CONFIGNAME"],
        '/jobs:CONFIGNAME="MC" and /jobs:JOB_ID>1',
        catalogue.resolver,
    )
    assert catalogue.rows(statement) == [(2, "MC")]


def test_protocol_example_modifiers_only(catalogue: Catalogue) -> None:
    statement = compile_select(
        ["FILE"], "limit 50 offset 0", catalogue.resolver, default_directory="files"
    )
    assert len(catalogue.rows(statement)) == 5


def test_protocol_example_count(catalogue: Catalogue) -> None:
    statement = compile_select(["count(/bk/files:FILE)"], "", catalogue.resolver)
    assert catalogue.rows(statement) == [(5,)]


def test_protocol_example_find(catalogue: Catalogue) -> None:
    assert catalogue.names(compile_find("/bk/files", "Size>200", catalogue.resolver)) == [
        "f2.dst",
        "f3_x.raw",
    ]


def test_protocol_example_join(catalogue: Catalogue) -> None:
    statement = compile_select(
        ["/bk/files:FILE"],
        "/bk/jobs:JOB_ID=/bk/files:JOB_ID and /bk/jobs:CONFIGNAME='Real'",
        catalogue.resolver,
    )
    assert catalogue.rows(statement) == [("f4.raw",)]
