"""The archiver against a real database, posix disk pools and the emulated tape library:
few mounts, verified tape copies before ``archived``, disk space given back only past the
watermark, oldest archived first."""

from __future__ import annotations

import io
import math

from bookkeeping.datahandling.archiver import Archiver
from bookkeeping.datahandling.config import DataHandlingConfig
from bookkeeping.storage.tape import TapeElement
from tests.datahandling.conftest import World

CAPACITY = 20_000


def _archiver(world: World, **config: object) -> Archiver:
    return Archiver(
        world.engine,
        world.bookkeeping,
        world.writer,
        world.elements,
        me="archiver-1",
        config=DataHandlingConfig(**config),  # type: ignore[arg-type]
    )


def _mounts(world: World, tape: str) -> int:
    library = world.elements(tape)
    assert isinstance(library, TapeElement)
    return library.status().mounts


def test_closed_files_are_archived_in_few_mounts_and_verified(world: World) -> None:
    world.disk("DAQ", "daq")
    world.tape("TAPE", cartridges=20, capacity=CAPACITY)
    sizes = (300, 1_700, 4_100, 900, 2_500, 60)
    lfns = world.files(60, se="DAQ", sizes=sizes)
    opened = world.files(2, se="DAQ", state="open", prefix="open")
    archiver = _archiver(world, flush_files=10_000, flush_bytes=10**12, flush_age_seconds=3600)
    first = archiver.run_once()
    assert (first.queued, first.archived) == (60, 0)  # below every threshold: waits
    done = archiver.run_once(flush_all=True)
    assert done.archived == 60 and done.failed == 0
    total = sum(sizes[i % len(sizes)] for i in range(60))
    assert _mounts(world, "TAPE") <= math.ceil(total / CAPACITY) + 1
    assert world.bookkeeping.life_cycle(lfns) == dict.fromkeys(lfns, "archived")
    assert set(world.bookkeeping.life_cycle(opened).values()) == {"open"}  # never archived
    tape = world.elements("TAPE")
    for lfn in lfns:
        record = world.bookkeeping.file_by_lfn(lfn)
        assert record is not None
        assert tape.stat(lfn).adler32 == record.checksum
        classes = sorted(r.storage_class for r in world.bookkeeping.replicas(record.file_id))
        assert classes == ["disk", "tape"]  # no watermark passed: the disk copy stays
    assert archiver.run_once().busy is False


def test_a_threshold_flushes_a_pool(world: World) -> None:
    world.disk("DAQ", "daq")
    world.tape("TAPE", cartridges=4, capacity=CAPACITY)
    world.files(5, se="DAQ", sizes=(1_000,))
    archiver = _archiver(world, flush_files=5, flush_bytes=10**12)
    assert archiver.run_once().archived == 5


def test_disk_copies_go_only_past_the_watermark_oldest_archived_first(world: World) -> None:
    world.disk("DAQ", "daq", capacity=10_000, watermark=2_000)
    world.tape("TAPE", cartridges=4, capacity=CAPACITY)
    old = world.files(3, se="DAQ", sizes=(1_000,), prefix="old")
    archiver = _archiver(world, clean_margin=0.0)
    archiver.run_once(flush_all=True)
    new = world.files(4, se="DAQ", sizes=(1_000,), prefix="new")
    archiver.run_once(flush_all=True)
    disk = world.elements("DAQ")
    assert all(disk.exists(lfn) for lfn in old + new)  # 3000 free >= 2000: nothing goes
    world.files(2, se="DAQ", sizes=(1_000,), state="open", prefix="more")  # 1000 free now
    report = archiver.run_once()
    assert report.deleted == 1  # 1000 bytes wanted: the oldest archived copy goes
    assert not disk.exists(old[0]) and all(disk.exists(lfn) for lfn in old[1:] + new)
    record = world.bookkeeping.file_by_lfn(old[0])
    assert record is not None
    assert [r.storage_class for r in world.bookkeeping.replicas(record.file_id)] == ["tape"]


def test_a_disk_copy_that_does_not_match_the_bookkeeping_is_not_archived(world: World) -> None:
    world.disk("DAQ", "daq")
    world.tape("TAPE", cartridges=4, capacity=CAPACITY)
    lfns = world.files(3, se="DAQ", sizes=(1_000,))
    disk = world.elements("DAQ")
    disk.delete(lfns[1])
    disk.put(io.BytesIO(b"x" * 1_000), lfns[1])  # other bytes, same size
    report = _archiver(world).run_once(flush_all=True)
    assert (report.archived, report.failed) == (2, 1)
    states = world.bookkeeping.life_cycle(lfns)
    assert states[lfns[1]] == "closed" and not world.elements("TAPE").exists(lfns[1])
