"""The one put/get/stat/list/delete/rename/chmod suite every storage element passes."""

from __future__ import annotations

import io
import os
import zlib
from pathlib import Path

import pytest

from bookkeeping.storage.checksum import format_adler32
from bookkeeping.storage.element import StorageElement
from bookkeeping.storage.errors import (
    ChecksumMismatch,
    StorageExists,
    StorageFileNotFound,
    UnsafePath,
)


def _payload(size: int, seed: int = 7) -> bytes:
    return bytes((seed * 31 + i * 7) % 251 for i in range(size))


def _adler(data: bytes) -> str:
    return format_adler32(zlib.adler32(data))


def _local(tmp_path: Path, data: bytes, name: str = "source.bin") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_put_get_stat_round_trip(element: StorageElement, tmp_path: Path) -> None:
    data = _payload(300_000)
    stored = element.put(_local(tmp_path, data), "/lhcb/data/run1/file.dst")
    assert (stored.path, stored.size, stored.adler32) == (
        "/lhcb/data/run1/file.dst",
        len(data),
        _adler(data),
    )
    stat = element.stat("lhcb/data/run1/file.dst")  # relative names mean the same
    assert (stat.size, stat.adler32) == (len(data), _adler(data))
    assert element.exists("/lhcb/data/run1/file.dst")
    target = tmp_path / "out" / "copy.dst"
    got = element.get("/lhcb/data/run1/file.dst", target)
    assert target.read_bytes() == data
    assert (got.size, got.adler32) == (len(data), _adler(data))
    stream = io.BytesIO()
    element.get("/lhcb/data/run1/file.dst", stream)
    assert stream.getvalue() == data
    with element.open_read("/lhcb/data/run1/file.dst") as reader:
        assert reader.read() == data


def test_put_from_a_stream_and_an_empty_file(element: StorageElement, tmp_path: Path) -> None:
    data = _payload(5000, seed=3)
    stored = element.put(io.BytesIO(data), "/s/stream.raw", expected_size=len(data))
    assert stored.adler32 == _adler(data)
    empty = element.put(io.BytesIO(b""), "/s/empty.raw")
    assert (empty.size, empty.adler32) == (0, "00000001")
    assert element.stat("/s/empty.raw").size == 0


def test_expected_checksum_mismatch_leaves_nothing(element: StorageElement, tmp_path: Path) -> None:
    data = _payload(1000)
    with pytest.raises(ChecksumMismatch) as caught:
        element.put(_local(tmp_path, data), "/bad/file", expected_adler32="00000002")
    assert "/bad/file" in str(caught.value) and element.name in str(caught.value)
    with pytest.raises(ChecksumMismatch):
        element.put(_local(tmp_path, data), "/bad/file", expected_size=999)
    assert not element.exists("/bad/file")
    assert [item.path for item in element.list("/")] == []
    good = element.put(
        _local(tmp_path, data), "/bad/file", expected_size=1000, expected_adler32=_adler(data)
    )
    assert good.size == 1000


def test_overwrite_only_when_asked(element: StorageElement, tmp_path: Path) -> None:
    element.put(_local(tmp_path, b"first"), "/o/file")
    with pytest.raises(StorageExists):
        element.put(_local(tmp_path, b"second"), "/o/file")
    assert element.stat("/o/file").adler32 == _adler(b"first")
    element.put(_local(tmp_path, b"second!"), "/o/file", overwrite=True)
    assert element.stat("/o/file").adler32 == _adler(b"second!")


def test_list_is_recursive_sorted_and_below_a_path(element: StorageElement, tmp_path: Path) -> None:
    names = ["/a/x/1", "/a/x/2", "/a/y/3", "/b/4", "/top"]
    for index, name in enumerate(names):
        element.put(io.BytesIO(_payload(10 + index)), name)
    listed = sorted(element.list("/"), key=lambda item: item.path)
    assert [item.path for item in listed] == names
    assert [item.size for item in listed] == [10, 11, 12, 13, 14]
    assert sorted(item.path for item in element.list("/a")) == names[:3]
    assert [item.path for item in element.list("/nowhere")] == []


def test_delete_and_rename(element: StorageElement, tmp_path: Path) -> None:
    element.put(io.BytesIO(b"abc"), "/d/one")
    element.put(io.BytesIO(b"defg"), "/d/two")
    element.rename("/d/one", "/e/moved")
    assert not element.exists("/d/one")
    assert element.stat("/e/moved").adler32 == _adler(b"abc")
    with pytest.raises(StorageExists):
        element.rename("/e/moved", "/d/two")
    with pytest.raises(StorageFileNotFound):
        element.rename("/d/none", "/d/other")
    element.delete("/e/moved")
    assert not element.exists("/e/moved")
    with pytest.raises(StorageFileNotFound) as caught:
        element.delete("/e/moved")
    assert "/e/moved" in str(caught.value) and element.name in str(caught.value)
    with pytest.raises(StorageFileNotFound):
        element.stat("/e/moved")
    with pytest.raises(StorageFileNotFound):
        element.get("/e/moved", tmp_path / "x")
    assert not (tmp_path / "x").exists()


def test_chmod(element: StorageElement, tmp_path: Path) -> None:
    element.put(io.BytesIO(b"read me"), "/p/file")
    element.chmod("/p/file", 0o444)
    element.chmod("/p/file", 0o644)
    with pytest.raises(StorageFileNotFound):
        element.chmod("/p/none", 0o444)


@pytest.mark.parametrize(
    "bad",
    ["/a/../../etc/passwd", "../x", "/a/\x00b", "root://evil//x", "file:///etc/passwd", "/", ""],
)
def test_unsafe_paths_are_refused_naming_element_and_path(
    element: StorageElement, tmp_path: Path, bad: str
) -> None:
    source = _local(tmp_path, b"x")
    for call in (
        lambda: element.put(source, bad),
        lambda: element.stat(bad),
        lambda: element.get(bad, tmp_path / "out"),
        lambda: element.delete(bad),
    ):
        with pytest.raises(UnsafePath) as caught:
            call()
        assert element.name in str(caught.value)
    assert [item.path for item in element.list("/")] == []
    assert not (tmp_path / "out").exists()


def test_usage_counts_stored_bytes(element: StorageElement, tmp_path: Path) -> None:
    element.put(io.BytesIO(b"x" * 100), "/u/1")
    element.put(io.BytesIO(b"y" * 50), "/u/2")
    assert element.usage().used == 150


def test_missing_local_source(element: StorageElement, tmp_path: Path) -> None:
    with pytest.raises(StorageFileNotFound) as caught:
        element.put(tmp_path / "absent", "/m/file")
    assert "absent" in str(caught.value)
    assert not element.exists("/m/file")
    assert not os.path.exists(tmp_path / "absent")
