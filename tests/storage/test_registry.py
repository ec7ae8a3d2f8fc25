"""The registry of storage elements: a table on every database back-end, checked input."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from bookkeeping.storage.errors import (
    InvalidStorageElement,
    StorageElementExists,
    UnknownStorageElement,
)
from bookkeeping.storage.posix import PosixElement
from bookkeeping.storage.registry import StorageElementRecord, StorageRegistry


def test_add_get_list_open_remove(engine: Engine, tmp_path: Path) -> None:
    registry = StorageRegistry(engine)
    disk = registry.add("CERN-DISK", f"file://{tmp_path}/disk", "offline", site="CERN")
    registry.add("CERN-RECALL-1", f"file://{tmp_path}/recall1", "recall", site="CERN")
    registry.add("XRD", "root://127.0.0.1:1094//store", "daq", capacity=10**12, watermark=10)
    assert registry.get("CERN-DISK") == disk
    assert [r.name for r in registry.list()] == ["CERN-DISK", "CERN-RECALL-1", "XRD"]
    assert [r.name for r in registry.list(role="recall")] == ["CERN-RECALL-1"]
    assert [r.name for r in registry.list(site="CERN")] == ["CERN-DISK", "CERN-RECALL-1"]
    assert registry.get("XRD").capacity == 10**12
    assert set(registry.records(["XRD", "NONE"])) == {"XRD"}
    opened = registry.open("CERN-DISK")
    assert isinstance(opened, PosixElement) and opened.root == tmp_path / "disk"
    assert registry.add("CERN-DISK", disk.url, "offline", site="CERN", exist_ok=True) == disk
    with pytest.raises(StorageElementExists):
        registry.add("CERN-DISK", f"file://{tmp_path}/other", "offline")
    registry.remove("CERN-RECALL-1")
    with pytest.raises(UnknownStorageElement) as caught:
        registry.get("CERN-RECALL-1")
    assert "CERN-RECALL-1" in str(caught.value)
    with pytest.raises(UnknownStorageElement):
        registry.open("NOWHERE")


@pytest.mark.parametrize(
    ("name", "url", "role", "problem"),
    [
        ("bad name", "file:///x", "offline", "name"),
        ("A", "file:///x", "floppy", "role"),
        ("A", "http://host/x", "offline", "URL"),
        ("A", "file://host/x", "offline", "host"),
        ("A", "file:///a/../b", "offline", "absolute"),
        ("A", "root://127.0.0.1//store", "offline", "port"),
        ("A", "root://127.0.0.1:1094/store", "offline", "absolute path"),
        ("A", "file:///x", "tape", "tape"),
        ("A", "tape:///x?drives=2", "offline", "tape"),
        ("A", "file:///x?drives=2", "offline", "parameters"),
    ],
)
def test_malformed_elements_are_refused(
    engine: Engine, name: str, url: str, role: str, problem: str
) -> None:
    registry = StorageRegistry(engine)
    with pytest.raises(InvalidStorageElement) as caught:
        registry.add(name, url, role)
    assert problem in str(caught.value)
    assert registry.list() == []


def test_negative_capacity_is_refused(engine: Engine) -> None:
    with pytest.raises(InvalidStorageElement):
        StorageRegistry(engine).add("A", "file:///x", "offline", capacity=-1)
    with pytest.raises(InvalidStorageElement):
        StorageRegistry(engine).add("A", "file:///x", "offline", watermark=-5)
    assert StorageElementRecord("A", "file:///x", "offline").scheme == "file"
