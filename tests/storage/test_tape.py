"""The emulated tape library: cartridges filled in order, drives shared by processes, batch
reads ordered by position, counters; every claim checked on the library's own state."""

from __future__ import annotations

import io
import multiprocessing
import os
import signal
import subprocess
import sys
import threading
import zlib
from pathlib import Path

import pytest

from bookkeeping.storage.checksum import format_adler32
from bookkeeping.storage.errors import (
    InvalidStorageElement,
    StorageFull,
    StorageUnavailable,
)
from bookkeeping.storage.tape import TapeElement, parse_tape_url
from bookkeeping.storage.tape.drives import acquire
from tests.storage.conftest import tape_element


def _data(index: int, size: int) -> bytes:
    return bytes((index * 13 + i) % 256 for i in range(size))


def _files(tmp_path: Path, count: int, size: int) -> list[tuple[Path, str]]:
    items = []
    for index in range(count):
        local = tmp_path / f"in-{index}"
        local.write_bytes(_data(index, size))
        items.append((local, f"/lhcb/f{index:03d}.raw"))
    return items


def test_a_batch_is_written_in_one_mount_and_spills_to_the_next_cartridge(
    tmp_path: Path,
) -> None:
    tape = tape_element(tmp_path)
    written = tape.write_batch(_files(tmp_path, 12, 150_000))  # 6 fit a 1 MB cartridge
    assert [w.path for w in written] == [f"/lhcb/f{i:03d}.raw" for i in range(12)]
    assert [w.adler32 for w in written] == [
        format_adler32(zlib.adler32(_data(i, 150_000))) for i in range(12)
    ]
    first, second = written[0].cartridge, written[6].cartridge
    assert {w.cartridge for w in written[:6]} == {first} and first != second
    assert [w.position for w in written[:6]] == list(range(6))
    assert [w.offset for w in written[:3]] == [0, 150_000, 300_000]
    status = tape.status()
    by_id = {c.id: c for c in status.cartridges}
    assert (by_id[first].mounts, by_id[first].files, by_id[first].used) == (1, 6, 900_000)
    assert by_id[second].mounts == 1 and by_id[second].files == 6
    assert status.bytes_written == 12 * 150_000 and status.mounts == 2
    assert tape.locate("/lhcb/f007.raw") == written[7]
    on_disk = tape.config.root / "cartridges" / first / "00000002"
    assert on_disk.read_bytes() == _data(2, 150_000)  # real bytes, one folder per cartridge


def test_reads_are_ordered_by_position_and_counted(tmp_path: Path) -> None:
    tape = tape_element(tmp_path, query="seek=1")
    written = tape.write_batch(_files(tmp_path, 5, 100_000))
    before = tape.status()
    wanted = [4, 0, 3, 1]
    results = tape.read_batch([(f"/lhcb/f{i:03d}.raw", tmp_path / f"out-{i}") for i in wanted])
    assert [r.path for r in results] == [f"/lhcb/f{i:03d}.raw" for i in wanted]  # input order
    for i, result in zip(wanted, results, strict=True):
        assert (tmp_path / f"out-{i}").read_bytes() == _data(i, 100_000)
        assert result.adler32 == written[i].adler32
    after = {c.id: c for c in tape.status().cartridges}[written[0].cartridge]
    old = {c.id: c for c in before.cartridges}[written[0].cartridge]
    assert after.bytes_read - old.bytes_read == 4 * 100_000
    # The head was at the end after writing: one seek back to file 0, then 1 is next to 0,
    # then forward to 3 (skipping 2), and 4 follows 3: two seeks, all forward after the first.
    assert after.seeks - old.seeks == 2
    assert after.mounts == old.mounts  # still mounted: no new mount


def test_a_full_pool_is_refused_naming_element_and_path(tmp_path: Path) -> None:
    tape = tape_element(tmp_path)
    tape.write_batch(_files(tmp_path, 3, 900_000))  # one per cartridge
    with pytest.raises(StorageFull) as caught:
        tape.put(io.BytesIO(b"x" * 200_000), "/lhcb/overflow.raw")
    assert "TEST-TAPE" in str(caught.value) and "/lhcb/overflow.raw" in str(caught.value)
    assert not tape.exists("/lhcb/overflow.raw")


def test_a_request_beyond_the_drives_waits(tmp_path: Path) -> None:
    tape = tape_element(tmp_path, query="drives=1&wait=0.2")
    tape.put(io.BytesIO(b"a" * 10), "/a")
    held = acquire(tape.engine, tape.config, "default-002", lambda: "test")  # the one drive
    try:
        with pytest.raises(StorageUnavailable) as caught:
            tape.get("/a", tmp_path / "a")
        assert "no drive free" in str(caught.value)
        patient = tape_element(tmp_path, query="drives=1&wait=30")
        got: list[object] = []
        reader = threading.Thread(target=lambda: got.append(patient.get("/a", tmp_path / "a")))
        reader.start()
        reader.join(0.5)
        assert reader.is_alive() and not got  # still waiting for the drive
    finally:
        held.release()
    reader.join(30)
    assert got and (tmp_path / "a").read_bytes() == b"a" * 10
    assert tape.status().drives[0].mounts == 3  # default-000, default-002, default-000 again


def test_a_drive_held_by_a_killed_process_is_free_again(tmp_path: Path) -> None:
    tape = tape_element(tmp_path, query="drives=1&wait=30")
    tape.put(io.BytesIO(b"b" * 10), "/b")
    script = (
        "import sys, time\n"
        "from bookkeeping.storage.tape.drives import acquire\n"
        "from tests.storage.conftest import tape_element\n"
        "from pathlib import Path\n"
        "tape = tape_element(Path(sys.argv[1]), query='drives=1')\n"
        "acquire(tape.engine, tape.config, 'default-001', lambda: 'x')\n"
        "print('held', flush=True)\n"
        "time.sleep(600)\n"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", script, str(tmp_path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "held"
        assert tape.status().drives[0].busy
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        if child.stdout is not None:
            child.stdout.close()
    assert tape.get("/b", tmp_path / "b").size == 10


def _write_many(root: str, worker: int) -> None:
    tape = tape_element(Path(root), query="drives=2&wait=60")
    items = [(io.BytesIO(_data(worker * 100 + i, 20_000)), f"/w{worker}/{i}") for i in range(15)]
    tape.write_batch(items)  # type: ignore[arg-type]
    tape.close()


def test_writers_in_separate_processes_share_the_library(tmp_path: Path) -> None:
    tape_element(tmp_path).close()  # laid out once
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_write_many, args=(str(tmp_path), w)) for w in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
        assert worker.exitcode == 0
    tape = tape_element(tmp_path)
    places = [tape.locate(f"/w{w}/{i}") for w in range(3) for i in range(15)]
    assert len({(p.cartridge, p.position) for p in places}) == 45
    for cartridge in {p.cartridge for p in places}:
        extents = sorted((p.offset, p.size) for p in places if p.cartridge == cartridge)
        for (offset, size), (next_offset, _) in zip(extents, extents[1:], strict=False):
            assert offset + size == next_offset  # sequential, no overlap, no gap
    for w in range(3):
        for i in range(15):
            out = io.BytesIO()
            tape.get(f"/w{w}/{i}", out)
            assert out.getvalue() == _data(w * 100 + i, 20_000)
    assert tape.status().bytes_written == 45 * 20_000
    assert not any(d.busy for d in tape.status().drives)


@pytest.mark.parametrize(
    ("query", "problem"),
    [("drives=0", "drives"), ("bogus=1", "bogus"), ("seek=-1", "seek"), ("pools=a b", "pools")],
)
def test_malformed_tape_urls_are_refused(tmp_path: Path, query: str, problem: str) -> None:
    with pytest.raises(InvalidStorageElement) as caught:
        parse_tape_url("T", f"tape://{tmp_path}?{query}")
    assert problem in str(caught.value)
    config = parse_tape_url("T", f"tape://{tmp_path}?drives=3&mount=0.5&pools=raw,dst")
    assert (config.drives, config.mount, config.pools) == (3, 0.5, ("raw", "dst"))
    assert isinstance(TapeElement.from_url("T", f"tape://{tmp_path}/lib"), TapeElement)


def test_a_failing_file_stops_a_batch_after_recording_the_ones_before(tmp_path: Path) -> None:
    tape = tape_element(tmp_path)
    items = _files(tmp_path, 40, 1000)
    broken = tmp_path / "a-folder"
    broken.mkdir()  # stat works, reading it does not
    with pytest.raises(IsADirectoryError):
        tape.write_batch([*items[:35], (broken, "/lhcb/broken.raw"), *items[35:]])
    written = [tape.locate(path) for _, path in items[:35]]  # 32 committed, 3 in the finally
    assert [w.position for w in written] == list(range(35))
    assert not tape.exists("/lhcb/broken.raw") and not tape.exists(items[35][1])
    more = tape.write_batch(items[35:])
    assert [m.position for m in more] == list(range(35, 40))
    assert more[0].offset == 35 * 1000  # appended after, nothing overlapping
    cartridge = {c.id: c for c in tape.status().cartridges}[more[0].cartridge]
    assert (cartridge.files, cartridge.used) == (40, 40 * 1000)
