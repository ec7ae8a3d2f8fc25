"""What only the XRootD back-end does: server-side checksums, the server's own files, an
unreachable server."""

from __future__ import annotations

import io
import stat
import time
import zlib
from pathlib import Path

import pytest

from bookkeeping.local_servers import free_port
from bookkeeping.storage.checksum import format_adler32
from bookkeeping.storage.errors import StorageFull, StorageUnavailable
from bookkeeping.storage.registry import StorageElementRecord, open_element
from tests.storage.xrootd_server import XRootDServer
from tests.storage.xrootd_server import available as xrootd_available

pytestmark = pytest.mark.skipif(not xrootd_available(), reason="no xrootd server installed")


def test_bytes_land_on_the_server_with_its_checksum(xrootd_clean: XRootDServer) -> None:
    element = open_element(StorageElementRecord("XRD", xrootd_clean.url, "offline"))
    data = b"xrootd bytes" * 1000
    element.put(io.BytesIO(data), "/lhcb/x.raw")
    on_server = xrootd_clean.data / "lhcb" / "x.raw"
    assert on_server.read_bytes() == data
    assert [p.name for p in on_server.parent.iterdir()] == ["x.raw"]  # no temporary left
    assert element.stat("/lhcb/x.raw").adler32 == format_adler32(zlib.adler32(data))
    element.chmod("/lhcb/x.raw", 0o444)
    assert stat.S_IMODE(on_server.stat().st_mode) == 0o444


def test_an_unreachable_server_fails_soon_naming_the_element(tmp_path: Path) -> None:
    port = free_port()  # a port nobody listens on
    element = open_element(
        StorageElementRecord("DOWN-XRD", f"root://127.0.0.1:{port}//store", "offline")
    )
    source = tmp_path / "f"
    source.write_bytes(b"x")
    started = time.monotonic()
    with pytest.raises(StorageUnavailable) as caught:
        element.put(source, "/a/f")
    assert "DOWN-XRD" in str(caught.value) and "/a/f" in str(caught.value)
    assert time.monotonic() - started < 60  # not the client's default two minutes


def test_a_watermark_above_the_free_space_refuses_a_put(xrootd_clean: XRootDServer) -> None:
    element = open_element(
        StorageElementRecord("FULL-XRD", xrootd_clean.url, "offline", watermark=2**62)
    )
    with pytest.raises(StorageFull) as caught:
        element.put(io.BytesIO(b"x" * 10), "/full/x")
    assert "FULL-XRD" in str(caught.value) and "/full/x" in str(caught.value)
    capped = open_element(StorageElementRecord("CAP-XRD", xrootd_clean.url, "offline", capacity=15))
    capped.put(io.BytesIO(b"y" * 10), "/cap/1")
    with pytest.raises(StorageFull):
        capped.put(io.BytesIO(b"z" * 10), "/cap/2", expected_size=10)
    assert not element.exists("/full/x") and not capped.exists("/cap/2")
