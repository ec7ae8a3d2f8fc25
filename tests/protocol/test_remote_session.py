"""``RemoteSession``: catalogue-session reads over the AMGA protocol give what the
in-process ``CatalogueSession`` gives (typed values, NULLs, errors), on a live server."""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Iterator
from typing import Any

import pytest

from bookkeeping.amga_adapter.client.client import MDClient
from bookkeeping.amga_adapter.client.remote import RemoteCatalogue, RemoteCatalogueUnavailable
from bookkeeping.amga_adapter.client.remote.session import RemoteSession
from bookkeeping.amga_adapter.engine.errors import (
    NoSuchAttribute,
    NoSuchDirectory,
    PermissionDenied,
)
from bookkeeping.amga_adapter.query import QuerySyntaxError
from tests.protocol.conftest import ALICE_PASSWORD, ROOT_PASSWORD
from tests.protocol.cutting_proxy import CuttingProxy
from tests.protocol.serving import RunningServer

TYPES = {
    "i": "int",
    "s": "smallint",
    "b": "bigint",
    "f": "float",
    "d": "double",
    "n": "numeric(10,2)",
    "v": "varchar(40)",
    "t": "text",
    "ts": "timestamp",
    "dt": "date",
    "tm": "time",
}
ROWS = [
    ("e1", {"i": 1, "s": 2, "b": 2**40, "f": 1.5, "d": -2.25, "n": "12.30", "v": "one",
            "t": "a\nb\\n", "ts": "2024-01-02 03:04:05", "dt": "2024-01-02", "tm": "03:04:05"}),
    ("e2", {"i": 2, "v": "", "t": "\x04 end"}),  # the rest NULL; v the empty string
    ("e3", {"i": 3, "v": "three"}),
    ("e4", {"i": 4, "v": "four"}),  # t NULL
]  # fmt: skip
ALL_ITEMS = [f"/typed:{name}" for name in TYPES] + ["/typed:FILE"]


@pytest.fixture
def local(catalogue: Any) -> Iterator[Any]:
    session = catalogue.session("root")
    yield session
    session.close()


@pytest.fixture
def remote(amga: RunningServer) -> Iterator[RemoteSession]:
    client = MDClient("127.0.0.1", amga.port, "root", ROOT_PASSWORD)
    try:
        yield RemoteCatalogue(client).session()
    finally:
        client.close()


@pytest.fixture
def typed(local: Any) -> Any:
    local.createdir("/typed")
    local.ensure_attributes("/typed", TYPES)
    local.addentries("/typed", ROWS)
    return local


def _same(local: Any, remote: RemoteSession, items: list[str], condition: str = "") -> list:
    expected = list(local.selectattr(items, condition))
    got = list(remote.selectattr(items, condition))
    assert got == expected
    return got


def test_values_come_back_typed_with_nulls_and_empty_strings(
    typed: Any, remote: RemoteSession
) -> None:
    rows = _same(typed, remote, ALL_ITEMS, "order by /typed:i")
    first = dict(zip(TYPES, rows[0], strict=False))
    assert first["b"] == 2**40 and isinstance(first["n"], decimal.Decimal)
    assert first["ts"] == dt.datetime(2024, 1, 2, 3, 4, 5) and first["tm"] == dt.time(3, 4, 5)
    assert first["t"] == "a\nb\\n"  # escaped on the wire, restored here
    assert [row[6] for row in rows] == ["one", "", "three", "four"]  # v: never NULL
    assert [row[7] for row in rows] == ["a\nb\\n", "\x04 end", None, None]  # t: never ""


def test_null_and_empty_text_in_separate_results(typed: Any, remote: RemoteSession) -> None:
    typed.addentry("/typed/e5", {"i": 5, "t": ""})  # v NULL, t the empty string
    assert _same(typed, remote, ["/typed:v"], '/typed:v = ""') == [("",)]
    assert _same(typed, remote, ["/typed:v", "/typed:t"], "/typed:i = 5") == [(None, "")]
    assert _same(typed, remote, ["upper(/typed:v)"], "/typed:i = 2") == [("",)]
    assert _same(typed, remote, ["min(/typed:v)"], "/typed:i > 1") == [("",)]


def test_what_a_filter_proves_and_what_it_does_not(typed: Any, remote: RemoteSession) -> None:
    typed.addentry("/typed/e5", {"i": 5})  # v NULL
    items = ["/typed:i", "/typed:v"]
    # Proven not NULL by the filter itself (no question asked): the empty string.
    assert _same(typed, remote, items, "/typed:v is not null and /typed:i = 2") == [(2, "")]
    assert _same(typed, remote, items, 'not (/typed:v = "x") and /typed:i = 2') == [(2, "")]
    # Mentioned, but not proven: an "or", an "is null", a "not ... is not null".
    assert _same(typed, remote, items, '/typed:v = "x" or /typed:i = 5') == [(5, None)]
    assert _same(typed, remote, items, "/typed:v is null") == [(5, None)]
    assert _same(typed, remote, items, "not (/typed:v is not null)") == [(5, None)]


def test_one_result_mixing_null_and_empty_text_reads_both_as_null(
    typed: Any, remote: RemoteSession
) -> None:
    """The documented limit of the wire (docs/bookkeeping.md): NULL and the empty string are
    both an empty line, and one aggregate question per result cannot tell them apart row
    by row when the result holds both."""
    typed.addentry("/typed/e5", {"i": 5})  # v NULL, next to e2's empty string
    items, condition = ["/typed:i", "/typed:v"], "/typed:i in (2, 5) order by /typed:i"
    assert list(typed.selectattr(items, condition)) == [(2, ""), (5, None)]
    assert list(remote.selectattr(items, condition)) == [(2, None), (5, None)]


def test_aggregates_and_expressions(typed: Any, remote: RemoteSession) -> None:
    items = [
        "count(/typed:FILE)",
        "count(/typed:v)",
        "sum(/typed:i)",
        "sum(/typed:n)",
        "avg(/typed:i)",
        "min(/typed:v)",
        "max(/typed:ts)",
        "/typed:i * 2",
        "/typed:i / 2",
    ]
    _same(typed, remote, items[:7])
    _same(typed, remote, items[:7], "/typed:i > 100")  # no rows: NULL sums, zero counts
    _same(typed, remote, ["/typed:i", *items[7:]], "order by /typed:i")
    _same(typed, remote, ["/typed:v", "count(/typed:FILE)"], "order by /typed:v")


def test_getattr_dir_and_listattr(typed: Any, remote: RemoteSession) -> None:
    names = list(TYPES)
    assert list(remote.getattr("/typed/*", names)) == list(typed.getattr("/typed/*", names))
    assert list(remote.getattr("/typed/e2", names)) == list(typed.getattr("/typed/e2", names))
    assert list(remote.dir("/")) == list(typed.dir("/"))
    assert remote.listattr("/typed") == typed.listattr("/typed")


def test_errors_are_the_catalogues_own(typed: Any, remote: RemoteSession) -> None:
    for call, error in [
        (lambda s: list(s.selectattr(["/nowhere:x"], "")), NoSuchDirectory),
        (lambda s: list(s.selectattr(["/typed:nothing"], "")), NoSuchAttribute),
        (lambda s: list(s.selectattr(["/typed:i"], "/typed:i = = 1")), QuerySyntaxError),
        (lambda s: list(s.getattr("/typed/e1", ["nothing"])), NoSuchAttribute),
    ]:
        with pytest.raises(error):
            call(typed)
        with pytest.raises(error):
            call(remote)


def test_rights_are_those_of_the_logged_in_user(typed: Any, amga: RunningServer) -> None:
    with MDClient("127.0.0.1", amga.port, "alice", ALICE_PASSWORD) as client:
        session = RemoteCatalogue(client).session()
        # Directories inherit "/"'s "system:anyuser r-x": without it alice may not read.
        typed.acl_revoke("/typed", "system:anyuser", "rwx")
        with pytest.raises(PermissionDenied):
            list(session.selectattr(["/typed:i"], ""))
        typed.acl_grant("/typed", "alice", "r")
        assert list(session.selectattr(["/typed:i"], "order by /typed:i")) == [
            (1,),
            (2,),
            (3,),
            (4,),
        ]
        typed.chmod("/typed/e1", "rw-", "---")  # e1: its owner (root) only
        assert list(session.selectattr(["/typed:i"], "order by /typed:i")) == [(2,), (3,), (4,)]


def _many(local: Any, count: int = 700) -> list[tuple[str, int]]:
    local.createdir("/many")
    local.ensure_attributes("/many", {"k": "int", "label": "varchar(20)"})
    local.addentries("/many", [(f"m{k:04d}", {"k": k, "label": f"L{k}"}) for k in range(count)])
    return [(f"m{k:04d}", k) for k in range(count)]


def test_a_result_outlives_other_commands_and_an_abandoned_one_is_cancelled(
    local: Any, remote: RemoteSession
) -> None:
    expected = _many(local)
    outer = remote.selectattr(["/many:FILE", "/many:k"], "order by /many:k")
    head = [next(outer) for _ in range(3)]
    # Another command needs the connection while the first result is being read.
    assert list(remote.selectattr(["count(/many:FILE)"], "")) == [(len(expected),)]
    assert remote.listattr("/many") == local.listattr("/many")
    assert head + list(outer) == expected

    abandoned = remote.selectattr(["/many:FILE", "/many:label"], "")
    next(abandoned)
    abandoned.close()  # type: ignore[attr-defined]
    assert list(remote.selectattr(["max(/many:k)"], "")) == [(len(expected) - 1,)]
    remote.close()


def test_attributes_added_by_another_client_are_read_with_their_type(
    typed: Any, remote: RemoteSession, root: MDClient
) -> None:
    _same(typed, remote, ["/typed:i"])  # the directory's types are cached now
    root.addAttr("/typed", "late", "bigint")
    root.setAttr("/typed/e1", ["late"], [7])
    assert list(remote.selectattr(["/typed:late"], "/typed:i = 1")) == [(7,)]


def test_selectattr_union_is_served_by_plain_selectattr(local: Any, remote: RemoteSession) -> None:
    if not hasattr(local, "selectattr_union"):
        pytest.skip("the engine has no selectattr_union in this build")
    for index, rows in enumerate([[(3, "c"), (1, None), (5, "a")], [(2, "b"), (4, None)], []]):
        local.createdir(f"/u{index}")
        local.ensure_attributes(f"/u{index}", {"n": "int", "tag": "varchar(8)"})
        if rows:
            local.addentries(f"/u{index}", [(f"e{n}", {"n": n, "tag": t}) for n, t in rows])
    directories = ["/u0", "/u1", "/u2"]
    for items, condition, with_directory in [
        (["n", "tag"], "", False),
        (["n", "tag"], "order by n desc", True),
        (["FILE", "tag"], "n > 1 order by tag, n limit 2 offset 1", True),
        (["tag"], "order by n", False),  # ordered by an attribute not selected
        (["tag"], "distinct", False),
        (["count(FILE)", "max(n)"], "", True),  # aggregates per directory
    ]:
        expected = list(
            local.selectattr_union(directories, items, condition, with_directory=with_directory)
        )
        got = list(
            remote.selectattr_union(directories, items, condition, with_directory=with_directory)
        )
        if "order by" in condition:
            assert got == expected, (items, condition)
        else:  # without order by the union's order is the database's
            assert sorted(got, key=repr) == sorted(expected, key=repr), (items, condition)
    assert list(remote.selectattr_union([], ["n"], "")) == []


def test_a_connection_cut_mid_response_is_a_clear_error_and_the_next_call_reconnects(
    local: Any, amga: RunningServer
) -> None:
    expected = _many(local)
    with CuttingProxy(amga.port) as proxy:
        client = MDClient("127.0.0.1", proxy.port, "root", ROOT_PASSWORD)
        session = RemoteCatalogue(client).session()
        assert list(session.selectattr(["count(/many:FILE)"], "")) == [(len(expected),)]
        proxy.cut_after(300)  # the status line and a few rows of the next response
        with pytest.raises(RemoteCatalogueUnavailable) as caught:
            list(session.selectattr(["/many:FILE", "/many:k"], "order by /many:k"))
        message = str(caught.value)
        assert f"lost the connection to the catalogue server 127.0.0.1:{proxy.port}" in message
        assert "selectattr" in message
        proxy.cut_after(None)
        rows = list(session.selectattr(["/many:FILE", "/many:k"], "order by /many:k"))
        assert rows == expected
        proxy.close()  # the server is gone
        with pytest.raises(RemoteCatalogueUnavailable, match="catalogue server 127.0.0.1"):
            session.listattr("/many")
        client.close()
