"""Hostile and malformed SQL is refused before anything runs; parameters are numbered in the
order they appear in the text."""

from __future__ import annotations

import pytest

from bookkeeping.amga_adapter.query import parse_condition
from bookkeeping.jdbc_compat import DataError, NotSupportedError, ProgrammingError
from bookkeeping.jdbc_compat.parsing import parse_statement
from bookkeeping.jdbc_compat.plans import SelectRows
from bookkeeping.jdbc_compat.translate import translate
from tests.jdbc_compat.static_schema import BOOKKEEPING

HOSTILE = [
    'x" or 1=1 or "',
    "x' or '1'='1",
    'a\\" or \\"',
    "\\",
    '\\\\"',
    "'; DROP TABLE people; --",
    "50% *?[a]",
    "tab\tand \\n not a newline",
    "é ü 日本",
    ") or (1=1",
    "line\nbreak\n",
    "carriage\rreturn\r\n",
    "\r\n",
]
# The catalogue stores no NUL character (PostgreSQL cannot) and its query language has none.
WITH_NUL = ["nul\x00byte", "\x00", "\x00\n\r"]


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * FROM jobs; DROP TABLE jobs",
        "SELECT * FROM jobs;DELETE FROM files",
        "DELETE FROM files WHERE 1=1; SELECT 1",
        "SELECT * FROM jobs WHERE JOB_ID = 1; -- trailing\nDROP TABLE jobs",
    ],
)
def test_stacked_statements_are_refused(sql: str) -> None:
    with pytest.raises(ProgrammingError, match="stacked statements"):
        parse_statement(sql)


@pytest.mark.parametrize("sql", ["", "   ", ";", "-- only a comment"])
def test_empty_statements_are_refused(sql: str) -> None:
    with pytest.raises(ProgrammingError, match="empty SQL statement"):
        parse_statement(sql)


def test_syntax_errors_are_programming_errors() -> None:
    with pytest.raises(ProgrammingError, match="syntax error"):
        parse_statement("SELECT FROM WHERE (")


def test_comments_are_ignored() -> None:
    plain = translate("SELECT JOB_ID FROM jobs WHERE JOB_ID = 1", (), BOOKKEEPING)
    commented = translate(
        "SELECT /* c */ JOB_ID FROM jobs -- x\nWHERE JOB_ID = 1 /* ; DROP TABLE jobs */",
        (),
        BOOKKEEPING,
    )
    assert isinstance(plain, SelectRows) and isinstance(commented, SelectRows)
    assert plain.query == commented.query


def test_a_semicolon_inside_a_string_is_data() -> None:
    plan = translate("SELECT JOB_ID FROM jobs WHERE CONFIGNAME = 'a; DROP TABLE jobs'", (),
                     BOOKKEEPING)  # fmt: skip
    assert isinstance(plan, SelectRows)
    assert plan.query.condition == '(/jobs:CONFIGNAME = "a; DROP TABLE jobs")'


def test_parameters_bind_in_text_order_whatever_the_clause_order() -> None:
    plan = translate(
        "SELECT f.FILENAME FROM files f JOIN jobs j ON j.JOB_ID = ? "
        "WHERE f.Size BETWEEN ? AND ? ORDER BY 1 LIMIT ? OFFSET ?",
        (1, 2, 3, 4, 5),
        BOOKKEEPING,
    )
    assert isinstance(plan, SelectRows)
    assert plan.query.condition == (
        "(/files:Size >= 2 and /files:Size <= 3) and (/jobs:JOB_ID = 1) "
        "order by /files:FILENAME limit 4 offset 5"
    )


@pytest.mark.parametrize("params", [(), (1, 2)])
def test_parameter_count_must_match(params: tuple[object, ...]) -> None:
    with pytest.raises(ProgrammingError, match="1 parameters"):
        translate("SELECT JOB_ID FROM jobs WHERE JOB_ID = ?", params, BOOKKEEPING)


def test_named_parameters_are_refused() -> None:
    with pytest.raises(ProgrammingError, match="only '\\?' parameters"):
        parse_statement("SELECT JOB_ID FROM jobs WHERE JOB_ID = :id")


def test_parameters_must_be_a_sequence() -> None:
    with pytest.raises(ProgrammingError, match="sequence"):
        translate("SELECT JOB_ID FROM jobs WHERE CONFIGNAME = ?", "x", BOOKKEEPING)  # type: ignore[arg-type]


def test_limit_must_be_an_integer() -> None:
    for bad in ("x", 1.5):
        with pytest.raises(ProgrammingError, match="LIMIT"):
            translate("SELECT JOB_ID FROM jobs LIMIT ?", (bad,), BOOKKEEPING)
    with pytest.raises(ProgrammingError, match="OFFSET"):
        translate("SELECT JOB_ID FROM jobs LIMIT 5 OFFSET ?", (-1,), BOOKKEEPING)


def test_a_negative_limit_means_no_limit_as_in_sqlite() -> None:
    # SQLAlchemy's SQLite dialect writes an OFFSET without a LIMIT as LIMIT -1 OFFSET n.
    plan = translate(
        "SELECT JOB_ID FROM jobs ORDER BY JOB_ID LIMIT ? OFFSET ?", (-1, 2), BOOKKEEPING
    )
    assert isinstance(plan, SelectRows)
    assert "limit" not in plan.query.condition
    assert plan.pipeline is not None and plan.pipeline.offset == 2
    assert plan.pipeline.limit is None


def test_binary_parameters_are_not_supported() -> None:
    with pytest.raises(NotSupportedError, match="binary"):
        translate("SELECT JOB_ID FROM jobs WHERE CONFIGNAME = ?", (b"x",), BOOKKEEPING)


@pytest.mark.parametrize("value", WITH_NUL)
def test_a_nul_character_is_a_data_error_in_the_catalogue_and_in_python(value: str) -> None:
    for sql in (
        "SELECT JOB_ID FROM jobs WHERE CONFIGNAME = ?",
        "SELECT JOB_ID FROM jobs WHERE CONFIGNAME = ? OR CONFIGNAME IS NULL",
    ):
        with pytest.raises(DataError, match="NUL"):
            translate(sql, (value,), BOOKKEEPING)
    with pytest.raises(DataError, match="NUL"):
        translate("SELECT JOB_ID FROM jobs WHERE CONFIGNAME LIKE 'a\x00%'", (), BOOKKEEPING)


@pytest.mark.parametrize("value", HOSTILE)
def test_a_hostile_parameter_is_one_literal_of_the_query_language(value: str) -> None:
    plan = translate("SELECT JOB_ID FROM jobs WHERE CONFIGNAME = ?", (value,), BOOKKEEPING)
    assert isinstance(plan, SelectRows)
    condition = parse_condition(plan.query.condition)
    where = condition.where
    assert type(where).__name__ == "Comparison"
    assert where.right.value == value  # type: ignore[union-attr]
