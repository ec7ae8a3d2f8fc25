from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from bookkeeping.amga_adapter.engine.catalogue import CatalogueSession
from bookkeeping.amga_adapter.engine.errors import (
    AttributeExists,
    AttributeInUse,
    InvalidName,
    InvalidType,
    NoSuchAttribute,
    TypeMismatch,
)

ALL_TYPES = [
    ("i", "int", "42", 42),
    ("s", "smallint", -7, -7),
    ("b", "bigint", str(2**40), 2**40),
    ("f", "float", "1.5", 1.5),
    ("d", "double", 2.25, 2.25),
    ("n", "numeric(10,2)", "12.345", Decimal("12.35")),
    ("v", "varchar(8)", "abc", "abc"),
    ("v2", "varchar2(8)", "xyz", "xyz"),
    ("t", "text", "long " * 100, "long " * 100),
    ("ts", "timestamp", "2024-05-06 07:08:09", dt.datetime(2024, 5, 6, 7, 8, 9)),
    ("da", "date", "2024-05-06", dt.date(2024, 5, 6)),
    ("ti", "time", "07:08:09", dt.time(7, 8, 9)),
]


def test_every_type_round_trips(root: CatalogueSession) -> None:
    root.createdir("/t")
    for name, type_, _, _ in ALL_TYPES:
        root.addattr("/t", name, type_)
    assert root.listattr("/t") == [(name, type_) for name, type_, _, _ in ALL_TYPES]
    root.addentry("/t/e", {name: value for name, _, value, _ in ALL_TYPES})
    ((entry, values),) = root.getattr("/t/e", [name for name, *_ in ALL_TYPES])
    assert entry == "e"
    assert values == [expected for *_, expected in ALL_TYPES]


HOSTILE_NAMES = [
    "Group",
    "Size",
    "Order",
    "User",
    "select",
    "Name",
    "a b",
    'q"uote',
    "it's",
    "x;drop table y;--",
    "Ünïcödé ∑",
    "*c*",
    "-- c",
    "owner",
    "name",
    "a1",
]


def test_reserved_words_and_hostile_attribute_names_work(root: CatalogueSession) -> None:
    root.createdir("/t")
    for name in HOSTILE_NAMES:
        root.addattr("/t", name, "varchar(32)")
    root.addentry("/t/e", {name: f"v-{name}" for name in HOSTILE_NAMES})
    assert list(root.getattr("/t/e", HOSTILE_NAMES)) == [
        ("e", [f"v-{name}" for name in HOSTILE_NAMES])
    ]
    assert root.listattr("/t") == [(name, "varchar(32)") for name in HOSTILE_NAMES]


def test_attribute_names_are_case_preserving(root: CatalogueSession) -> None:
    root.createdir("/t")
    root.addattr("/t", "Size", "int")
    root.addattr("/t", "size", "varchar(4)")
    root.addentry("/t/e", {"Size": 1, "size": "one"})
    assert list(root.getattr("/t/e", ["size", "Size"])) == [("e", ["one", 1])]


def test_addattr_twice_is_attribute_exists(root: CatalogueSession) -> None:
    root.createdir("/t")
    root.addattr("/t", "x", "int")
    with pytest.raises(AttributeExists, match="'x'"):
        root.addattr("/t", "x", "int")


def test_unknown_types_and_bad_names_are_rejected(root: CatalogueSession) -> None:
    root.createdir("/t")
    for type_ in ["blob", "varchar", "varchar(0)", "numeric(50,2)", "int;", "int; drop"]:
        with pytest.raises(InvalidType):
            root.addattr("/t", "x", type_)
    for name in ["", " ", "FILE", "a:b", "a\x00b", "x" * 256]:
        with pytest.raises(InvalidName):
            root.addattr("/t", name, "int")
    assert root.listattr("/t") == []


MISFITS = [
    ("int", "1.5"),
    ("int", "abc"),
    ("int", 2**40),
    ("int", True),
    ("varchar(3)", "abcd"),
    ("date", "May"),
    ("numeric(4,2)", "123.4"),
    ("float", "nan"),
    ("timestamp", "soon"),
]


def test_values_that_do_not_fit_are_type_mismatch(root: CatalogueSession) -> None:
    root.createdir("/t")
    for number, (type_, _) in enumerate(MISFITS):
        root.addattr("/t", f"x{number}", type_)
    for number, (_, value) in enumerate(MISFITS):
        with pytest.raises(TypeMismatch, match=f"'x{number}'"):
            root.addentry("/t/e", {f"x{number}": value})
    assert list(root.dir("/t")) == []


def test_removeattr_refuses_while_values_exist_unless_forced(root: CatalogueSession) -> None:
    root.createdir("/t")
    root.addattr("/t", "x", "int")
    root.addentry("/t/e", {"x": 1})
    with pytest.raises(AttributeInUse):
        root.removeattr("/t", "x")
    root.removeattr("/t", "x", force=True)
    assert root.listattr("/t") == []
    with pytest.raises(NoSuchAttribute):
        list(root.getattr("/t/e", ["x"]))
    root.addattr("/t", "x", "varchar(5)")  # a new column, not the old one
    assert list(root.getattr("/t/e", ["x"])) == [("e", [None])]


def test_removeattr_of_an_unused_attribute_needs_no_force(root: CatalogueSession) -> None:
    root.createdir("/t")
    root.addattr("/t", "x", "int")
    root.addentry("/t/e", {})
    root.removeattr("/t", "x")
    assert root.listattr("/t") == []


def test_clearattr_sets_null_in_every_entry(root: CatalogueSession) -> None:
    root.createdir("/t")
    root.addattr("/t", "x", "int")
    root.addentries("/t", [("a", {"x": 1}), ("b", {"x": 2})])
    root.clearattr("/t", "x")
    assert list(root.getattr("/t/*", ["x"])) == [("a", [None]), ("b", [None])]


def test_listattr_of_an_entry_shows_its_directory_schema(root: CatalogueSession) -> None:
    root.createdir("/t")
    root.addattr("/t", "x", "int")
    root.addentry("/t/e", {})
    assert root.listattr("/t/e") == [("x", "int")]


def test_ensure_attributes_adds_only_what_is_missing(root: CatalogueSession) -> None:
    root.createdir("/t")
    root.addattr("/t", "x", "int")
    assert root.ensure_attributes("/t", {"x": None, "y": None, "z": "int"}) == ["y", "z"]
    assert root.listattr("/t") == [("x", "int"), ("y", "varchar(255)"), ("z", "int")]
    assert root.ensure_attributes("/t", {"x": "text", "y": None}) == []
