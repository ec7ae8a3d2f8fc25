"""A storage element on a directory of a local or mounted file system (``file:///path``).

Writes are atomic: the bytes go to a temporary name in the target's own directory
(``.<name>.bk-part-<random>``), are fsynced, then renamed over the real name and the
directory fsynced, so a crash or a kill at any moment leaves either the whole file under
its name or none (a temporary file, which ``list`` does not show; ``partial_files`` does,
for an audit to clean).

The adler32 of a file is computed while it is written and kept in an extended attribute
(``user.bk.adler32``, with the file's mtime and size) so that ``stat`` need not read the file
again; where the file system has no user attributes, ``stat`` reads the file.
"""

from __future__ import annotations

import errno
import functools
import os
import secrets
import shutil
import stat
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import BinaryIO

from bookkeeping.storage.checksum import Adler32, adler32_of_file, read_chunks
from bookkeeping.storage.element import FileStat, SpaceUsage, StorageElement
from bookkeeping.storage.errors import (
    ChecksumMismatch,
    SourceChanged,
    StorageError,
    StorageExists,
    StorageFileNotFound,
    StorageFull,
    StorageUnavailable,
    UnsafePath,
)
from bookkeeping.storage.paths import normalise

PARTIAL_MARKER = ".bk-part-"
XATTR = "user.bk.adler32"


def is_partial(name: str) -> bool:
    """Whether a file name is a temporary name of an unfinished write."""
    return name.startswith(".") and PARTIAL_MARKER in name


def fsync_directory(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _remember_checksum(path: Path, adler32: str) -> None:
    status = path.stat()
    try:
        os.setxattr(path, XATTR, f"{status.st_mtime_ns}:{status.st_size}:{adler32}".encode())
    except OSError:
        pass  # no user attributes here: stat reads the file


def _remembered_checksum(path: Path, status: os.stat_result) -> str | None:
    try:
        mtime, size, adler32 = os.getxattr(path, XATTR).decode().split(":")
    except (OSError, ValueError):
        return None
    if int(mtime) != status.st_mtime_ns or int(size) != status.st_size:
        return None  # changed since it was written through us
    return adler32


def copy_out(chunks: Iterable[bytes], destination: Path | BinaryIO) -> tuple[int, str]:
    """Copy a file's chunks to a local path (written atomically) or a writable stream, as
    every element's ``get`` does; (size, adler32) of what passed."""
    if isinstance(destination, Path):
        return write_atomically(chunks, destination, overwrite=True, label=str(destination))
    running = Adler32()
    for chunk in chunks:
        running.update(chunk)
        destination.write(chunk)
    return running.size, running.hexdigest()


def write_atomically(
    chunks: Iterable[bytes],
    target: Path,
    *,
    overwrite: bool,
    label: str,
    check: Callable[[int, str], None] | None = None,
) -> tuple[int, str]:
    """Write ``chunks`` to ``target`` through a temporary name in its directory (fsync,
    ``check(size, adler32)``, rename, fsync of the directory); (size, adler32) of what was
    written. ``label`` names the file in errors. On any failure, ``check``'s included,
    nothing is left under ``target`` (nor a temporary file, unless the process dies)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.parent / f".{target.name}{PARTIAL_MARKER}{secrets.token_hex(6)}"
    running = Adler32()
    try:
        with open(temporary, "xb") as stream:
            for chunk in chunks:
                running.update(chunk)
                stream.write(chunk)
            stream.flush()
            os.fsync(stream.fileno())
        if check is not None:
            check(running.size, running.hexdigest())
        if overwrite:
            os.replace(temporary, target)
        else:
            # link() refuses an existing name, atomically: no check-then-rename race.
            try:
                os.link(temporary, target)
            except FileExistsError:
                raise StorageExists(f"{label} exists already", path=str(target)) from None
            os.unlink(temporary)
        fsync_directory(target.parent)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return running.size, running.hexdigest()


class PosixElement(StorageElement):
    """Files under ``root``; ``capacity`` and ``watermark`` (bytes) bound what puts may add."""

    def __init__(
        self,
        name: str,
        url: str,
        root: Path,
        *,
        capacity: int | None = None,
        watermark: int = 0,
    ) -> None:
        super().__init__(name, url)
        self.root = root
        self.capacity = capacity
        self.watermark = watermark
        self._used: int | None = None  # bytes under root, walked once when capacity bounds
        self._lock = threading.Lock()  # batches copy from several threads

    # --- paths ------------------------------------------------------------------------
    def _label(self, path: str) -> str:
        return f"{path} on storage element {self.name}"

    def _local(self, path: str, *, allow_root: bool = False) -> tuple[str, Path]:
        """(normalised path, local path); ``UnsafePath`` for one leaving the root, also
        through a symbolic link."""
        clean = normalise(path, self.name, allow_root=allow_root)
        local = self.root / clean.lstrip("/")
        root = os.path.realpath(self.root)
        real = os.path.realpath(local)
        if real != root and not real.startswith(root + os.sep):
            raise UnsafePath(
                f"{self._label(clean)} leads outside the element's root", se=self.name, path=clean
            )
        return clean, local

    def _check_root(self) -> None:
        if not self.root.is_dir():
            raise StorageUnavailable(
                f"storage element {self.name}: its root {self.root} is not a directory",
                se=self.name,
            )

    def _missing(self, clean: str) -> StorageFileNotFound:
        return StorageFileNotFound(f"no file {self._label(clean)}", se=self.name, path=clean)

    # --- space ------------------------------------------------------------------------
    def _check_room(self, clean: str, size: int) -> None:
        free = shutil.disk_usage(self.root).free
        if free - size < self.watermark:
            raise StorageFull(
                f"storage element {self.name} is full: {size} bytes for {clean} would leave "
                f"{free - size} bytes free, below its watermark of {self.watermark}",
                se=self.name,
                path=clean,
            )
        if self.capacity is not None:
            used = self._used_bytes()
            if used + size > self.capacity - self.watermark:
                raise StorageFull(
                    f"storage element {self.name} is full: {size} bytes for {clean} on "
                    f"{used} used of a capacity of {self.capacity} (watermark {self.watermark})",
                    se=self.name,
                    path=clean,
                )

    def _used_bytes(self) -> int:
        if self._used is None:
            self._used = sum(item.size for item in self.list("/"))
        return self._used

    def _account(self, delta: int) -> None:
        with self._lock:
            if self._used is not None:
                self._used += delta

    def usage(self) -> SpaceUsage:
        self._check_root()
        self._used = None
        return SpaceUsage(self._used_bytes(), self.capacity)

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
        clean, local = self._local(path)
        self._check_root()
        if isinstance(source, Path):
            return self._put_file(source, clean, local, expected_size, expected_adler32, overwrite)
        self._check_room(clean, expected_size or 0)
        return self._write(
            read_chunks(source), clean, local, expected_size, expected_adler32, overwrite
        )

    def _put_file(
        self,
        source: Path,
        clean: str,
        local: Path,
        expected_size: int | None,
        expected_adler32: str | None,
        overwrite: bool,
    ) -> FileStat:
        try:
            before = source.stat()
        except FileNotFoundError:
            raise StorageFileNotFound(
                f"no local file {source} to put as {self._label(clean)}", path=str(source)
            ) from None
        self._check_room(clean, before.st_size)

        def unchanged(size: int) -> None:
            # Checked before the file gets its name: a changed source leaves nothing.
            after = source.stat()
            moved = (after.st_size, after.st_mtime_ns) != (before.st_size, before.st_mtime_ns)
            if moved or size != after.st_size:
                raise SourceChanged(
                    f"local file {source} changed while it was copied to "
                    f"{self._label(clean)}; nothing was stored",
                    se=self.name,
                    path=clean,
                )

        with open(source, "rb") as stream:
            return self._write(
                read_chunks(stream),
                clean,
                local,
                expected_size,
                expected_adler32,
                overwrite,
                unchanged,
            )

    def _write(
        self,
        chunks: Iterator[bytes],
        clean: str,
        local: Path,
        expected_size: int | None,
        expected_adler32: str | None,
        overwrite: bool,
        source_check: Callable[[int], None] | None = None,
    ) -> FileStat:
        label = self._label(clean)
        if not overwrite and local.exists():
            raise StorageExists(f"{label} exists already", se=self.name, path=clean)
        previous = local.stat().st_size if local.exists() else 0
        try:
            size, adler32 = write_atomically(
                chunks,
                local,
                overwrite=overwrite,
                label=label,
                check=functools.partial(
                    _check_expected, label, expected_size, expected_adler32, source_check
                ),
            )
        except OSError as exc:
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                raise StorageFull(
                    f"storage element {self.name} is full writing {clean}",
                    se=self.name,
                    path=clean,
                ) from None
            raise StorageError(f"cannot write {label}: {exc}", se=self.name, path=clean) from None
        self._account(size - previous)
        _remember_checksum(local, adler32)
        return FileStat(clean, size, local.stat().st_mtime, adler32)

    # --- bytes out --------------------------------------------------------------------
    def open_read(self, path: str) -> AbstractContextManager[BinaryIO]:
        clean, local = self._local(path)
        return self._open(clean, local)

    @contextmanager
    def _open(self, clean: str, local: Path) -> Iterator[BinaryIO]:
        try:
            stream = open(local, "rb")  # noqa: SIM115 - closed below, after the caller's block
        except (FileNotFoundError, IsADirectoryError):
            raise self._missing(clean) from None
        with stream:
            yield stream

    def get(self, path: str, destination: Path | BinaryIO) -> FileStat:
        clean, local = self._local(path)
        with self._open(clean, local) as stream:
            mtime = os.fstat(stream.fileno()).st_mtime
            size, adler32 = copy_out(read_chunks(stream), destination)
        return FileStat(clean, size, mtime, adler32)

    # --- names ------------------------------------------------------------------------
    def stat(self, path: str) -> FileStat:
        clean, local = self._local(path)
        try:
            status = local.stat()
        except FileNotFoundError:
            raise self._missing(clean) from None
        if not local.is_file():
            raise self._missing(clean)
        adler32 = _remembered_checksum(local, status) or adler32_of_file(local)[1]
        return FileStat(clean, status.st_size, status.st_mtime, adler32)

    def exists(self, path: str) -> bool:
        _, local = self._local(path)
        return local.is_file()

    def list(self, path: str = "/") -> Iterator[FileStat]:
        clean, local = self._local(path, allow_root=True)
        if local.is_file():
            status = local.stat()
            yield FileStat(clean, status.st_size, status.st_mtime, None)
            return
        yield from self._walk(local, "" if clean == "/" else clean)

    def _walk(self, directory: Path, prefix: str) -> Iterator[FileStat]:
        """Files below ``directory`` in name order, depth first, streamed."""
        try:
            entries = sorted(os.scandir(directory), key=lambda entry: entry.name)
        except (FileNotFoundError, NotADirectoryError):
            return
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                yield from self._walk(Path(entry.path), f"{prefix}/{entry.name}")
            elif not is_partial(entry.name):
                try:
                    status = entry.stat()
                except FileNotFoundError:
                    continue  # deleted while listed
                yield FileStat(f"{prefix}/{entry.name}", status.st_size, status.st_mtime, None)

    def partial_files(self) -> Iterator[str]:
        """Temporary files of unfinished writes (a killed put), for an audit to remove."""
        for directory, _, names in os.walk(self.root):
            for name in sorted(names):
                if is_partial(name):
                    relative = os.path.relpath(os.path.join(directory, name), self.root)
                    yield "/" + relative.replace(os.sep, "/")

    def delete(self, path: str) -> None:
        clean, local = self._local(path)
        try:
            size = local.stat().st_size
            local.unlink()
        except (FileNotFoundError, IsADirectoryError):
            raise self._missing(clean) from None
        self._account(-size)

    def rename(self, source: str, destination: str) -> None:
        clean_source, local_source = self._local(source)
        clean_destination, local_destination = self._local(destination)
        if not local_source.is_file():
            raise self._missing(clean_source)
        local_destination.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(local_source, local_destination)  # refuses an existing destination
        except FileExistsError:
            raise StorageExists(
                f"{self._label(clean_destination)} exists already",
                se=self.name,
                path=clean_destination,
            ) from None
        os.unlink(local_source)
        fsync_directory(local_destination.parent)

    def chmod(self, path: str, mode: int) -> None:
        clean, local = self._local(path)
        if not local.is_file():
            raise self._missing(clean)
        os.chmod(local, mode)

    def mode(self, path: str) -> int | None:
        clean, local = self._local(path)
        try:
            status = local.stat()
        except FileNotFoundError:
            raise self._missing(clean) from None
        return stat.S_IMODE(status.st_mode)


def _check_expected(
    label: str,
    expected_size: int | None,
    expected_adler32: str | None,
    source_check: Callable[[int], None] | None,
    size: int,
    adler32: str,
) -> None:
    if source_check is not None:
        source_check(size)
    if (expected_size is not None and size != expected_size) or (
        expected_adler32 is not None and adler32 != expected_adler32.lower()
    ):
        raise ChecksumMismatch(
            f"{label}: the bytes written have size {size} and adler32 {adler32}, not the "
            f"expected size {expected_size} and adler32 {expected_adler32}; nothing was stored",
            path=label,
        )
