"""The recall daemon's core on real storage elements and a real database: answers,
sources, pins and leases, LRU eviction of unpinned copies only."""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa

from bookkeeping.datahandling.config import DataHandlingConfig
from bookkeeping.datahandling.requests import RecallRequests, RequestStatus
from bookkeeping.datahandling.tables import area_files, pins
from bookkeeping.datahandling.worker import RecallWorker
from bookkeeping.interface import ListingQuery
from tests.datahandling.conftest import World


def _roles(world: World) -> Callable[[list[str]], dict[str, str]]:
    return lambda names: {n: r.role for n, r in world.registry.records(names).items()}


def _service(world: World, me: str = "recall-1") -> tuple[RecallRequests, RecallWorker]:
    requests = RecallRequests(world.engine, world.bookkeeping, _roles(world))
    worker = RecallWorker(
        world.engine,
        world.bookkeeping,
        world.writer,
        world.elements,
        me=me,
        config=DataHandlingConfig(),
    )
    return requests, worker


def _until_done(requests: RecallRequests, worker: RecallWorker, request_id: int) -> RequestStatus:
    for _ in range(20):  # each pass makes progress; bounded
        status = requests.status(request_id)
        assert status is not None
        if status.done:
            return status
        worker.run_once()
    raise AssertionError(f"request {request_id} not done after 20 passes")


def test_a_disk_file_is_recalled_pinned_and_listed(world: World) -> None:
    world.disk("OFFLINE")
    world.recall_area("f0a")
    lfns = world.files(3, se="OFFLINE", file_type="DATAREC")
    requests, worker = _service(world)
    asked = requests.submit("alice", lfns, ["f0a"], 600)
    assert [f.state for f in asked.files] == ["waiting"] * 3
    status = _until_done(requests, worker, asked.request_id)
    assert {(f.state, f.area) for f in status.files} == {("ready", "f0a")}
    area = world.elements("f0a")
    for answer in status.files:
        assert answer.path is not None and area.exists(answer.path)
    listed = list(world.bookkeeping.iter_listing(ListingQuery("DATAREC")))
    assert [line.recalled for line in listed] == [("f0a",)] * 3
    with world.engine.connect() as connection:
        assert connection.execute(sa.select(sa.func.count()).select_from(pins)).scalar() == 3
    again = requests.submit("bob", lfns[:1], ["f0a"], 600)  # there already: answered at once
    assert again.done and again.files[0].area == "f0a"


def test_unknown_files_and_wrong_areas_are_named_and_the_rest_goes_on(world: World) -> None:
    world.disk("OFFLINE")
    world.recall_area("f0a")
    lfns = world.files(1, se="OFFLINE")
    requests, worker = _service(world)
    asked = requests.submit("alice", [*lfns, "/kloe/none.raw"], ["OFFLINE", "nowhere", "f0a"], 60)
    assert asked.problems == (
        "area OFFLINE: storage element of role offline, not recall",
        "area nowhere: no such storage element",
    )
    by_lfn = {f.lfn: f for f in asked.files}
    assert by_lfn["/kloe/none.raw"].state == "failed"
    assert "no such file" in (by_lfn["/kloe/none.raw"].error or "")
    status = _until_done(requests, worker, asked.request_id)
    assert {f.lfn: f.state for f in status.files}[lfns[0]] == "ready"


def test_a_file_without_a_readable_source_fails_named(world: World) -> None:
    world.disk("OFFLINE")
    world.recall_area("f0a")
    lfns = world.files(2, se="OFFLINE")
    world.elements("OFFLINE").delete(lfns[0])  # the bytes are gone, the row says otherwise
    requests, worker = _service(world)
    status = _until_done(requests, worker, requests.submit("a", lfns, ["f0a"], 60).request_id)
    states = {f.lfn: (f.state, f.error or "") for f in status.files}
    assert states[lfns[1]][0] == "ready"
    assert states[lfns[0]][0] == "failed" and "OFFLINE" in states[lfns[0]][1]


def test_eviction_takes_unpinned_copies_oldest_use_first_and_spares_pinned(
    world: World,
) -> None:
    world.disk("OFFLINE")
    world.recall_area("f0a", capacity=3500)  # three files of 1000 bytes fit, not four
    lfns = world.files(4, se="OFFLINE", sizes=(1000,))
    requests, worker = _service(world)
    pinned = _until_done(
        requests, worker, requests.submit("keep", lfns[:1], ["f0a"], 600).request_id
    )
    for lfn in lfns[1:3]:
        done = _until_done(requests, worker, requests.submit("tmp", [lfn], ["f0a"], 600).request_id)
        requests.release(done.request_id)  # closed: unpinned, evictable
    # lfns[2] used again more recently than lfns[1]: lfns[1] is the oldest unpinned copy
    requests.release(requests.submit("tmp", [lfns[2]], ["f0a"], 600).request_id)
    status = _until_done(
        requests, worker, requests.submit("new", lfns[3:], ["f0a"], 600).request_id
    )
    assert status.files[0].state == "ready"
    with world.engine.connect() as connection:
        present = {lfn for (lfn,) in connection.execute(sa.select(area_files.c.lfn))}
    assert present == {lfns[0], lfns[2], lfns[3]}
    area = world.elements("f0a")
    assert area.exists(lfns[0]) and not area.exists(lfns[1])
    assert pinned.files[0].state == "ready"
    record = world.bookkeeping.file_by_lfn(lfns[1])
    assert record is not None
    assert [r.storage_class for r in world.bookkeeping.replicas(record.file_id)] == ["disk"]


def test_an_area_full_of_pinned_copies_makes_the_request_wait(world: World) -> None:
    world.disk("OFFLINE")
    world.recall_area("f0a", capacity=1500)
    lfns = world.files(2, se="OFFLINE", sizes=(1000,))
    requests, worker = _service(world)
    first = _until_done(requests, worker, requests.submit("a", lfns[:1], ["f0a"], 600).request_id)
    second = requests.submit("b", lfns[1:], ["f0a"], 600)
    for _ in range(3):
        worker.run_once()
    assert requests.status(second.request_id).files[0].state == "waiting"  # type: ignore[union-attr]
    assert world.elements("f0a").exists(lfns[0])
    requests.release(first.request_id)
    assert _until_done(requests, worker, second.request_id).files[0].state == "ready"
