"""The pure-Python evaluator states the semantics the SQL must match; these pin the
rules themselves (three-valued logic, typing of literals, NULL order, grouping)."""

from __future__ import annotations

import pytest

from bookkeeping.amga_adapter.query.evaluate import Directory, evaluate_find, evaluate_select

ROWS = [
    {"FILE": "e1", "n": 1, "f": 0.5, "s": "a"},
    {"FILE": "e2", "n": None, "f": 2.0, "s": "B"},
    {"FILE": "e3", "n": 3, "f": None, "s": None},
]
DIRECTORIES = {"/d": Directory("/d", {"n": int, "f": float, "s": str}, ROWS)}


def names(condition: str) -> list[str]:
    return [row[0] for row in evaluate_select(["FILE"], condition, DIRECTORIES, lambda raw: "/d")]


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("n = 1 or n > 2", ["e1", "e3"]),
        ("n != 1", ["e3"]),  # NULL != 1 is unknown
        ("not n = 1", ["e3"]),  # not unknown is unknown
        ("n > 0 or f > 1", ["e1", "e2", "e3"]),  # unknown or true is true
        ("n > 0 and f > 0", ["e1"]),  # unknown and true is unknown
        ("not (n > 5 and f > 5)", ["e1", "e2", "e3"]),  # unknown and false is false
        ("n in (1, 3)", ["e1", "e3"]),
        ("n not in (1)", ["e3"]),
        ("n is null", ["e2"]),
        ("s is not null and f is not null", ["e1", "e2"]),
        ('n = "3"', ["e3"]),  # a string literal meets a number
        ("s = 1", []),
        ('s < "a"', ["e2"]),  # binary: "B" < "a"
        ('like(s, "_")', ["e1", "e2"]),
        ("n / 0 = 0 or n / 0 != 0", []),  # division by zero is NULL
        ("n / 2 = 1.5", ["e3"]),  # real division
        ("-n < -2", ["e3"]),
    ],
)
def test_conditions(condition: str, expected: list[str]) -> None:
    assert names(condition) == expected


def test_null_sorts_lowest() -> None:
    assert names("order by n") == ["e2", "e1", "e3"]
    assert names("order by n desc") == ["e3", "e1", "e2"]
    assert names("order by s desc, FILE limit 2 offset 1") == ["e2", "e3"]


def test_aggregates_skip_null_and_group_by_plain_items() -> None:
    rows = evaluate_select(
        ["count(FILE)", "count(n)", "sum(n)", "avg(f)", "min(s)", "max(s)"],
        "",
        DIRECTORIES,
        lambda raw: "/d",
    )
    assert rows == [(3, 2, 4, 1.25, "B", "a")]
    assert evaluate_select(["count(FILE)", "sum(n)"], "n > 9", DIRECTORIES, lambda raw: "/d") == [
        (0, None)
    ]
    by_null = evaluate_select(["n", "count(FILE)"], "order by n", DIRECTORIES, lambda raw: "/d")
    assert by_null == [(None, 1), (1, 1), (3, 1)]


def test_find_lists_each_entry_once() -> None:
    directories = {
        **DIRECTORIES,
        "/o": Directory("/o", {"n": int}, [{"FILE": "o1", "n": 1}, {"FILE": "o2", "n": 1}]),
    }
    assert evaluate_find("/d", "/o:n = n", directories, lambda raw: raw) == ["e1"]
