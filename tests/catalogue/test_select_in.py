"""``CatalogueSession.select_in``: (key, *attributes) of the readable entries whose key is
one of many values, bound ``IN_CHUNK`` per statement (engine extension)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
import sqlalchemy as sa

from bookkeeping.amga_adapter.engine.catalogue import Catalogue, CatalogueSession
from bookkeeping.amga_adapter.engine.entries import IN_CHUNK
from bookkeeping.amga_adapter.engine.errors import (
    InvalidValue,
    NoSuchAttribute,
    NoSuchDirectory,
    PermissionDenied,
    TypeMismatch,
)
from bookkeeping.amga_adapter.engine.permissions import EVERYBODY

from .test_entries import HOSTILE


@pytest.fixture
def files(root: CatalogueSession) -> CatalogueSession:
    root.createdir("/files")
    root.addattr("/files", "FILE_ID", "bigint")
    root.addattr("/files", "LOGNAME", "varchar(255)")
    root.addattr("/files", "Size", "int")
    root.addattr("/files", "Made", "date")
    root.addentries(
        "/files",
        (
            (
                f"f{i}",
                {
                    "FILE_ID": i,
                    "LOGNAME": f"/lhcb/f{i}.dst",
                    "Size": None if i % 7 == 0 else i * 10,
                    "Made": dt.date(2024, 1, 1) + dt.timedelta(days=i % 30),
                },
            )
            for i in range(1, 1001)
        ),
    )
    return root


def _statements(engine: sa.Engine, call: Callable[[], object]) -> tuple[object, int]:
    seen: list[str] = []

    def listener(*arguments: object) -> None:
        text = str(arguments[2])
        # Not SQLite's emulated BEGIN (engines.py), nor the schema version's read (one
        # per operation, not per chunk: schema_version.py).
        if not text.startswith("BEGIN") and "cat_schema_version" not in text:
            seen.append(text)

    sa.event.listen(engine, "before_cursor_execute", listener)
    try:
        result = call()
    finally:
        sa.event.remove(engine, "before_cursor_execute", listener)
    return result, len(seen)


def test_rows_of_the_matching_entries_with_their_attributes(files: CatalogueSession) -> None:
    rows = files.select_in("/files", "FILE_ID", [3, 7, 999, 5000], ["LOGNAME", "Size", "Made"])
    assert sorted(rows) == [  # type: ignore[type-var]
        (3, "/lhcb/f3.dst", 30, dt.date(2024, 1, 4)),
        (7, "/lhcb/f7.dst", None, dt.date(2024, 1, 8)),
        (999, "/lhcb/f999.dst", 9990, dt.date(2024, 1, 10)),
    ]


def test_a_string_key_and_no_other_attribute(files: CatalogueSession) -> None:
    rows = files.select_in("/files", "LOGNAME", ["/lhcb/f2.dst", "/lhcb/F2.dst", "nope"], [])
    assert rows == [("/lhcb/f2.dst",)]


def test_the_same_answer_as_selectattr_with_an_in_list(files: CatalogueSession) -> None:
    wanted = [1, 14, 15, 500, 1000]
    via_query = files.selectattr(
        ["/files:FILE_ID", "/files:Size"], f"/files:FILE_ID in ({', '.join(map(str, wanted))})"
    )
    assert sorted(files.select_in("/files", "FILE_ID", wanted, ["Size"])) == sorted(via_query)


def test_values_are_coerced_to_the_key_type_and_counted_once(files: CatalogueSession) -> None:
    assert files.select_in("/files", "FILE_ID", ["4", " 4 ", 4, 4.0], ["Size"]) == [(4, 40)]
    # A duplicate that falls into another chunk is still one key: one row.
    values: list[object] = [*range(1, IN_CHUNK + 2), "1"]
    rows = files.select_in("/files", "FILE_ID", values, [])
    assert sorted(rows) == [(i,) for i in range(1, IN_CHUNK + 2)]  # type: ignore[type-var]


def test_no_values_no_rows_but_the_directory_is_checked(files: CatalogueSession) -> None:
    assert files.select_in("/files", "FILE_ID", [], ["Size"]) == []
    with pytest.raises(NoSuchDirectory):
        files.select_in("/nowhere", "FILE_ID", [], [])


@pytest.mark.parametrize("count", [IN_CHUNK - 1, IN_CHUNK, IN_CHUNK + 1, 5 * IN_CHUNK - 3])
def test_large_lists_are_read_in_chunks(
    engine: sa.Engine, files: CatalogueSession, count: int
) -> None:
    wanted = list(range(1, count + 1))
    files.select_in("/files", "FILE_ID", [1], [])  # the schema is cached
    rows, statements = _statements(engine, lambda: files.select_in("/files", "FILE_ID", wanted, []))
    assert sorted(rows) == [(i,) for i in wanted]  # type: ignore[arg-type]
    assert statements == -(-count // IN_CHUNK)


def test_a_list_far_beyond_any_chunk_and_the_directory(files: CatalogueSession) -> None:
    wanted = [str(i) for i in range(-2000, 3000)]  # 5,000 values, 1,000 of them entries
    rows = files.select_in("/files", "FILE_ID", wanted, ["LOGNAME"])
    assert sorted(rows) == [(i, f"/lhcb/f{i}.dst") for i in range(1, 1001)]  # type: ignore[type-var]


def test_only_readable_entries_are_returned(catalogue: Catalogue, files: CatalogueSession) -> None:
    files.chgrp("/files", "physicists")
    files.acl_revoke("/files", EVERYBODY, "rwx")
    files.chmod("/files", "rwx", "r-x")
    files.chmod("/files/f2", "rw-", "---")  # bob (a group member) may not read f2
    bob = catalogue.session("bob")
    assert sorted(bob.select_in("/files", "FILE_ID", [1, 2, 3], ["Size"])) == [(1, 10), (3, 30)]
    assert sorted(files.select_in("/files", "FILE_ID", [1, 2, 3], [])) == [(1,), (2,), (3,)]
    for user in ("carol", "anonymous"):  # no right on the directory at all
        with pytest.raises(PermissionDenied):
            catalogue.session(user).select_in("/files", "FILE_ID", [1], [])


def test_hostile_values_are_only_values(root: CatalogueSession) -> None:
    root.createdir("/h")
    root.addattr("/h", "v", "text")
    root.addattr("/h", "n", "int")
    root.addentries("/h", [(f"e{i}", {"v": value, "n": i}) for i, value in enumerate(HOSTILE)])
    rows = root.select_in("/h", "v", [*HOSTILE, "' OR '1'='1", "%", "*"], ["n"])
    assert sorted(rows, key=lambda row: row[1]) == [  # type: ignore[arg-type,return-value]
        (value, i) for i, value in enumerate(HOSTILE)
    ]
    assert len(list(root.dir("/h"))) == len(HOSTILE)
    assert root.catalogue.list_users("root")


@pytest.mark.parametrize(
    ("key", "values", "attributes", "error", "match"),
    [
        ("LOGNAME", ["a\x00b"], [], InvalidValue, "NUL"),
        ("FILE_ID", ["one"], [], TypeMismatch, "'FILE_ID'"),
        ("FILE_ID", [2**63], [], TypeMismatch, "out of range"),
        ("FILE_ID", [[1]], [], TypeMismatch, "'FILE_ID'"),
        ("Made", ["2024-13-01"], [], TypeMismatch, "'Made'"),
        ("Nope", [1], [], NoSuchAttribute, "'Nope'"),
        ("FILE_ID", [1], ["Size", "Nope"], NoSuchAttribute, "'Nope'"),
        ("FILE_ID", "123", [], TypeError, "not a string"),
        ("FILE_ID", [1], "Size", TypeError, "not a string"),
    ],
)
def test_bad_input_is_a_clear_error(
    files: CatalogueSession,
    key: str,
    values: object,
    attributes: object,
    error: type[Exception],
    match: str,
) -> None:
    with pytest.raises(error, match=match):
        files.select_in("/files", key, values, attributes)  # type: ignore[arg-type]
    assert files.select_in("/files", "FILE_ID", [1], ["Size"]) == [(1, 10)]


def test_inside_a_transaction_it_sees_the_transaction_s_writes(files: CatalogueSession) -> None:
    files.begin()
    try:
        files.addentry("/files/new", {"FILE_ID": 5000, "Size": 1})
        assert files.select_in("/files", "FILE_ID", [5000], ["Size"]) == [(5000, 1)]
    finally:
        files.abort()
    assert files.select_in("/files", "FILE_ID", [5000], ["Size"]) == []
