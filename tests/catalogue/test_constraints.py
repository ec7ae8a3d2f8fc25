from __future__ import annotations

import pytest

from bookkeeping.amga_adapter.engine.catalogue import CatalogueSession
from bookkeeping.amga_adapter.engine.errors import (
    ConstraintViolation,
    InvalidName,
    NoSuchConstraint,
)
from bookkeeping.amga_adapter.query import QuerySyntaxError


@pytest.fixture
def files(root: CatalogueSession) -> CatalogueSession:
    root.createdir("/files")
    root.addattr("/files", "GUID", "varchar(36)")
    root.addattr("/files", "Size", "int")
    root.addattr("/files", "JOB_ID", "int")
    root.addattr("/files", "Comment", "varchar(200)")
    return root


def test_not_null_rejects_missing_and_null_values(files: CatalogueSession) -> None:
    name = files.constraint_add_not_null("/files", "GUID")
    assert files.constraint_list("/files") == [f"{name} not_null GUID"]
    with pytest.raises(ConstraintViolation, match="GUID"):
        files.addentry("/files/a", {"Size": 1})
    files.addentry("/files/a", {"GUID": "g"})
    with pytest.raises(ConstraintViolation):
        files.setattr("/files/a", {"GUID": None})
    with pytest.raises(ConstraintViolation):
        files.clearattr("/files", "GUID")
    with pytest.raises(ConstraintViolation):
        files.addentries("/files", [("b", {"GUID": "x"}), ("c", {})])
    assert list(files.getattr("/files/*", ["GUID"])) == [("a", ["g"])]
    files.constraint_drop("/files", name)
    files.addentry("/files/b", {})


def test_not_null_cannot_be_added_over_existing_nulls(files: CatalogueSession) -> None:
    files.addentry("/files/a", {})
    with pytest.raises(ConstraintViolation, match="/files/a"):
        files.constraint_add_not_null("/files", "GUID")
    assert files.constraint_list("/files") == []


def test_unique_is_enforced_by_the_database(files: CatalogueSession) -> None:
    files.constraint_add_unique("/files", ["GUID"])
    files.addentry("/files/a", {"GUID": "g1"})
    with pytest.raises(ConstraintViolation, match="unique"):
        files.addentry("/files/b", {"GUID": "g1"})
    with pytest.raises(ConstraintViolation):
        files.addentries("/files", [("c", {"GUID": "g2"}), ("d", {"GUID": "g2"})])
    files.addentry("/files/b", {"GUID": "g2"})
    with pytest.raises(ConstraintViolation):
        files.setattr("/files/b", {"GUID": "g1"})
    assert [p for p, _ in files.dir("/files")] == ["/files/a", "/files/b"]


def test_unique_over_a_wide_varchar_and_two_attributes(files: CatalogueSession) -> None:
    name = files.constraint_add_unique("/files", ["Comment", "Size"])
    files.addentry("/files/a", {"Comment": "c" * 200, "Size": 1})
    files.addentry("/files/b", {"Comment": "c" * 200, "Size": 2})
    with pytest.raises(ConstraintViolation):
        files.addentry("/files/c", {"Comment": "c" * 200, "Size": 1})
    files.constraint_drop("/files", name)
    files.addentry("/files/c", {"Comment": "c" * 200, "Size": 1})


def test_unique_cannot_be_added_over_duplicates(files: CatalogueSession) -> None:
    files.addentries("/files", [("a", {"GUID": "g"}), ("b", {"GUID": "g"})])
    with pytest.raises(ConstraintViolation):
        files.constraint_add_unique("/files", ["GUID"])
    assert files.constraint_list("/files") == []


def test_reference_needs_the_value_in_the_target(files: CatalogueSession) -> None:
    files.createdir("/jobs")
    files.addattr("/jobs", "JOB_ID", "int")
    files.addentry("/jobs/j1", {"JOB_ID": 1})
    files.constraint_add_reference("/files", "JOB_ID", "/jobs:JOB_ID")
    files.addentry("/files/a", {"JOB_ID": 1})
    files.addentry("/files/b", {})  # NULL references nothing
    with pytest.raises(ConstraintViolation, match="/files/c"):
        files.addentry("/files/c", {"JOB_ID": 2})
    with pytest.raises(ConstraintViolation):
        files.updateattr("/files", [("JOB_ID", "JOB_ID+1")], "")
    assert list(files.getattr("/files/a", ["JOB_ID"])) == [("a", [1])]


def test_check_constraint_uses_the_query_language(files: CatalogueSession) -> None:
    name = files.constraint_add_check("/files", "Size >= 0 and Size < 1000")
    files.addentry("/files/a", {"Size": 5})
    files.addentry("/files/n", {})  # NULL: a check passes unless it is false
    with pytest.raises(ConstraintViolation, match=name):
        files.addentry("/files/b", {"Size": -1})
    with pytest.raises(ConstraintViolation):
        files.setattr("/files/a", {"Size": 1000})
    with pytest.raises(ConstraintViolation):
        files.updateattr("/files", [("Size", "Size*1000")], "")
    assert list(files.getattr("/files/a", ["Size"])) == [("a", [5])]
    with pytest.raises(QuerySyntaxError):
        files.constraint_add_check("/files", "Size >")


def test_removing_an_attribute_drops_its_constraints(files: CatalogueSession) -> None:
    files.constraint_add_check("/files", "Size > 0")
    files.constraint_add_unique("/files", ["GUID"])
    files.constraint_add_not_null("/files", "JOB_ID")
    files.removeattr("/files", "Size")
    files.removeattr("/files", "GUID")
    assert [c.split()[1] for c in files.constraint_list("/files")] == ["not_null"]


def test_dropping_an_unknown_constraint(files: CatalogueSession) -> None:
    with pytest.raises(NoSuchConstraint):
        files.constraint_drop("/files", "unique_99")


def test_a_constraint_takes_the_name_its_caller_gives(root: CatalogueSession) -> None:
    """AMGA clients name their constraints and drop them by those names."""
    root.createdir("/named")
    root.addattr("/named", "n", "int")
    assert root.constraint_add_not_null("/named", "n", name="nn") == "nn"
    assert root.constraint_add_unique("/named", ["n"], name="un") == "un"
    assert root.constraint_add_check("/named", "n > 0", name="ck") == "ck"
    assert [line.split()[0] for line in root.constraint_list("/named")] == ["nn", "un", "ck"]
    with pytest.raises(InvalidName, match="has a constraint named 'un' already"):
        root.constraint_add_check("/named", "n < 9", name="un")
    for bad in ("9lives", "has space", "x" * 65, "unique_12", "pending_x", ""):
        with pytest.raises(InvalidName):
            root.constraint_add_check("/named", "n < 9", name=bad)
    assert len(root.constraint_list("/named")) == 3  # nothing was added by the refusals
    with pytest.raises(ConstraintViolation):
        root.addentry("/named/e", {"n": -1})  # ck holds
    root.constraint_drop("/named", "ck")
    root.addentry("/named/e", {"n": -1})
    assert root.constraint_add_check("/named", "n < 100").startswith("check_")
