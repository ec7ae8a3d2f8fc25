"""Storage elements for the shared suite: every back-end behind the same fixture."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from bookkeeping.storage.element import StorageElement
from bookkeeping.storage.registry import StorageElementRecord, open_element
from bookkeeping.storage.tape import TapeElement
from tests.catalogue_bookkeeping.conftest import Pair, make_pair
from tests.storage.xrootd_server import XRootDServer, xrootd_server
from tests.storage.xrootd_server import available as xrootd_available

ELEMENT_KINDS = ["posix", "xrootd", "tape"]


def posix_element(directory: Path, name: str = "TEST-DISK", **options: int) -> StorageElement:
    root = directory / "posix"
    root.mkdir(parents=True, exist_ok=True)
    return open_element(StorageElementRecord(name, f"file://{root}", "offline", **options))


@pytest.fixture(scope="session")
def xrootd() -> Iterator[XRootDServer]:
    """One real XRootD server for the session; each test gets an empty export."""
    with xrootd_server() as server:
        yield server


@pytest.fixture
def xrootd_clean(xrootd: XRootDServer) -> XRootDServer:
    for child in xrootd.data.iterdir():
        shutil.rmtree(child) if child.is_dir() else child.unlink()
    return xrootd


def tape_element(directory: Path, name: str = "TEST-TAPE", query: str = "") -> TapeElement:
    """A small, fast library: 2 drives, 3 cartridges of 1 MB (files spill over)."""
    root = directory / "tape"
    url = f"tape://{root}?drives=2&cartridges=3&capacity=1000000" + (f"&{query}" if query else "")
    element = open_element(StorageElementRecord(name, url, "tape"))
    assert isinstance(element, TapeElement)
    return element


@pytest.fixture(params=ELEMENT_KINDS)
def element(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StorageElement]:
    """One storage element of each kind, empty, over a temporary folder."""
    kind = request.param
    if kind == "posix":
        made = posix_element(tmp_path)
    elif kind == "xrootd":
        if not xrootd_available():
            pytest.skip("no xrootd server installed (apt-get install xrootd-server)")
        server = request.getfixturevalue("xrootd_clean")
        made = open_element(StorageElementRecord("TEST-XRD", server.url, "offline"))
    elif kind == "tape":
        made = tape_element(tmp_path)
    else:  # pragma: no cover - every kind is listed above
        raise AssertionError(kind)
    try:
        yield made
    finally:
        made.close()


@pytest.fixture
def pair(engine: Engine) -> Pair:
    """Both bookkeeping implementations on one fresh database."""
    return make_pair(engine)
