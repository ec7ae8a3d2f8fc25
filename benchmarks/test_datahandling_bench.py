"""Data handling: the issue's two measured claims, on SQLite, the emulated tape library and
posix folders (tape time scaled down: 20 ms a mount, 50 MB/s a drive).

Run: ``.venv/bin/pytest benchmarks/test_datahandling_bench.py --benchmark-only -n 0 -s``

- recall: 64 clients (threads, each its own HTTP client) ask one recall daemon process, all
  at once, for overlapping sets of 100 of 200 tape-only files (KLOE-sized: 10-200 kB,
  spread over the cartridges by the archiver). Measured: the time until every client has
  every file; reported: tape mounts against the distinct cartridges holding the files, the
  bytes read from tape against the bytes of the distinct files (each file read once), and
  the naive count (one mount per file a client asked for).
- archive: 1,000 closed files of mixed sizes (1 kB-200 kB) archived in one flush; reported:
  mounts against ceil(total bytes / cartridge capacity) + 1, and the naive one mount per
  file.
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_benchmark.fixture import BenchmarkFixture

from bookkeeping.backends import open_bookkeeping, open_writer
from bookkeeping.datahandling.archiver import Archiver
from bookkeeping.datahandling.client import RecallClient
from bookkeeping.datahandling.config import DataHandlingConfig
from bookkeeping.datahandling.storage import ElementCache
from bookkeeping.engines import create_engine
from bookkeeping.schema import metadata
from bookkeeping.scratch import scratch_database
from bookkeeping.storage.tape import TapeElement
from tests.datahandling.conftest import World
from tests.datahandling.daemons import recall_daemon

TAPE = {"mount": 0.02, "throughput": 50_000_000}
RESULTS: dict[str, dict[str, float]] = {}


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    with scratch_database("sqlite", None) as database:
        engine = create_engine(database.url)
        metadata.create_all(engine)
        elements = ElementCache(engine)
        try:
            yield World(
                engine,
                tmp_path,
                "warehouse",
                open_bookkeeping(engine, "warehouse"),
                open_writer(engine, "warehouse"),
                elements.registry,
                elements,
            )
        finally:
            elements.close()
            engine.dispose()


def _sizes(count: int, low: int, high: int, seed: int) -> list[int]:
    chance = random.Random(seed)
    return [chance.randint(low, high) for _ in range(count)]


def test_recall_64_clients_200_tape_files(benchmark: BenchmarkFixture, world: World) -> None:
    world.disk("DAQ", "daq")
    world.tape("TAPE", cartridges=40, capacity=2_000_000, **TAPE)
    world.recall_area("f0a")
    world.recall_area("f0b")
    sizes = _sizes(200, 10_000, 200_000, seed=16)
    lfns = world.files(200, se="DAQ", sizes=sizes, file_type="DATAREC")
    world.tape_only(lfns, "TAPE")
    library = world.elements("TAPE")
    assert isinstance(library, TapeElement)
    chance = random.Random(64)
    wanted = [
        [lfns[(start + i) % 200] for i in range(100)]
        for start in (chance.randrange(200) for _ in range(64))
    ]
    answers: dict[int, dict] = {}
    errors: list[BaseException] = []

    def recall() -> float:
        before = library.status()
        with recall_daemon(world.url(), "warehouse", name="bench") as (_, url):
            together = threading.Barrier(64, timeout=300)

            def client(number: int) -> None:
                try:
                    api = RecallClient(url, timeout=120)
                    together.wait()
                    asked = api.submit(wanted[number], ["f0a", "f0b"], owner=f"c{number}")
                    answers[number] = api.wait(asked["request"], timeout=1200)
                except BaseException as exc:  # counted below
                    errors.append(exc)

            started = time.perf_counter()
            threads = [threading.Thread(target=client, args=(n,)) for n in range(64)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=1800)
            elapsed = time.perf_counter() - started
        after = library.status()
        asked = sorted(set().union(*wanted))
        RESULTS["recall"] = {
            "clients": 64,
            "files asked (distinct)": len(asked),
            "seconds": round(elapsed, 2),
            "mounts": after.mounts - before.mounts,
            "distinct cartridges": len({library.locate(lfn).cartridge for lfn in asked}),
            "bytes read": after.bytes_read - before.bytes_read,
            "bytes of the distinct files": sum(library.locate(lfn).size for lfn in asked),
            "naive mounts (one per file asked)": sum(len(w) for w in wanted),
        }
        return elapsed

    benchmark.pedantic(recall, rounds=1, iterations=1)
    result = RESULTS["recall"]
    benchmark.extra_info.update(result)
    print("\nrecall:", result)
    assert not errors, errors[:3]
    assert all(a["counts"] == {"ready": 100, "waiting": 0, "failed": 0} for a in answers.values())
    assert len(answers) == 64
    assert result["bytes read"] == result["bytes of the distinct files"]
    assert result["mounts"] == result["distinct cartridges"]


def test_archive_1000_closed_files(benchmark: BenchmarkFixture, world: World) -> None:
    capacity = 10_000_000
    world.disk("DAQ", "daq")
    world.tape("TAPE", cartridges=20, capacity=capacity, **TAPE)
    sizes = _sizes(1000, 1_000, 200_000, seed=1000)
    for start in range(0, 1000, 100):  # ten jobs of 100 files
        world.files(100, se="DAQ", sizes=sizes[start : start + 100], prefix=f"raw{start}")
    archiver = Archiver(
        world.engine,
        world.bookkeeping,
        world.writer,
        world.elements,
        me="bench",
        config=DataHandlingConfig(),
    )
    library = world.elements("TAPE")
    assert isinstance(library, TapeElement)

    def archive() -> None:
        report = archiver.run_once(flush_all=True)
        assert report.archived == 1000, report

    benchmark.pedantic(archive, rounds=1, iterations=1)
    total = sum(sizes)
    result = {
        "files": 1000,
        "bytes": total,
        "cartridge capacity": capacity,
        "mounts": library.status().mounts,
        "bound ceil(bytes/capacity)+1": math.ceil(total / capacity) + 1,
        "naive mounts (one per file)": 1000,
        "seconds": round(benchmark.stats.stats.mean, 2),
    }
    benchmark.extra_info.update(result)
    print("\narchive:", result)
    assert result["mounts"] <= result["bound ceil(bytes/capacity)+1"]
