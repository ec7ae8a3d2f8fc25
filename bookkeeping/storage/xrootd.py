"""A storage element on an XRootD server (``root://host:port//path``), through the XRootD
client bindings (PyPI ``xrootd``).

Writes are atomic as on posix: the bytes go to a temporary name in the target's directory
(``.<name>.bk-part-<hex>``), are synced and closed, the server's adler32 of them
(``xrootd.chksum adler32``) is compared with the one computed while sending, the expected
size and adler32 are checked, and only then is the file moved to its name. ``stat`` answers
the server's checksum. An unreachable server fails within seconds (one connection retry,
a short connection window) with ``StorageUnavailable``, not after the client's default
two minutes.
"""

from __future__ import annotations

import io
import os
import secrets
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import parse_qsl

from bookkeeping.storage.checksum import CHUNK_SIZE, Adler32, read_chunks
from bookkeeping.storage.element import FileStat, SpaceUsage, StorageElement
from bookkeeping.storage.errors import (
    ChecksumMismatch,
    SourceChanged,
    StorageError,
    StorageExists,
    StorageFileNotFound,
    StorageFull,
    StorageUnavailable,
)
from bookkeeping.storage.paths import normalise, parent
from bookkeeping.storage.posix import PARTIAL_MARKER, copy_out, is_partial

# Read by the client library when it starts: set before the first import of XRootD.
for _name, _value in (
    ("XRD_CONNECTIONRETRY", "1"),
    ("XRD_CONNECTIONWINDOW", "5"),
    ("XRD_REQUESTTIMEOUT", "120"),
    ("XRD_STREAMERRORWINDOW", "5"),
):
    os.environ.setdefault(_name, _value)

from XRootD import client  # noqa: E402
from XRootD.client.flags import (  # noqa: E402
    DirListFlags,
    MkDirFlags,
    OpenFlags,
    QueryCode,
    StatInfoFlags,
)

TIMEOUT = 60  # seconds for one request
NOT_FOUND = (3011,)  # kXR_NotFound
NO_SPACE = (3009, 3021)  # kXR_NoSpace, kXR_overQuota
IS_DIRECTORY = 3016
CLIENT_SIDE_ERRORS = range(100, 400)  # connection, socket, timeout errors of the client


class XRootDElement(StorageElement):
    """Files below ``base`` (an absolute path the server exports) on ``host:port``."""

    def __init__(
        self,
        name: str,
        url: str,
        location: str,
        base: str,
        *,
        capacity: int | None = None,
        watermark: int = 0,
    ) -> None:
        super().__init__(name, url)
        self.server = f"root://{location}"
        self.base = base.rstrip("/") or ""
        self.capacity = capacity
        self.watermark = watermark
        self.fs = client.FileSystem(self.server)
        self._used: int | None = None

    # --- plumbing ---------------------------------------------------------------------
    def _label(self, path: str) -> str:
        return f"{path} on storage element {self.name}"

    def _remote(self, clean: str) -> str:
        return f"{self.base}{clean}" if clean != "/" else (self.base or "/")

    def _url(self, clean: str) -> str:
        return f"{self.server}/{self._remote(clean)}"

    def _fail(self, status: Any, what: str, clean: str) -> StorageError:
        """The storage error for a failed request ``what`` on ``clean``."""
        message = str(status.message).strip()
        details = {"se": self.name, "path": clean}
        if status.errno in NOT_FOUND:
            return StorageFileNotFound(f"no file {self._label(clean)}", **details)
        if status.errno in NO_SPACE:
            return StorageFull(f"storage element {self.name} is full writing {clean}", **details)
        if status.errno == 0 and status.code in CLIENT_SIDE_ERRORS:
            return StorageUnavailable(
                f"storage element {self.name} ({self.server}) cannot be reached to {what} "
                f"{clean}: {message}",
                **details,
            )
        return StorageError(f"cannot {what} {self._label(clean)}: {message}", **details)

    def _check(self, result: tuple[Any, Any], what: str, clean: str) -> Any:
        status, response = result
        if not status.ok:
            raise self._fail(status, what, clean)
        return response

    # --- space ------------------------------------------------------------------------
    def _free(self) -> int | None:
        status, response = self.fs.query(QueryCode.SPACE, self._remote("/"), timeout=TIMEOUT)
        if not status.ok or not response:
            return None
        fields = dict(parse_qsl(response.rstrip(b"\x00").decode()))
        return int(fields["oss.free"]) if "oss.free" in fields else None

    def _check_room(self, clean: str, size: int) -> None:
        if self.watermark:
            free = self._free()
            if free is not None and free - size < self.watermark:
                raise StorageFull(
                    f"storage element {self.name} is full: {size} bytes for {clean} would "
                    f"leave {free - size} bytes free, below its watermark of {self.watermark}",
                    se=self.name,
                    path=clean,
                )
        if self.capacity is not None:
            if self._used is None:
                self._used = sum(item.size for item in self.list("/"))
            if self._used + size > self.capacity - self.watermark:
                raise StorageFull(
                    f"storage element {self.name} is full: {size} bytes for {clean} on "
                    f"{self._used} used of a capacity of {self.capacity}",
                    se=self.name,
                    path=clean,
                )

    def usage(self) -> SpaceUsage:
        self._used = sum(item.size for item in self.list("/"))
        return SpaceUsage(self._used, self.capacity)

    # --- bytes in ---------------------------------------------------------------------
    def put(
        self,
        source: Path | BinaryIO,
        path: str,
        *,
        expected_size: int | None = None,
        expected_adler32: str | None = None,
        overwrite: bool = False,
    ) -> FileStat:
        clean = normalise(path, self.name)
        if not overwrite and self.exists(clean):
            raise StorageExists(f"{self._label(clean)} exists already", se=self.name, path=clean)
        before = None
        if isinstance(source, Path):
            try:
                before = source.stat()
            except FileNotFoundError:
                raise StorageFileNotFound(
                    f"no local file {source} to put as {self._label(clean)}", path=str(source)
                ) from None
        self._check_room(clean, before.st_size if before else (expected_size or 0))
        directory, name = parent(clean), clean.rsplit("/", 1)[-1]
        temporary = f"{directory.rstrip('/')}/.{name}{PARTIAL_MARKER}{secrets.token_hex(6)}"
        try:
            if isinstance(source, Path):
                with open(source, "rb") as stream:
                    size, adler32 = self._upload(stream, temporary)
                after = source.stat()
                assert before is not None
                if (after.st_size, after.st_mtime_ns) != (before.st_size, before.st_mtime_ns) or (
                    size != after.st_size
                ):
                    raise SourceChanged(
                        f"local file {source} changed while it was copied to "
                        f"{self._label(clean)}; nothing was stored",
                        se=self.name,
                        path=clean,
                    )
            else:
                size, adler32 = self._upload(source, temporary)
            server = self._server_adler32(temporary)
            if server is not None and server != adler32:
                raise ChecksumMismatch(
                    f"{self._label(clean)}: the server holds adler32 {server} of the bytes "
                    f"sent, not {adler32}; nothing was stored",
                    se=self.name,
                    path=clean,
                )
            if (expected_size is not None and size != expected_size) or (
                expected_adler32 is not None and adler32 != expected_adler32.lower()
            ):
                raise ChecksumMismatch(
                    f"{self._label(clean)}: the bytes written have size {size} and adler32 "
                    f"{adler32}, not the expected size {expected_size} and adler32 "
                    f"{expected_adler32}; nothing was stored",
                    se=self.name,
                    path=clean,
                )
            self._check(
                self.fs.mv(self._remote(temporary), self._remote(clean), timeout=TIMEOUT),
                "rename into place",
                clean,
            )
        except BaseException:
            self.fs.rm(self._remote(temporary), timeout=TIMEOUT)  # best effort
            raise
        if self._used is not None:
            self._used += size
        return FileStat(clean, size, self._stat_info(clean).modtime, adler32)

    def _upload(self, stream: BinaryIO, temporary: str) -> tuple[int, str]:
        handle = client.File()
        self._check(
            handle.open(self._url(temporary), OpenFlags.NEW | OpenFlags.MAKEPATH, timeout=TIMEOUT),
            "create",
            temporary,
        )
        running = Adler32()
        try:
            while chunk := stream.read(CHUNK_SIZE):
                self._check(handle.write(chunk, running.size, timeout=TIMEOUT), "write", temporary)
                running.update(chunk)
            self._check(handle.sync(timeout=TIMEOUT), "sync", temporary)
        finally:
            status, _ = handle.close(timeout=TIMEOUT)
        if not status.ok:
            raise self._fail(status, "close", temporary)
        return running.size, running.hexdigest()

    def _server_adler32(self, clean: str) -> str | None:
        status, response = self.fs.query(QueryCode.CHECKSUM, self._remote(clean), timeout=TIMEOUT)
        if not status.ok or not response:
            return None
        kind, _, value = response.rstrip(b"\x00").decode().partition(" ")
        return value.strip().lower().zfill(8) if kind == "adler32" else None

    # --- bytes out --------------------------------------------------------------------
    def open_read(self, path: str) -> AbstractContextManager[BinaryIO]:
        return self._open(normalise(path, self.name))

    @contextmanager
    def _open(self, clean: str) -> Iterator[BinaryIO]:
        handle = client.File()
        self._check(handle.open(self._url(clean), OpenFlags.READ, timeout=TIMEOUT), "open", clean)
        try:
            raw = _XRootDReader(handle, self, clean)
            yield io.BufferedReader(raw, CHUNK_SIZE)
        finally:
            handle.close(timeout=TIMEOUT)

    def get(self, path: str, destination: Path | BinaryIO) -> FileStat:
        clean = normalise(path, self.name)
        info = self._stat_info(clean)
        with self._open(clean) as stream:
            size, adler32 = copy_out(read_chunks(stream), destination)
        return FileStat(clean, size, float(info.modtime), adler32)

    # --- names ------------------------------------------------------------------------
    def _stat_info(self, clean: str) -> Any:
        info = self._check(self.fs.stat(self._remote(clean), timeout=TIMEOUT), "stat", clean)
        if info.flags & StatInfoFlags.IS_DIR:
            raise StorageFileNotFound(f"no file {self._label(clean)} (a directory)")
        return info

    def stat(self, path: str) -> FileStat:
        clean = normalise(path, self.name)
        info = self._stat_info(clean)
        return FileStat(clean, int(info.size), float(info.modtime), self._server_adler32(clean))

    def exists(self, path: str) -> bool:
        clean = normalise(path, self.name)
        status, info = self.fs.stat(self._remote(clean), timeout=TIMEOUT)
        if status.ok:
            return not info.flags & StatInfoFlags.IS_DIR
        if status.errno in NOT_FOUND:
            return False
        raise self._fail(status, "stat", clean)

    def list(self, path: str = "/") -> Iterator[FileStat]:
        clean = normalise(path, self.name, allow_root=True)
        status, info = self.fs.stat(self._remote(clean), timeout=TIMEOUT)
        if not status.ok:
            if status.errno in NOT_FOUND:
                return
            raise self._fail(status, "list", clean)
        if not info.flags & StatInfoFlags.IS_DIR:
            yield FileStat(clean, int(info.size), float(info.modtime), None)
            return
        yield from self._walk("" if clean == "/" else clean)

    def _walk(self, prefix: str) -> Iterator[FileStat]:
        listing = self._check(
            self.fs.dirlist(self._remote(prefix or "/"), DirListFlags.STAT, timeout=TIMEOUT),
            "list",
            prefix or "/",
        )
        for entry in sorted(listing.dirlist, key=lambda e: e.name):
            if entry.statinfo.flags & StatInfoFlags.IS_DIR:
                yield from self._walk(f"{prefix}/{entry.name}")
            elif not is_partial(entry.name):
                stat = entry.statinfo
                yield FileStat(f"{prefix}/{entry.name}", int(stat.size), float(stat.modtime), None)

    def delete(self, path: str) -> None:
        clean = normalise(path, self.name)
        size = int(self._stat_info(clean).size)
        self._check(self.fs.rm(self._remote(clean), timeout=TIMEOUT), "delete", clean)
        if self._used is not None:
            self._used -= size

    def rename(self, source: str, destination: str) -> None:
        old = normalise(source, self.name)
        new = normalise(destination, self.name)
        self._stat_info(old)
        # The server's mv replaces an existing target: refuse it first (a concurrent
        # writer of the same name can still win; tests and callers never race on names).
        if self.exists(new):
            raise StorageExists(f"{self._label(new)} exists already", se=self.name, path=new)
        if parent(new) != "/":
            made = self.fs.mkdir(self._remote(parent(new)), MkDirFlags.MAKEPATH, timeout=TIMEOUT)
            self._check(made, "make the directory of", new)
        moved = self.fs.mv(self._remote(old), self._remote(new), timeout=TIMEOUT)
        self._check(moved, "rename", old)

    def chmod(self, path: str, mode: int) -> None:
        clean = normalise(path, self.name)
        self._stat_info(clean)
        self._check(
            self.fs.chmod(self._remote(clean), mode & 0o777, timeout=TIMEOUT), "chmod", clean
        )


class _XRootDReader(io.RawIOBase):
    """A raw readable stream over an open XRootD file (for ``io.BufferedReader``)."""

    def __init__(self, handle: Any, element: XRootDElement, clean: str) -> None:
        self.handle = handle
        self.element = element
        self.clean = clean
        self.offset = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        wanted = len(buffer)
        data = self.element._check(
            self.handle.read(self.offset, wanted, timeout=TIMEOUT), "read", self.clean
        )
        buffer[: len(data)] = data
        self.offset += len(data)
        return len(data)
