"""Server-side federation where the mount point differs from the path at the remote
server (``--mount /cern=amga://HOST:PORT/remote``): paths are translated both ways, also
in queries, through a live front server and a live remote server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from bookkeeping.amga_adapter.client.client import MDClient
from bookkeeping.amga_adapter.engine.directory_info import load_directory
from bookkeeping.replication.mount_paths import Remote
from bookkeeping.replication.mounts import parse_mounts
from tests.protocol.conftest import ALICE_PASSWORD, Site, second_catalogue_server
from tests.replication.test_mounts import _front, _remote_directory


@pytest.fixture
def moved() -> Iterator[tuple[int, Site]]:
    """A front server (port) mounting the remote server's /remote at /cern."""
    with second_catalogue_server() as remote:
        _remote_directory(remote, [1, 2])
        with _front([f"/cern={remote.url}/remote"]) as (front, _engine):
            yield front.port, remote


def test_a_mount_reads_and_queries_under_another_name(moved: tuple[int, Site]) -> None:
    port, remote = moved
    r = remote.server.port
    with MDClient("127.0.0.1", port, "alice", ALICE_PASSWORD) as alice:
        assert [n for n, _ in alice.listEntries("/", sync=True)] == ["/cern"]
        assert [n for n, _ in alice.listEntries("/cern", sync=True)] == [
            f"/cern/{r}-1",
            f"/cern/{r}-2",
        ]
        assert alice.listAttr("/cern") == (["run"], ["int"])
        assert alice.getattr(f"/cern/{r}-2", ["run"], sync=True) == [(f"{r}-2", ["2"])]
        assert alice.find("/cern/*", "run < 2", sync=True) == [f"/cern/{r}-1"]
        # Absolute directory references in a query name the mount point here.
        assert alice.selectAttr(["/cern:run"], "/cern:run > 1", sync=True) == [["2"]]
        alice.cd("/cern")
        assert alice.pwd() == "/cern"
        assert alice.selectAttr(["run"], "run > 1", sync=True) == [["2"]]
        assert alice.find("*", "run > 1", sync=True) == [f"/cern/{r}-2"]


def test_writes_through_a_moved_mount_land_under_the_remote_path(
    moved: tuple[int, Site],
) -> None:
    port, remote = moved
    with MDClient("127.0.0.1", port, "alice", ALICE_PASSWORD) as alice:
        alice.addEntry("/cern/mine", ["run"], [7])
        alice.updateAttr("/cern/mine", ["run 'run+1'"], "")
        alice.createDir("/cern/sub")
        assert alice.getattr("/cern/mine", ["run"], sync=True) == [("mine", ["8"])]
    with remote.engine.connect() as connection:
        table = load_directory(connection, "/remote").table
        row = connection.execute(sa.select(table.c.owner).where(table.c.name == "mine")).one()
        assert row.owner == "alice"
        load_directory(connection, "/remote/sub")  # the directory exists there
    with MDClient("127.0.0.1", port, "alice", ALICE_PASSWORD) as alice:
        alice.rm("/cern/mine")
        alice.removeDir("/cern/sub")
        assert [n for n, _ in alice.listEntries("/cern", sync=True)] == [
            f"/cern/{remote.server.port}-1",
            f"/cern/{remote.server.port}-2",
        ]


def test_paths_and_query_references_translate_both_ways() -> None:
    [mount] = parse_mounts(["/sites/cern=amga://h:1/data"])
    there = Remote(mount, mount.remote_path("amga://h:1"))
    assert (there("/sites/cern"), there("/sites/cern/a/b")) == ("/data", "/data/a/b")
    assert there.back("/data/a") == "/sites/cern/a" and there.back("/elsewhere") == "/elsewhere"
    assert there.query("/sites/cern/a:run > 1 and /sites/cern:x = 'y'") == (
        "/data/a:run > 1 and /data:x = 'y'"
    )
    assert there.query("run > 1") == "run > 1"  # relative: the working directory moves
    [root] = parse_mounts(["/a=amga://h:1/"])
    at_root = Remote(root, root.remote_path("amga://h:1"))
    assert (at_root("/a/b"), at_root("/a"), at_root.back("/b")) == ("/b", "/", "/a/b")
