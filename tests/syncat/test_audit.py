"""The consistency audit finds exactly the dark and lost files planted, on posix, xrootd and
tape; files in flight while it lists are not misreported; it refuses to act when too much
looks lost; its findings sent as messages are applied by the catalogue consumer."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bookkeeping.backends import open_bookkeeping, open_writer
from bookkeeping.storage.element import FileStat, StorageElement
from bookkeeping.storage.registry import StorageRegistry
from bookkeeping.syncat.audit import audit, send_findings
from bookkeeping.syncat.consumer import Consumer
from bookkeeping.syncat.errors import AuditRefused
from bookkeeping.syncat.plugins import PluginContext, load
from bookkeeping.syncat.routing import Routing
from bookkeeping.syncat.status import counts
from bookkeeping.syncat.tables import quarantine
from bookkeeping.syncat.transport.base import Transport
from bookkeeping.syncat.trust import generate, trust
from tests.storage.conftest import xrootd, xrootd_clean  # noqa: F401  (fixtures)
from tests.storage.xrootd_server import available as xrootd_available
from tests.syncat.conftest import add_user, lfn, report

KINDS = ["posix", "xrootd", "tape"]


@pytest.fixture(params=KINDS)
def se_url(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, str, str]:
    """(name, url, role) of an empty storage element of each kind."""
    kind = request.param
    if kind == "posix":
        root = tmp_path / "posix"
        root.mkdir()
        return "AUDIT-DISK", f"file://{root}", "offline"
    if kind == "xrootd":
        if not xrootd_available():
            pytest.skip("no xrootd server installed (apt-get install xrootd-server)")
        server = request.getfixturevalue("xrootd_clean")
        return "AUDIT-XRD", server.url, "offline"
    return (
        "AUDIT-TAPE",
        f"tape://{tmp_path / 'tape'}?drives=2&cartridges=3&capacity=1000000",
        "tape",
    )


@pytest.fixture
def planted(
    engine: Engine, se_url: tuple[str, str, str]
) -> Iterator[tuple[StorageElement, list[str]]]:
    """12 files recorded on the SE; bytes for all but 2 (lost); 3 unregistered files (dark)."""
    name, url, role = se_url
    add_user(engine, "root")
    registry = StorageRegistry(engine)
    registry.add(name, url, role, site="AUDIT")
    storage_class = "tape" if role == "tape" else "disk"
    names = [lfn(i) for i in range(12)]
    writer = open_writer(engine, "catalogue")
    result = writer.record(report(1, names, site="AUDIT", storage_class=storage_class, se=name))
    assert result.ok, result.error
    element = registry.open(name)
    for index, path in enumerate(names):
        if index not in (3, 7):
            element.put(io.BytesIO(path.encode()), path)
    for index in range(3):
        element.put(io.BytesIO(b"dark"), f"/lhcb/dark/unregistered_{index}.raw")
    try:
        yield element, names
    finally:
        element.close()


def test_audit_finds_exactly_the_planted_dark_and_lost_files(
    engine: Engine, planted: tuple[StorageElement, list[str]]
) -> None:
    element, names = planted
    found = audit(open_bookkeeping(engine, "catalogue"), element)
    assert found.dark == [f"/lhcb/dark/unregistered_{i}.raw" for i in range(3)]
    assert found.lost == [names[3], names[7]]
    assert (found.catalogue, found.listed) == (12, 13)


class _InFlight:
    """A real element whose listing is taken while files come and go: one file is written
    before the listing and registered after it, another registered after it (its bytes
    still on their way). Neither may be reported."""

    def __init__(self, real: StorageElement, engine: Engine) -> None:
        self.name = real.name
        self.real = real
        self.engine = engine

    def list(self, path: str = "/") -> Iterator[FileStat]:
        self.real.put(io.BytesIO(b"early"), "/lhcb/flight/written_first.dst")
        listing = list(self.real.list(path))
        writer = open_writer(self.engine, "catalogue")
        for index, flight in enumerate(["written_first", "registered_first"]):
            name = f"/lhcb/flight/{flight}.dst"
            assert writer.record(report(100 + index, [name], "AUDIT", se=self.name)).ok
        yield from listing


def test_files_in_flight_are_neither_dark_nor_lost(
    engine: Engine, planted: tuple[StorageElement, list[str]]
) -> None:
    element, names = planted
    found = audit(open_bookkeeping(engine, "catalogue"), _InFlight(element, engine))  # type: ignore[arg-type]
    assert "/lhcb/flight/written_first.dst" not in found.dark
    assert "/lhcb/flight/registered_first.dst" not in found.lost
    assert found.lost == [names[3], names[7]]
    assert len(found.dark) == 3


def test_findings_are_sent_and_applied_unless_too_much_looks_lost(
    engine: Engine,
    planted: tuple[StorageElement, list[str]],
    transport: Transport,
    routing: Routing,
    tmp_path: Path,
) -> None:
    element, names = planted
    signer = generate(tmp_path / "keys", f"se:{element.name}")
    trust(engine, signer.endpoint, signer.public)
    reader = open_bookkeeping(engine, "catalogue")
    found = audit(reader, element)
    with pytest.raises(AuditRefused, match="refusing to act"):
        send_findings(found, transport, routing, signer, max_lost_fraction=0.1)
    assert transport.receive(routing.catalogue, 10, 0.2) == []
    assert send_findings(found, transport, routing, signer) == 2
    plugin = load("catalogue", PluginContext(engine))
    consumer = Consumer(engine, transport, routing.catalogue, "catalogue", [plugin])
    for _ in range(20):
        consumer.run_once(timeout=0.5)
        if counts(engine, "catalogue").applied == 2:
            break
    assert counts(engine, "catalogue").applied == 2
    lost = reader.files_metadata([names[3], names[7], names[0]]).found
    copies = reader.replicas_of([record.file_id for record in lost])
    assert {r.lfn: copies[r.file_id][0].status for r in lost} == {
        names[0]: "available",
        names[3]: "lost",
        names[7]: "lost",
    }
    with engine.connect() as connection:
        dark = sorted(connection.scalars(sa.select(quarantine.c.path)))
    assert dark == found.dark
