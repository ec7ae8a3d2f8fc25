"""The daemons as processes: the recall daemon's HTTP API and client, many clients at once
(one copy per file, one mount per cartridge), bad input answered and named, a graceful
stop on SIGTERM; the archiver's ``run`` and ``serve``."""

from __future__ import annotations

import json
import signal
import subprocess
import threading
from pathlib import Path

import pytest

from bookkeeping.datahandling.client import RecallClient, local_path
from bookkeeping.datahandling.errors import BadRecallRequest, UnknownRecallRequest
from bookkeeping.storage.tape import TapeElement
from tests.datahandling.conftest import World
from tests.datahandling.daemons import BK, recall_daemon, start, stop, wait_for_line

SIZES = (700, 1_300, 2_100, 400)


def _tape_world(world: World, files: int, *, capacity: int = 8_000) -> list[str]:
    world.disk("DAQ", "daq")
    world.tape("TAPE", cartridges=30, capacity=capacity)
    world.recall_area("f0a")
    world.recall_area("f0b")
    lfns = world.files(files, se="DAQ", sizes=SIZES, file_type="DATAREC")
    world.tape_only(lfns, "TAPE")
    return lfns


def _library(world: World) -> TapeElement:
    library = world.elements("TAPE")
    assert isinstance(library, TapeElement)
    return library


@pytest.mark.parametrize("world", ["warehouse"], indirect=True)  # CI time: one implementation
def test_many_clients_overlapping_tape_files_one_copy_each_one_mount_per_cartridge(
    world: World, tmp_path: Path
) -> None:
    lfns = _tape_world(world, 40)
    # The burst shares its mounts when it arrives within the quiet window; on a loaded
    # two-core machine sixteen submissions can take longer than the default 2 s.
    config = tmp_path / "bk.toml"
    config.write_text("[datahandling]\nrecall_tape_age_seconds = 8\n")
    env = {"BK_CONFIG": str(config)}
    library = _library(world)
    before = library.status()
    cartridges = {library.locate(lfn).cartridge for lfn in lfns}
    results: dict[int, dict] = {}
    errors: list[BaseException] = []
    together = threading.Barrier(16, timeout=120)

    with (
        recall_daemon(world.url(), world.backend, name="recall-a", env=env) as (_, url_a),
        recall_daemon(world.url(), world.backend, name="recall-b", env=env) as (_, url_b),
    ):

        def client(number: int) -> None:
            try:
                wanted = lfns[number % 10 : number % 10 + 25]  # overlapping sets
                api = RecallClient(url_a if number % 2 else url_b)
                together.wait()  # every client asks at once
                asked = api.submit(wanted, ["f0a", "f0b"], owner=f"client{number}", lease=600)
                results[number] = api.wait(asked["request"], timeout=300)
            except BaseException as exc:  # reported below
                errors.append(exc)

        threads = [threading.Thread(target=client, args=(n,)) for n in range(16)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=600)
    assert not errors, errors
    assert len(results) == 16
    for number, status in results.items():
        assert status["counts"] == {"ready": 25, "waiting": 0, "failed": 0}, number
        for item in status["files"]:
            path = local_path(item["url"])
            assert path is not None and path.is_file()
    after = library.status()
    asked = set().union(*(lfns[n % 10 : n % 10 + 25] for n in range(16)))
    read = after.bytes_read - before.bytes_read
    assert read == sum(library.locate(lfn).size for lfn in asked)  # each file read once
    used = {library.locate(lfn).cartridge for lfn in asked}
    assert after.mounts - before.mounts == len(used) <= len(cartridges)


@pytest.mark.parametrize("world", ["catalogue"], indirect=True)
def test_the_http_api_names_bad_input_and_the_cli_recalls_and_lists(world: World) -> None:
    lfns = _tape_world(world, 6)
    with recall_daemon(world.url(), world.backend) as (_, url):
        api = RecallClient(url)
        with pytest.raises(BadRecallRequest, match="files must be"):
            api.submit([], ["f0a"], owner="x")
        with pytest.raises(BadRecallRequest, match="not an LFN"):
            api.submit(["no-slash"], ["f0a"], owner="x")
        with pytest.raises(UnknownRecallRequest):
            api.status(999_999)
        done = subprocess.run(
            [BK, "recall", *lfns[:3], "/kloe/unknown.raw", "--area", "f0a", "--area", "DAQ",
             "--wait", "--format", "json", "--recall-url", url, "--owner", "alice"],
            capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert done.returncode == 1, done.stderr  # one file failed: named, the rest ready
        status = json.loads(done.stdout)
        assert status["counts"] == {"ready": 3, "waiting": 0, "failed": 1}
        assert status["problems"] == ["area DAQ: storage element of role daq, not recall"]
        listing = subprocess.run(
            [BK, "ls", "--db", world.url(), "--backend", world.backend, "DATAREC", "-d"],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert listing.returncode == 0, listing.stderr
        lines = [line for line in listing.stdout.splitlines() if line.startswith(" /")]
        assert len(lines) == 3 and all("recalled: {f0a}" in line for line in lines)
        released = subprocess.run(
            [BK, "recall", "release", str(status["request"]), "--recall-url", url],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert released.stdout.strip() == "3 pins released"
    unreachable = subprocess.run(
        [BK, "recall", lfns[0], "--recall-url", url], capture_output=True, text=True, timeout=60
    )
    assert unreachable.returncode == 1 and "unreachable" in unreachable.stderr
    assert "Traceback" not in unreachable.stderr


@pytest.mark.parametrize("world", ["warehouse"], indirect=True)
def test_archive_run_and_serve_stop_gracefully(world: World) -> None:
    world.disk("DAQ", "daq")
    world.tape("TAPE", cartridges=4, capacity=20_000)
    lfns = world.files(5, se="DAQ", sizes=SIZES)
    once = subprocess.run(
        [BK, "archive", "run", "--db", world.url(), "--backend", world.backend],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert once.returncode == 0, once.stderr
    assert "queued 5, written 0, archived 0" in once.stdout
    daemon = start(
        ["archive", "serve", "--db", world.url(), "--backend", world.backend,
         "--interval", "0.2"],
        env={"BK_CONFIG": ""},
    )  # fmt: skip
    try:
        wait_for_line(daemon, r"archiver .* running")
    finally:
        assert stop(daemon, signal.SIGTERM) == 0
    flushed = subprocess.run(
        [BK, "archive", "run", "--flush", "--db", world.url(), "--backend", world.backend],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert "archived 5" in flushed.stdout, flushed.stdout + flushed.stderr
    assert set(world.bookkeeping.life_cycle(lfns).values()) == {"archived"}
