"""``bk ls``: where-clause parsing, kls-style output, and the CLI on every back-end."""

from __future__ import annotations

import csv
import io
import json

import pytest
from click.testing import CliRunner

from bookkeeping.cli import main
from bookkeeping.interface import Comparison, ListedFile, ListingQuery, Logical, Not
from bookkeeping.listing import format_line, format_size, locations, parse_where
from bookkeeping.writer.errors import ListingSyntaxError
from tests.warehouse.conftest import Populated


def test_where_clause_parses_to_the_condition_tree() -> None:
    assert parse_where("production = 12345 AND (run >= 5 or NOT quality <> 'OK')") == Logical(
        "and",
        (
            Comparison("production", "=", (12345,)),
            Logical(
                "or",
                (Comparison("run", ">=", (5,)), Not(Comparison("quality", "!=", ("OK",)))),
            ),
        ),
    )
    assert parse_where("eventtype in (90000000, 91000000)") == Comparison(
        "eventtype", "in", (90000000, 91000000)
    )
    assert parse_where("lfn = 'it''s'") == Comparison("lfn", "=", ("it's",))
    assert parse_where("configversion = 2012") == Comparison("configversion", "=", ("2012",))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("colour = 'red'", "unknown attribute 'colour'"),
        ("production = 'x'", "production is compared with a number"),
        ("run = 1; drop table files", "cannot parse the where-clause at column 8"),
        ("run =", "cannot parse"),
        ("size > 99999999999999999999", "out of range"),
        ("(run = 1", "cannot parse"),
    ],
)
def test_bad_where_clauses_are_refused_with_their_problem(text: str, message: str) -> None:
    with pytest.raises(ListingSyntaxError, match=message.replace("(", r"\(")):
        parse_where(text)


def test_lines_look_like_kls() -> None:
    line = ListedFile("/lhcb/a.dst", 200_000, True, True, ("f0a 14", "f0b 14"))
    assert format_line(line) == " /lhcb/a.dst    200 kB offline recalled: {f0a 14}, {f0b 14}"
    assert locations(ListedFile("/x", 1, False, True, ())) == "on tape"
    assert locations(ListedFile("/x", 1, False, True, ("f0a 15",))) == "on tape recalled: {f0a 15}"
    assert format_size(3 * 1024**3) == "3.22 GB"  # one spelling everywhere (web, bk se)


def _run(populated: Populated, *arguments: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(
        main, ["ls", "--db", populated.url, "--backend", "warehouse", *arguments]
    )
    return result.exit_code, result.stdout, result.stderr


def test_ls_prints_found_then_one_line_per_file(populated: Populated) -> None:
    where = "run >= 111000 and quality = 'OK'"
    expected = populated.expected.listing(ListingQuery("DST", parse_where(where)))
    code, out, _ = _run(populated, "DST", where)
    assert code == 0
    assert out.splitlines() == [f"Found {len(expected)} files:"] + [
        format_line(x) for x in expected
    ]
    assert expected  # the example selects something


def test_ls_d_lists_only_files_with_a_disk_copy(populated: Populated) -> None:
    expected = populated.expected.listing(ListingQuery("RAW", None, disk_only=True))
    code, out, _ = _run(populated, "-d", "RAW")
    assert code == 0
    assert out.splitlines()[0] == f"Found {len(expected)} files:"
    assert all(("offline" in line) or ("recalled" in line) for line in out.splitlines()[1:])
    everything = populated.expected.listing(ListingQuery("RAW"))
    assert len(everything) > len(expected)


def test_ls_csv_and_json_formats(populated: Populated) -> None:
    expected = populated.expected.listing(ListingQuery("SDST", parse_where("events > 1000")))
    code, out, _ = _run(populated, "--format", "csv", "SDST", "events > 1000")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and [r["lfn"] for r in rows] == [x.lfn for x in expected]
    assert [int(r["size"]) for r in rows] == [x.size for x in expected]
    code, out, _ = _run(populated, "--format", "json", "SDST", "events > 1000")
    document = json.loads(out)
    assert document["found"] == len(expected)
    assert [f["recalled"] for f in document["files"]] == [list(x.recalled) for x in expected]


def test_ls_with_a_bad_where_clause_fails_clearly(populated: Populated) -> None:
    code, _, err = _run(populated, "DST", "size > 'big'")
    assert code == 1
    assert "size is compared with a number" in err


def test_ls_help_lists_the_attributes() -> None:
    result = CliRunner().invoke(main, ["ls", "--help"])
    assert result.exit_code == 0
    for attribute in ("production", "run", "eventtype", "events", "size", "configversion"):
        assert attribute in result.stdout
