"""What only the posix back-end does: atomic names, symbolic links, capacity, a changing source."""

from __future__ import annotations

import io
import os
import threading
import time
from pathlib import Path

import pytest

from bookkeeping.storage.errors import SourceChanged, StorageFull, UnsafePath
from bookkeeping.storage.posix import PosixElement, is_partial
from tests.storage.conftest import posix_element


def test_no_partial_file_is_listed_and_partials_are_found(tmp_path: Path) -> None:
    element = posix_element(tmp_path)
    assert isinstance(element, PosixElement)
    element.put(io.BytesIO(b"whole"), "/k/file")
    leftover = element.root / "k" / ".other.bk-part-0123abcd"
    leftover.write_bytes(b"half")
    assert is_partial(leftover.name)
    assert [item.path for item in element.list("/")] == ["/k/file"]
    assert list(element.partial_files()) == ["/k/.other.bk-part-0123abcd"]


def test_a_symbolic_link_out_of_the_root_is_refused(tmp_path: Path) -> None:
    element = posix_element(tmp_path)
    assert isinstance(element, PosixElement)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret").write_bytes(b"secret")
    os.symlink(outside, element.root / "escape")
    with pytest.raises(UnsafePath) as caught:
        element.stat("/escape/secret")
    assert "outside" in str(caught.value)


def test_capacity_and_watermark_refuse_a_put(tmp_path: Path) -> None:
    element = posix_element(tmp_path, capacity=1000, watermark=100)
    element.put(io.BytesIO(b"x" * 800), "/c/1", expected_size=800)
    with pytest.raises(StorageFull) as caught:
        element.put(io.BytesIO(b"x" * 200), "/c/2", expected_size=200)
    assert "/c/2" in str(caught.value) and "TEST-DISK" in str(caught.value)
    assert not element.exists("/c/2")
    huge = posix_element(tmp_path, watermark=2**62)  # more free space than any disk has
    with pytest.raises(StorageFull):
        huge.put(io.BytesIO(b"x"), "/c/3")


def test_a_source_changing_while_copied_stores_nothing(tmp_path: Path) -> None:
    element = posix_element(tmp_path)
    assert isinstance(element, PosixElement)
    source = tmp_path / "growing.bin"
    source.write_bytes(b"a" * (64 << 20))  # copied and fsynced: long enough to change it
    done = threading.Event()

    def append_once_the_copy_began() -> None:
        target_directory = element.root / "g"
        while not done.is_set():
            if target_directory.is_dir() and any(target_directory.iterdir()):
                with open(source, "ab") as stream:
                    stream.write(b"more")
                return
            time.sleep(0.0005)

    writer = threading.Thread(target=append_once_the_copy_began)
    writer.start()
    try:
        with pytest.raises(SourceChanged) as caught:
            element.put(source, "/g/file")
    finally:
        done.set()
        writer.join()
    assert "growing.bin" in str(caught.value) and "TEST-DISK" in str(caught.value)
    assert not element.exists("/g/file")
    assert list(element.partial_files()) == []
