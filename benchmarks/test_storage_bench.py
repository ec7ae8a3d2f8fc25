"""Storage: put+register and get+verify of 1,000 small files per back-end, against the raw
floor of copying the same files with the plain tools (``cp``, ``xrdcp``).

Run: ``.venv/bin/pytest benchmarks/test_storage_bench.py --benchmark-only -n 0 -s``
(``BK_STORAGE_BENCH_FILES`` changes the number of files, default 1,000; 4 kB each).

- put+register: ``storage.batch.put_files`` — per file the bookkeeping's record and its
  copies read, the bytes copied durably (temporary name, fsync, rename; on XRootD the
  server's adler32 compared; on tape one batch), then ``add_replicas`` (the warehouse
  writer, SQLite).
- get+verify: ``storage.batch.get_files`` — the best copy of each file read to a local
  folder through a temporary name, its size and adler32 checked, renamed.
- floors: one ``cp`` (posix) or ``xrdcp`` (xrootd) process per file, as a script moving
  files one by one with the usual tools would; and, for reference, one ``cp -r`` of the
  whole folder. Nothing is registered or verified there, and ``cp`` does not fsync.

Every figure is files per second, in ``extra_info`` and printed at the end with the ratio
to the floor (the issue's target: at least 0.5x).
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from pytest_benchmark.fixture import BenchmarkFixture

from bookkeeping.engines import create_engine
from bookkeeping.generator import generate_reports
from bookkeeping.schema import metadata
from bookkeeping.scratch import scratch_database
from bookkeeping.storage.batch import get_files, put_files
from bookkeeping.storage.checksum import format_adler32
from bookkeeping.storage.registry import StorageRegistry
from bookkeeping.warehouse.reader import WarehouseBookkeeping
from bookkeeping.warehouse.store import WarehouseWriter
from tests.storage.xrootd_server import XRootDServer, xrootd_server
from tests.storage.xrootd_server import available as xrootd_available

FILES = int(os.environ.get("BK_STORAGE_BENCH_FILES", "1000"))
SIZE = 4096
RATES: dict[str, float] = {}


@dataclass
class Setup:
    engine: object
    registry: StorageRegistry
    bookkeeping: WarehouseBookkeeping
    writer: WarehouseWriter
    files: list[tuple[Path, str]]  # (local file, LFN)
    source: Path  # the folder holding the local files
    work: Path


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    work = tmp_path_factory.mktemp("storage-bench")
    source = work / "source"
    source.mkdir()
    with scratch_database("sqlite", None) as database:
        engine = create_engine(database.url)
        metadata.create_all(engine)
        reports, files = [], []
        for report in generate_reports(FILES, seed=99):
            outputs = []
            for output in report.output_files:
                data = random.Random(output.lfn).randbytes(SIZE)
                local = source / f"{len(files):05d}.dat"
                local.write_bytes(data)
                files.append((local, output.lfn))
                checksum = format_adler32(zlib.adler32(data))
                outputs.append(replace(output, size=SIZE, checksum=checksum, replicas=()))
            reports.append(replace(report, output_files=tuple(outputs)))
        writer = WarehouseWriter(engine)
        assert all(result.ok for result in writer.record_batch(reports))
        try:
            yield Setup(
                engine, StorageRegistry(engine), WarehouseBookkeeping(engine), writer,
                files, source, work,
            )  # fmt: skip
        finally:
            engine.dispose()  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def xrootd() -> Iterator[XRootDServer]:
    if not xrootd_available():
        pytest.skip("no xrootd server installed")
    with xrootd_server() as server:
        yield server


def _url(kind: str, setup: Setup, round_: int, request: pytest.FixtureRequest) -> str:
    if kind == "posix":
        folder = setup.work / f"posix-{round_}"
        folder.mkdir()
        return f"file://{folder}"
    if kind == "tape":
        return f"tape://{setup.work}/tape-{round_}?drives=2&cartridges=4&capacity=100000000"
    server: XRootDServer = request.getfixturevalue("xrootd")
    return f"{server.url}/round-{round_}"


_rounds = iter(range(10**6))


@pytest.mark.parametrize("kind", ["posix", "xrootd", "tape"])
def test_put_and_register(
    benchmark: BenchmarkFixture, setup: Setup, kind: str, request: pytest.FixtureRequest
) -> None:
    names: list[str] = []

    def new_element() -> tuple[tuple, dict]:
        round_ = next(_rounds)
        name = f"BENCH-{kind.upper()}-{round_}"
        role = "tape" if kind == "tape" else "offline"
        setup.registry.add(name, _url(kind, setup, round_, request), role, site=f"S{round_}")
        names.append(name)
        return (name,), {}

    def put(name: str) -> None:
        result = put_files(setup.bookkeeping, [setup.writer], setup.registry, setup.files, name)
        assert not result.failed, result.failed[:3]
        assert len(result.done) == FILES

    benchmark.pedantic(put, setup=new_element, rounds=1, iterations=1)
    _rate(benchmark, f"put+register {kind}")
    _last_element[kind] = names[-1]


_last_element: dict[str, str] = {}


@pytest.mark.parametrize("kind", ["posix", "xrootd", "tape"])
def test_get_and_verify(
    benchmark: BenchmarkFixture, setup: Setup, kind: str, request: pytest.FixtureRequest
) -> None:
    if kind not in _last_element:
        pytest.skip(f"needs test_put_and_register[{kind}] first")
    lfns = [lfn for _, lfn in setup.files]
    name = _last_element[kind]
    folders = iter(range(10**6))

    def target() -> tuple[tuple, dict]:
        folder = setup.work / f"get-{kind}-{next(folders)}"
        folder.mkdir()
        return (folder,), {}

    def get(folder: Path) -> None:
        result = get_files(setup.bookkeeping, setup.registry, lfns, folder, se=name)
        assert not result.failed, result.failed[:3]
        assert {t.se for t in result.done} == {name} and len(result.done) == FILES

    benchmark.pedantic(get, setup=target, rounds=1, iterations=1)
    _rate(benchmark, f"get+verify {kind}")


def test_floor_cp_per_file(benchmark: BenchmarkFixture, setup: Setup) -> None:
    folders = iter(range(10**6))

    def target() -> tuple[tuple, dict]:
        folder = setup.work / f"cp-{next(folders)}"
        folder.mkdir()
        return (folder,), {}

    def copy(folder: Path) -> None:
        for local, _ in setup.files:
            subprocess.run(["cp", str(local), str(folder / local.name)], check=True)

    benchmark.pedantic(copy, setup=target, rounds=1, iterations=1)
    _rate(benchmark, "floor cp per file")


def test_floor_cp_one_process(benchmark: BenchmarkFixture, setup: Setup) -> None:
    folders = iter(range(10**6))

    def target() -> tuple[tuple, dict]:
        return (setup.work / f"cpr-{next(folders)}",), {}

    benchmark.pedantic(
        lambda folder: subprocess.run(["cp", "-r", str(setup.source), str(folder)], check=True),
        setup=target,
        rounds=1,
        iterations=1,
    )
    _rate(benchmark, "floor cp -r (one process)")


def test_floor_xrdcp_per_file(
    benchmark: BenchmarkFixture, setup: Setup, xrootd: XRootDServer
) -> None:
    if shutil.which("xrdcp") is None:
        pytest.skip("no xrdcp")
    folders = iter(range(10**6))

    def target() -> tuple[tuple, dict]:
        return (f"root://127.0.0.1:{xrootd.port}//store/xrdcp-{next(folders)}",), {}

    def copy(base: str) -> None:
        for local, _ in setup.files:
            subprocess.run(
                ["xrdcp", "--silent", "--path", str(local), f"{base}/{local.name}"], check=True
            )

    benchmark.pedantic(copy, setup=target, rounds=1, iterations=1)
    _rate(benchmark, "floor xrdcp per file (upload)")


def _rate(benchmark: BenchmarkFixture, what: str) -> None:
    seconds = benchmark.stats.stats.mean
    RATES[what] = FILES / seconds
    benchmark.extra_info["files"] = FILES
    benchmark.extra_info["files_per_s"] = round(FILES / seconds, 1)


def test_report(benchmark: BenchmarkFixture, capsys: pytest.CaptureFixture[str]) -> None:
    """The figures side by side (a benchmark itself only so that --benchmark-only runs it)."""
    benchmark.pedantic(lambda: None, rounds=1, iterations=1)
    floors = {
        "posix": RATES.get("floor cp per file"),
        "xrootd": RATES.get("floor xrdcp per file (upload)"),
    }
    lines = [f"{what:34s} {rate:9.1f} files/s" for what, rate in RATES.items()]
    for kind, floor in floors.items():
        for step in ("put+register", "get+verify"):
            rate = RATES.get(f"{step} {kind}")
            if rate and floor:
                lines.append(f"{step} {kind} / floor: {rate / floor:.2f}x")
    with capsys.disabled():
        print("\n" + "\n".join(lines) + f"\n({time.strftime('%Y-%m-%d %H:%M:%S')})")
