from __future__ import annotations

import pytest

from bookkeeping.amga_adapter.engine.catalogue import CatalogueSession
from bookkeeping.amga_adapter.engine.errors import (
    DirectoryExists,
    DirectoryNotEmpty,
    InvalidName,
    InvalidPattern,
    InvalidType,
    NoSuchDirectory,
    PermissionDenied,
)


def test_createdir_then_dir_lists_it_as_a_collection(root: CatalogueSession) -> None:
    root.createdir("/jobs")
    root.createdir("/jobs/2024")
    assert list(root.dir("/")) == [("/jobs", "collection")]
    assert list(root.dir("/jobs")) == [("/jobs/2024", "collection")]


def test_createdir_twice_is_directory_exists(root: CatalogueSession) -> None:
    root.createdir("/jobs")
    with pytest.raises(DirectoryExists, match="/jobs"):
        root.createdir("/jobs")


def test_createdir_with_attributes_makes_them_with_the_table(root: CatalogueSession) -> None:
    root.createdir("/jobs", attributes={"JOB_ID": "int", "NAME": None, "WHEN": "timestamp"})
    assert sorted(root.listattr("/jobs")) == [
        ("JOB_ID", "int"),
        ("NAME", "varchar(255)"),
        ("WHEN", "timestamp"),
    ]
    root.addentry("/jobs/1", {"JOB_ID": 1, "NAME": "one"})
    assert list(root.getattr("/jobs/1", ["JOB_ID", "NAME", "WHEN"])) == [("1", [1, "one", None])]
    # Nothing is left to add, and a later attribute is added as to any directory.
    assert root.ensure_attributes("/jobs", {"JOB_ID": "int", "SIZE": "bigint"}) == ["SIZE"]
    with pytest.raises(DirectoryExists):
        root.createdir("/jobs", attributes={"OTHER": "int"})
    assert "OTHER" not in dict(root.listattr("/jobs"))


def test_createdir_with_a_bad_attribute_creates_nothing(root: CatalogueSession) -> None:
    with pytest.raises(InvalidType):
        root.createdir("/jobs", attributes={"JOB_ID": "no such type"})
    with pytest.raises(InvalidName):
        root.createdir("/jobs", attributes={"bad:name": "int"})
    assert list(root.dir("/")) == []


def test_createdir_needs_an_existing_parent(root: CatalogueSession) -> None:
    with pytest.raises(NoSuchDirectory, match="/a/b"):
        root.createdir("/a/b/c")


def test_createdir_rejects_bad_names(root: CatalogueSession) -> None:
    for path in ["/", "/a/..", "/a*b", "/q?", "/x\x00y", "/" + "n" * 256]:
        with pytest.raises((InvalidName, InvalidPattern)):
            root.createdir(path)
    assert list(root.dir("/")) == []


def test_cd_and_pwd_resolve_relative_paths(root: CatalogueSession) -> None:
    root.createdir("/a")
    root.createdir("/a/b")
    root.cd("/a")
    assert root.pwd() == "/a"
    root.cd("b")
    assert root.pwd() == "/a/b"
    root.cd("..")
    assert root.pwd() == "/a"
    root.createdir("c")
    assert ("/a/c", "collection") in list(root.dir("."))


def test_cd_into_missing_directory_fails_and_keeps_cwd(root: CatalogueSession) -> None:
    with pytest.raises(NoSuchDirectory):
        root.cd("/nowhere")
    assert root.pwd() == "/"


def test_rmdir_refuses_a_non_empty_directory(root: CatalogueSession) -> None:
    root.createdir("/a")
    root.addentry("/a/e", {})
    with pytest.raises(DirectoryNotEmpty, match="/a"):
        root.rmdir("/a")
    root.rm("/a/e")
    root.rmdir("/a")
    assert list(root.dir("/")) == []


def test_rmdir_recursive_removes_the_subtree_and_its_tables(root: CatalogueSession) -> None:
    root.createdir("/a")
    root.createdir("/a/b")
    root.createdir("/a_b")  # LIKE's '_' must not match '/' siblings by accident
    root.addattr("/a/b", "x", "int")
    root.addentry("/a/b/e", {"x": 1})
    root.rmdir("/a", recursive=True)
    assert list(root.dir("/")) == [("/a_b", "collection")]
    with pytest.raises(NoSuchDirectory):
        root.listattr("/a/b")
    root.createdir("/a")
    assert list(root.dir("/a")) == []


def test_root_directory_cannot_be_removed(root: CatalogueSession) -> None:
    with pytest.raises(PermissionDenied):
        root.rmdir("/")


def test_dir_with_a_pattern_lists_matching_names(root: CatalogueSession) -> None:
    root.createdir("/d")
    root.createdir("/d/run1")
    for name in ["file1", "file2", "other", "file_%"]:
        root.addentry(f"/d/{name}", {})
    assert [p for p, _ in root.dir("/d/file?")] == ["/d/file1", "/d/file2"]
    assert [p for p, _ in root.dir("/d/*1")] == ["/d/run1", "/d/file1"]
    assert [p for p, _ in root.dir("/d/file_*")] == ["/d/file_%"]


def test_dir_stream_can_be_closed_early(root: CatalogueSession) -> None:
    root.createdir("/d")
    root.addentries("/d", [(f"e{i}", {}) for i in range(50)])
    stream = root.dir("/d")
    assert next(stream) == ("/d/e0", "entry")
    stream.close()  # type: ignore[attr-defined]
    assert list(stream) == []


def test_hostile_directory_names_are_just_names(root: CatalogueSession) -> None:
    names = [
        "it's",
        'a"b',
        "x; DROP TABLE cat_directories; --",
        "-- c",
        "Ünïcödé ✓",
        "select",
        "100%_",
        "back\\slash",
        " spaced ",
    ]
    for name in names:
        root.createdir("/" + name)
        root.addentry(f"/{name}/e", {})
    assert sorted(p for p, _ in root.dir("/")) == sorted("/" + n for n in names)
    root.cd("/" + names[0])
    assert root.pwd() == "/it's"
    for name in names:
        root.rmdir("/" + name, recursive=True)
    assert list(root.dir("/")) == []
