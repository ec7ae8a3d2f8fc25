"""Query commands (find, selectattr, updateattr, sequences) over the wire and the client."""

from __future__ import annotations

import pytest

from bookkeeping.amga_adapter.client.client import CommandException, MDClient
from bookkeeping.amga_adapter.client.federation import FederatedClient
from tests.protocol.conftest import ROOT_PASSWORD
from tests.protocol.rawwire import RawPeer, root_peer
from tests.protocol.serving import RunningServer


def test_classic_execute_fetch_loop_reads_selectattr(jobs: MDClient) -> None:
    jobs.selectAttr(["/jobs:FILE", "/jobs:JOB_ID"], '/jobs:CONFIGNAME="MC" order by /jobs:JOB_ID')
    rows = []
    while not jobs.eot():
        rows.append(jobs.getSelectAttrEntry())
    assert rows == [["j1", "1"], ["j2", "2"]]


def test_select_query_returns_dicts(jobs: MDClient) -> None:
    rows = jobs.selectQuery(["/jobs:FILE", "/jobs:Size"], "/jobs:Size>=100 order by /jobs:Size")
    assert rows == [
        {"/jobs:FILE": "j1", "/jobs:Size": "100"},
        {"/jobs:FILE": "j2", "/jobs:Size": "300"},
    ]


def test_find_with_bare_attributes_of_the_named_directory(jobs: MDClient) -> None:
    assert sorted(jobs.find("/jobs", "Size>60", sync=True) or []) == ["/jobs/j1", "/jobs/j2"]


def test_setattr_and_updateattr_change_values(jobs: MDClient) -> None:
    jobs.setAttr("/jobs/j3", ["Size"], [55])
    jobs.updateAttr("/jobs", ["Size 'Size+1'"], 'CONFIGNAME="MC"')
    assert jobs.selectAttr(["/jobs:Size"], "order by /jobs:JOB_ID", sync=True) == [
        ["101"],
        ["301"],
        ["55"],
    ]


def test_sequences(root: MDClient) -> None:
    root.createDir("/seq")
    root.sequenceCreate("s", "/seq", 5, 10)
    assert [root.sequenceNext("/seq/s") for _ in range(3)] == ["10", "15", "20"]
    root.sequenceRemove("/seq/s")
    with pytest.raises(CommandException):
        root.sequenceNext("/seq/s")


def test_find_and_selectattr_rows(amga: RunningServer) -> None:
    with _peer(amga) as peer:
        peer.command("createdir /q")
        peer.command("addattr /q size int")
        peer.command("addentry /q/e1 size 5")
        peer.command("addentry /q/e2 size 7")
        assert peer.command("find /q 'size>6'") == b"0\n/q/e2\n\x04\x04"
        selected = peer.command("selectattr /q:FILE /q:size 'order by /q:size desc'")
        assert selected == b"0\ne2\n7\ne1\n5\n\x04\x04"


def test_select_query_fans_out(federation: FederatedClient, amga: RunningServer) -> None:
    federation.addEntry("/data/a", ["run"], [1])
    with MDClient("127.0.0.1", amga.port, "root", ROOT_PASSWORD) as first:
        first.addEntry("/data/b", ["run"], [2])
    rows = federation.selectQuery(["/data:FILE", "/data:run"], "/data:run>0")
    assert sorted(row["/data:FILE"] or "" for row in rows) == ["a", "b"]
    assert sorted(federation.find("/data", "run>0")) == ["/data/a", "/data/b"]


def _peer(amga: RunningServer) -> RawPeer:
    return root_peer(amga.port, ROOT_PASSWORD)


def test_constraints_are_added_listed_enforced_and_dropped(root: MDClient) -> None:
    root.createDir("/c")
    root.addAttr("/c", "run", "int")
    root.addAttr("/c", "tag", "varchar(10)")
    root.constraintAddNotNull("/c", "run", "run_set")  # AMGA clients send a name
    root.constraintAddUnique("/c", "tag")
    root.constraintAddCheck("/c", "run > 0")
    names = root.constraintList("/c")
    assert len(names) == 3
    with pytest.raises(CommandException) as caught:
        root.addEntry("/c/bad", ["run", "tag"], [-1, "x"])
    assert caught.value.code == 37
    root.addEntry("/c/good", ["run", "tag"], [1, "x"])
    for line in names:  # "<name> <kind> <details>"
        root.constraintDrop("/c", line.split()[0])
    assert root.constraintList("/c") == []
    root.addEntry("/c/now_fine", ["run", "tag"], [-1, "y"])
