"""The query language through the engine: generated columns, joins, permissions."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bookkeeping.amga_adapter.engine.catalogue import CatalogueSession
from bookkeeping.amga_adapter.engine.errors import NoSuchAttribute, NoSuchDirectory
from bookkeeping.amga_adapter.query import QuerySyntaxError


@pytest.fixture
def bk(root: CatalogueSession) -> CatalogueSession:
    root.createdir("/jobs")
    root.addattr("/jobs", "JOB_ID", "int")
    root.addattr("/jobs", "CONFIGNAME", "varchar(128)")
    root.createdir("/files")
    root.addattr("/files", "JOB_ID", "int")
    root.addattr("/files", "Size", "bigint")
    root.addattr("/files", "Group", "varchar(16)")
    root.addentries(
        "/jobs",
        [("j1", {"JOB_ID": 1, "CONFIGNAME": "MC"}), ("j2", {"JOB_ID": 2, "CONFIGNAME": "Data"})],
    )
    root.addentries(
        "/files",
        [
            ("f1", {"JOB_ID": 1, "Size": 100, "Group": "a"}),
            ("f2", {"JOB_ID": 1, "Size": 300, "Group": "b"}),
            ("f3", {"JOB_ID": 2, "Size": 500, "Group": "a"}),
        ],
    )
    return root


def test_find_with_a_condition_on_a_reserved_word_attribute(bk: CatalogueSession) -> None:
    assert list(bk.find("/files", 'Group="a" and Size>200')) == ["/files/f3"]
    assert sorted(bk.find("/files/f*", "")) == ["/files/f1", "/files/f2", "/files/f3"]
    assert list(bk.find("/files/f?", "Size<200")) == ["/files/f1"]


def test_selectattr_joins_two_directories(bk: CatalogueSession) -> None:
    rows = list(
        bk.selectattr(
            ["/files:FILE", "/jobs:CONFIGNAME"],
            '/jobs:JOB_ID=/files:JOB_ID and /jobs:CONFIGNAME="MC" order by /files:FILE',
        )
    )
    assert rows == [("f1", "MC"), ("f2", "MC")]


def test_selectattr_aggregates_and_modifiers(bk: CatalogueSession) -> None:
    ((count, total),) = bk.selectattr(["count(/files:FILE)", "sum(/files:Size)"], "")
    assert (count, Decimal(total)) == (3, Decimal(900))
    assert list(bk.selectattr(["/files:FILE"], "order by /files:Size desc limit 1")) == [("f3",)]


def test_select_query_returns_dicts(bk: CatalogueSession) -> None:
    bk.cd("/files")
    assert list(bk.select_query(["FILE", "Size"], "Size=300")) == [{"FILE": "f2", "Size": 300}]


def test_updateattr_with_an_expression(bk: CatalogueSession) -> None:
    assert bk.updateattr("/files", [("Size", "Size+1")], 'Group="a"') == 2
    assert list(bk.getattr("/files/*", ["Size"])) == [("f1", [101]), ("f2", [300]), ("f3", [501])]
    assert bk.updateattr("/files/f2", [("Size", "0")], "") == 1


def test_a_syntax_error_reports_its_position(bk: CatalogueSession) -> None:
    with pytest.raises(QuerySyntaxError) as error:
        list(bk.find("/files", "Size > > 3"))
    assert error.value.position == 7


def test_unknown_directories_and_attributes_in_queries(bk: CatalogueSession) -> None:
    with pytest.raises(NoSuchAttribute):
        list(bk.selectattr(["/files:Nope"], ""))
    with pytest.raises(NoSuchDirectory):
        list(bk.selectattr(["/nowhere:x"], ""))


HOSTILE_VALUES = {
    "quote": "a'; DROP TABLE cat_users; --",
    "double": 'x" or 1=1 --',
    "comment": "/* */",
    "dashes": "--",
    "backslash_u": "\\u0000",  # the six characters \u0000, not a NUL
    "long": "x" * 10_000,
    "unicode": "\u00dcn\u00ef \u2713 \u4e2d\u6587",
}
# Each hostile condition on /h, with what it must give: the names of the entries found, or
# the error (and the 0-based position it reports).
HOSTILE_CONDITIONS: list[tuple[str, list[str] | tuple[type[Exception], int]]] = [
    ('Note="a\'; DROP TABLE cat_users; --"', ["quote"]),
    ('Note="a\'; DROP TABLE cat_users; --"', ["quote"]),
    ("Note='x\" or 1=1 --'", ["double"]),
    (r'Note="x\" or 1=1 --"', ["double"]),  # \" is a quote inside the string
    (r'Note="x\\" or 1=1 --"', (QuerySyntaxError, 20)),  # "x\\" ends; --" opens one
    ('Note="/* */" or Note="--"', ["comment", "dashes"]),
    ('Note="\\u0000"', ["backslash_u"]),
    ('Note="a\x00b"', (QuerySyntaxError, 7)),  # a real NUL
    ('Note="\x00" or Size>0', (QuerySyntaxError, 6)),
    ("Size=1\x00", (QuerySyntaxError, 6)),
    ("\x00", (QuerySyntaxError, 0)),
    ('Note="' + "x" * 10_000 + '"', ["long"]),
    ('Note="' + "x" * 9_999 + '"', []),
    ("Size=1; DELETE FROM cat_users", (QuerySyntaxError, 6)),
    ("Size=1 /* x */", (QuerySyntaxError, 8)),  # 1 / * x: the * is unexpected
    ('Note="x" union select name from cat_users', (QuerySyntaxError, 9)),
    ("Size = 1 -- Size", []),  # -- is minus minus: Size = 1 + Size, never true
    ('Note="\u00dcn\u00ef \u2713 \u4e2d\u6587"', ["unicode"]),
    ('like(Note, "%\'%")', ["quote"]),
    (r'like(Note, "%\\\\%")', ["backslash_u"]),  # the pattern %\\%: a backslash
    ("Note = 1=1", (QuerySyntaxError, 8)),
]


@pytest.fixture
def hostile(root: CatalogueSession) -> CatalogueSession:
    root.createdir("/h")
    root.addattr("/h", "Note", "text")
    root.addattr("/h", "Size", "int")
    root.addentries("/h", [(name, {"Note": v, "Size": 0}) for name, v in HOSTILE_VALUES.items()])
    return root


@pytest.mark.parametrize(
    ("condition", "expected"),
    HOSTILE_CONDITIONS,
    ids=[f"condition{number}" for number in range(len(HOSTILE_CONDITIONS))],
)
def test_hostile_conditions_never_inject(
    hostile: CatalogueSession,
    condition: str,
    expected: list[str] | tuple[type[Exception], int],
) -> None:
    if isinstance(expected, list):
        assert sorted(hostile.find("/h", condition)) == sorted(f"/h/{n}" for n in expected)
        hostile.cd("/h")
        assert sorted(hostile.selectattr(["FILE"], condition)) == sorted((n,) for n in expected)
    else:
        error, position = expected
        with pytest.raises(error) as raised:
            list(hostile.find("/h", condition))
        assert raised.value.position == position  # type: ignore[attr-defined]
        with pytest.raises(error):
            hostile.updateattr("/h", [("Size", "Size+1")], condition)
        assert {size for _, (size,) in hostile.getattr("/h/*", ["Size"])} == {0}
    # nothing changed: every entry, every user still there
    assert sorted(p for p, _ in hostile.dir("/h")) == sorted(f"/h/{n}" for n in HOSTILE_VALUES)
    assert hostile.catalogue.list_users("root")
