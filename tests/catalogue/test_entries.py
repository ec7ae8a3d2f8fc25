from __future__ import annotations

import pytest

from bookkeeping.amga_adapter.engine.catalogue import CatalogueSession
from bookkeeping.amga_adapter.engine.errors import (
    EntryExists,
    InvalidName,
    InvalidValue,
    NoSuchAttribute,
    NoSuchDirectory,
    NoSuchEntry,
    TypeMismatch,
)


@pytest.fixture
def files(root: CatalogueSession) -> CatalogueSession:
    root.createdir("/files")
    root.addattr("/files", "Size", "int")
    root.addattr("/files", "GUID", "varchar(36)")
    return root


def test_addentry_then_getattr(files: CatalogueSession) -> None:
    files.addentry("/files/f1", {"Size": "100", "GUID": "g-1"})
    assert list(files.getattr("/files/f1", ["GUID", "Size"])) == [("f1", ["g-1", 100])]


def test_unset_attributes_are_null(files: CatalogueSession) -> None:
    files.addentry("/files/f1", {"Size": 1})
    assert list(files.getattr("/files/f1", ["GUID"])) == [("f1", [None])]


def test_addentry_twice_is_entry_exists_and_keeps_the_first(files: CatalogueSession) -> None:
    files.addentry("/files/f1", {"Size": 1})
    with pytest.raises(EntryExists, match="/files/f1"):
        files.addentry("/files/f1", {"Size": 2})
    assert list(files.getattr("/files/f1", ["Size"])) == [("f1", [1])]


def test_addentry_with_unknown_attribute_fails_without_extend(files: CatalogueSession) -> None:
    with pytest.raises(NoSuchAttribute, match="'Colour'"):
        files.addentry("/files/f1", {"Colour": "red"})
    assert list(files.dir("/files")) == []


def test_addentry_with_extend_adds_the_attribute(files: CatalogueSession) -> None:
    files.addentry("/files/f1", {"Colour": "red", "Size": 3}, extend=True)
    assert ("Colour", "varchar(255)") in files.listattr("/files")
    assert list(files.getattr("/files/f1", ["Colour"])) == [("f1", ["red"])]


def test_addentry_in_missing_directory(files: CatalogueSession) -> None:
    with pytest.raises(NoSuchDirectory):
        files.addentry("/nowhere/f", {})


def test_addentries_inserts_ten_thousand_entries(files: CatalogueSession) -> None:
    rows = ((f"f{i:05d}", {"Size": i, "GUID": f"g{i}"}) for i in range(10_000))
    assert files.addentries("/files", rows) == 10_000
    assert list(files.getattr("/files/f09999", ["Size", "GUID"])) == [("f09999", [9999, "g9999"])]
    assert sum(1 for _ in files.dir("/files")) == 10_000


def test_addentries_is_all_or_nothing(files: CatalogueSession) -> None:
    files.addentry("/files/f03000", {})
    rows = [(f"f{i:05d}", {"Size": i}) for i in range(5000)]
    with pytest.raises(EntryExists, match="f03000"):
        files.addentries("/files", rows)
    assert [p for p, _ in files.dir("/files")] == ["/files/f03000"]


def test_addentries_rejects_a_name_given_twice(files: CatalogueSession) -> None:
    with pytest.raises(EntryExists, match="twice"):
        files.addentries("/files", [("a", {}), ("b", {}), ("a", {})])
    assert list(files.dir("/files")) == []


def test_addentries_with_a_bad_value_adds_nothing(files: CatalogueSession) -> None:
    rows = [(f"f{i}", {"Size": i}) for i in range(3000)] + [("bad", {"Size": "x"})]
    with pytest.raises(Exception, match="'Size'"):
        files.addentries("/files", rows)
    assert list(files.dir("/files")) == []


def test_setattr_on_one_entry_and_on_a_pattern(files: CatalogueSession) -> None:
    files.addentries("/files", [("a1", {"Size": 1}), ("a2", {"Size": 2}), ("b1", {"Size": 3})])
    assert files.setattr("/files/a1", {"GUID": "x"}) == 1
    assert files.setattr("/files/a*", {"Size": 0}) == 2
    assert list(files.getattr("/files/*", ["Size", "GUID"])) == [
        ("a1", [0, "x"]),
        ("a2", [0, None]),
        ("b1", [3, None]),
    ]


def test_setattr_of_a_missing_entry_is_no_such_entry(files: CatalogueSession) -> None:
    with pytest.raises(NoSuchEntry, match="/files/zz"):
        files.setattr("/files/zz", {"Size": 1})


def test_getattr_of_a_missing_entry_is_no_such_entry(files: CatalogueSession) -> None:
    with pytest.raises(NoSuchEntry):
        files.getattr("/files/zz", ["Size"])


def test_rm_removes_one_entry_or_a_pattern(files: CatalogueSession) -> None:
    files.addentries("/files", [(n, {}) for n in ["a1", "a2", "b1"]])
    assert files.rm("/files/a*") == 2
    assert files.rm("/files/b1") == 1
    with pytest.raises(NoSuchEntry):
        files.rm("/files/b1")
    assert files.rm("/files/*") == 0


def test_relative_entry_paths_use_the_current_directory(files: CatalogueSession) -> None:
    files.cd("/files")
    files.addentry("f", {"Size": 5})
    assert list(files.getattr("f", ["Size"])) == [("f", [5])]


HOSTILE = [
    "it's",
    'say "hi"',
    "a;DROP TABLE cat_users;--",
    "/* comment */",
    "-- comment",
    "Ünïcödé ✓ 中文",
    "back\\slash",
    "100%_like",
    "x" * 10_000,
]


def test_hostile_values_are_stored_verbatim(root: CatalogueSession) -> None:
    root.createdir("/h")
    root.addattr("/h", "v", "text")
    for number, value in enumerate(HOSTILE):
        root.addentry(f"/h/e{number}", {"v": value})
        assert list(root.getattr(f"/h/e{number}", ["v"])) == [(f"e{number}", [value])]
        assert root.setattr(f"/h/e{number}", {"v": value + value}) == 1
        assert list(root.getattr(f"/h/e{number}", ["v"])) == [(f"e{number}", [value + value])]


def test_hostile_entry_names_work(root: CatalogueSession) -> None:
    root.createdir("/h")
    names = sorted(n for n in HOSTILE if len(n) < 200 and not set(n) & set("/*?"))
    for name in names:
        root.addentry("/h/" + name, {})
    assert sorted(p for p, _ in root.dir("/h")) == sorted("/h/" + name for name in names)
    for name in names:
        assert root.rm("/h/" + name) == 1


def test_nul_is_rejected_clearly_everywhere(root: CatalogueSession) -> None:
    root.createdir("/h")
    root.addattr("/h", "v", "text")
    with pytest.raises(InvalidValue, match="NUL"):
        root.addentry("/h/e", {"v": "a\x00b"})
    with pytest.raises(InvalidName):
        root.addentry("/h/e\x00", {})
    assert list(root.dir("/h")) == []


def test_long_entry_names_are_rejected(root: CatalogueSession) -> None:
    root.createdir("/h")
    with pytest.raises(InvalidName):
        root.addentry("/h/" + "x" * 10_000, {})


def test_a_failed_write_may_leave_a_new_column_but_never_half_an_entry(
    files: CatalogueSession,
) -> None:
    with pytest.raises(TypeMismatch, match="'Size'"):
        files.addentry("/files/f1", {"Fresh": "x", "Size": "not a number"}, extend=True)
    assert ("Fresh", "varchar(255)") in files.listattr("/files")
    assert list(files.dir("/files")) == []


def test_setattr_with_extend_adds_the_attribute(files: CatalogueSession) -> None:
    files.addentries("/files", [("a", {}), ("b", {})])
    assert files.setattr("/files/*", {"Run": "7"}, extend=True) == 2
    assert list(files.getattr("/files/*", ["Run"])) == [("a", ["7"]), ("b", ["7"])]
