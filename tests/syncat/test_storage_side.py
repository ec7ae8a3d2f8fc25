"""The SE side on every kind of storage element: the storage consumer deletes and changes
modes on posix and XRootD (idempotently: a second time changes nothing), copies a wanted
replica from another SE, and the lister announces files vanishing and appearing on XRootD
and tape."""

from __future__ import annotations

import io
import json
import stat
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from bookkeeping.storage.registry import StorageRegistry
from bookkeeping.syncat.messages import Envelope, MessageType, WireMessage, parse_envelope
from bookkeeping.syncat.plugins import PluginContext, load
from bookkeeping.syncat.producers import Lister
from bookkeeping.syncat.routing import Routing
from bookkeeping.syncat.signing import Signer
from bookkeeping.syncat.transport.base import Transport
from tests.storage.conftest import xrootd, xrootd_clean  # noqa: F401  (fixtures)
from tests.storage.xrootd_server import available as xrootd_available
from tests.syncat.conftest import add_user

PATHS = ["/lhcb/a.dst", "/lhcb/b.dst", "/lhcb/c.dst"]


@pytest.fixture(params=["posix", "xrootd", "tape"])
def kind(request: pytest.FixtureRequest) -> str:
    if request.param == "xrootd" and not xrootd_available():
        pytest.skip("no xrootd server installed (apt-get install xrootd-server)")
    return str(request.param)


def _register(engine: Engine, kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> Path:
    """Register SE ``S1`` of that kind with three files; the folder holding its bytes."""
    registry = StorageRegistry(engine)
    if kind == "posix":
        folder = tmp_path / "posix"
        folder.mkdir()
        registry.add("S1", f"file://{folder}", "offline", site="S1")
    elif kind == "xrootd":
        server = request.getfixturevalue("xrootd_clean")
        folder = server.data
        registry.add("S1", server.url, "offline", site="S1")
    else:
        folder = tmp_path / "tape"
        registry.add("S1", f"tape://{folder}?drives=1&cartridges=2&capacity=1000000", "tape")
    element = registry.open("S1")
    for path in PATHS:
        element.put(io.BytesIO(path.encode()), path)
    element.close()
    return folder


def _downstream(kind: MessageType, files: list[dict[str, object]], se: str = "S1") -> Envelope:
    return Envelope(kind, "catalogue", "root", se, tuple(files))


@pytest.mark.parametrize("kind", ["posix", "xrootd"], indirect=True)  # tape has no modes
def test_storage_consumer_deletes_and_changes_modes(
    engine: Engine, kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    add_user(engine, "root")
    folder = _register(engine, kind, tmp_path, request)
    registry = StorageRegistry(engine)
    plugin = load("storage", PluginContext(engine, open_element=registry.open))
    deleted = _downstream(MessageType.FILE_DELETED, [{"path": PATHS[0]}, {"path": "/lhcb/x"}])
    plugin.authorize(deleted)
    assert plugin.apply(deleted) == 1
    assert plugin.apply(deleted) == 0  # applied again: nothing left to do
    chmod = _downstream(MessageType.PERMISSIONS_CHANGED, [{"path": PATHS[1], "mode": 0o444}])
    assert plugin.apply(chmod) == 1
    element = registry.open("S1")
    try:
        assert not element.exists(PATHS[0]) and element.exists(PATHS[2])
    finally:
        element.close()
    assert stat.S_IMODE((folder / PATHS[1].lstrip("/")).stat().st_mode) == 0o444


def test_a_wanted_replica_is_copied_from_its_source(
    engine: Engine, tmp_path: Path, kind: str, request: pytest.FixtureRequest
) -> None:
    add_user(engine, "root")
    _register(engine, kind, tmp_path, request)
    target = tmp_path / "target"
    target.mkdir()
    registry = StorageRegistry(engine)
    registry.add("S2", f"file://{target}", "offline", site="S2")
    plugin = load("storage", PluginContext(engine, open_element=registry.open))
    wanted = _downstream(MessageType.REPLICA_WANTED, [{"path": PATHS[2], "source": "S1"}], "S2")
    assert plugin.apply(wanted) == 1
    assert plugin.apply(wanted) == 0
    assert (target / PATHS[2].lstrip("/")).read_bytes() == PATHS[2].encode()


def test_lister_announces_what_vanished_and_appeared(
    engine: Engine,
    kind: str,
    tmp_path: Path,
    request: pytest.FixtureRequest,
    transport: Transport,
    routing: Routing,
) -> None:
    _register(engine, kind, tmp_path, request)
    registry = StorageRegistry(engine)
    element = registry.open("S1")
    lister = Lister(element, Signer.generate("se:S1"), transport, routing, period=0)
    assert lister.step() is False  # the baseline (and the space it holds)
    element.delete(PATHS[0])
    element.put(io.BytesIO(b"new"), "/lhcb/new.raw")
    assert lister.step() is True
    lister.close()
    envelopes = []
    for _ in range(20):
        for delivery in transport.receive(routing.catalogue, 10, 0.5):
            envelopes.append(parse_envelope(WireMessage.from_bytes(delivery.body).envelope))
            transport.ack(delivery)
        if len(envelopes) >= 4:
            break
    spaces = [e.extra["used"] for e in envelopes if e.type is MessageType.SPACE_CHANGED]
    assert spaces == [sum(len(p) for p in PATHS), sum(len(p) for p in PATHS[1:]) + 3]
    found = {
        str(e.type): json.dumps(list(e.files), sort_keys=True)
        for e in envelopes
        if e.type is not MessageType.SPACE_CHANGED
    }
    assert found == {
        "file_lost": json.dumps([{"path": PATHS[0]}]),
        "file_appeared": json.dumps([{"path": "/lhcb/new.raw", "size": 3}], sort_keys=True),
    }
