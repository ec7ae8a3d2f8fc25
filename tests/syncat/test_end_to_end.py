"""The whole loop on a posix SE, on both transports: a copy removed in the catalogue is
deleted on the SE, a catalogue chmod is applied there, a file deleted behind the
catalogue's back is marked lost, and a file that appears and stays is quarantined."""

from __future__ import annotations

import io
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bookkeeping.amga_adapter.engine.catalogue import Catalogue
from bookkeeping.amga_adapter.engine.errors import DirectoryExists
from bookkeeping.amga_adapter.engine.session import CatalogueSession
from bookkeeping.storage.registry import StorageRegistry
from bookkeeping.syncat.routing import Routing
from bookkeeping.syncat.service import Service
from bookkeeping.syncat.status import counts
from bookkeeping.syncat.tables import quarantine
from bookkeeping.syncat.transport import open_transport
from bookkeeping.syncat.transport.base import Transport
from bookkeeping.syncat.wiring import build_service
from bookkeeping.writer.changes import ReplicaKey
from tests.syncat.conftest import RABBITMQ_URL, SITE, World, make_world
from tests.waiting import wait_until

WAIT_S = 20.0


@pytest.fixture
def running(
    engine: Engine, tmp_path: Path, transport: Transport, transport_name: str, routing: Routing
) -> Iterator[tuple[World, Service]]:
    world = make_world(engine, "catalogue", tmp_path / "keys", materialise=True)
    setting = "" if transport_name == "database" else RABBITMQ_URL
    service = build_service(
        engine,
        lambda: open_transport(setting, engine),
        routing,
        world.key_dir,
        ses=[SITE],
        grace=0.3,
    )
    service.start()
    try:
        yield world, service
    finally:
        service.shutdown()


def _status(world: World, lfn: str) -> str:
    record = world.reader.file_by_lfn(lfn)
    assert record is not None
    return world.reader.replicas(record.file_id)[0].status


def test_a_copy_removed_in_the_catalogue_is_deleted_on_the_se(
    running: tuple[World, Service],
) -> None:
    world, _ = running
    doomed = world.lfns[:3]
    assert all((world.se_root / name.lstrip("/")).exists() for name in doomed)
    world.writer.remove_replicas(doomed, ReplicaKey(SITE, "disk"))
    wait_until(
        lambda: not any((world.se_root / n.lstrip("/")).exists() for n in doomed),
        "the deleted files gone from the SE",
        timeout=WAIT_S,
    )
    assert (world.se_root / world.lfns[3].lstrip("/")).exists()
    wait_until(
        lambda: counts(world.engine, f"se:{SITE}").applied == 1,
        "one message applied",
        timeout=WAIT_S,
    )
    assert counts(world.engine).backlog == 0


def test_a_catalogue_chmod_is_applied_on_the_se(running: tuple[World, Service]) -> None:
    world, _ = running
    # the catalogue directory /lhcb/... mirrors the SE's namespace
    directory, name = world.lfns[0].rsplit("/", 1)
    session = Catalogue(world.engine).session("root")
    try:
        _mkdirs(session, directory)
        session.addentries(directory, [(name, {})])
        session.chmod(world.lfns[0], "r--", "r--")
    finally:
        session.close()
    local = world.se_root / world.lfns[0].lstrip("/")
    wait_until(
        lambda: stat.S_IMODE(local.stat().st_mode) == 0o444, "mode 444 on the SE", timeout=WAIT_S
    )


def _mkdirs(session: CatalogueSession, directory: str) -> None:
    parts = directory.strip("/").split("/")
    for depth in range(1, len(parts) + 1):
        path = "/" + "/".join(parts[:depth])
        try:
            session.createdir(path)
        except DirectoryExists:
            pass


def test_a_file_deleted_behind_the_catalogues_back_is_marked_lost(
    running: tuple[World, Service],
) -> None:
    world, _ = running
    (world.se_root / world.lfns[5].lstrip("/")).unlink()
    wait_until(lambda: _status(world, world.lfns[5]) == "lost", "the file lost", timeout=WAIT_S)
    assert _status(world, world.lfns[6]) == "available"


def test_a_file_appearing_and_staying_is_quarantined(running: tuple[World, Service]) -> None:
    world, _ = running
    StorageRegistry(world.engine).open(SITE).put(io.BytesIO(b"dark"), "/lhcb/dark/file.raw")

    def quarantined() -> list[str]:
        with world.engine.connect() as connection:
            return list(connection.scalars(sa.select(quarantine.c.path)))

    wait_until(
        lambda: quarantined() == ["/lhcb/dark/file.raw"],
        "the dark file quarantined",
        timeout=WAIT_S,
    )
