"""The one interface every storage element implements (posix, xrootd, tape).

Paths on an element are absolute POSIX-style paths below the element's root (``/lhcb/...``);
``paths.normalise`` refuses any that would escape it. Every method raises a subclass of
``StorageError`` naming the element and the path; none returns a half-done result.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Literal

Role = Literal["daq", "offline", "mc", "recall", "tape"]
ROLES: tuple[Role, ...] = ("daq", "offline", "mc", "recall", "tape")


@dataclass(frozen=True)
class FileStat:
    path: str  # absolute path on the element
    size: int
    mtime: float  # seconds since the epoch
    adler32: str | None  # 8 lowercase hex digits; None when not computed by a listing


@dataclass(frozen=True)
class SpaceUsage:
    used: int  # bytes held by files
    capacity: int | None  # bytes; None when unbounded


class StorageElement(ABC):
    """A place that holds files' bytes. Writes are atomic: a file appears under its real
    name only once complete and durable (temporary name + fsync + rename, or the server's
    equivalent)."""

    def __init__(self, name: str, url: str) -> None:
        self.name = name
        self.url = url

    # --- bytes in ---------------------------------------------------------------------
    @abstractmethod
    def put(
        self,
        source: Path | BinaryIO,
        path: str,
        *,
        expected_size: int | None = None,
        expected_adler32: str | None = None,
        overwrite: bool = False,
    ) -> FileStat:
        """Copy a local file or a readable binary stream to ``path``; verify size and
        adler32 when expected values are given (``ChecksumMismatch`` leaves nothing behind);
        return the stat of the stored file, adler32 included."""

    # --- bytes out --------------------------------------------------------------------
    @abstractmethod
    def open_read(self, path: str) -> AbstractContextManager[BinaryIO]:
        """A readable binary stream of the file (streamed, never read whole)."""

    @abstractmethod
    def get(self, path: str, destination: Path | BinaryIO) -> FileStat:
        """Copy the file to a local path (written atomically) or a writable stream; return
        the stat of what was read, adler32 computed over the bytes read."""

    # --- names ------------------------------------------------------------------------
    @abstractmethod
    def stat(self, path: str) -> FileStat:
        """Size, mtime and adler32 (the server's checksum where it has one)."""

    @abstractmethod
    def exists(self, path: str) -> bool: ...

    @abstractmethod
    def list(self, path: str = "/") -> Iterator[FileStat]:
        """Every file below ``path``, recursively, streamed (adler32 may be None)."""

    @abstractmethod
    def delete(self, path: str) -> None: ...

    @abstractmethod
    def rename(self, source: str, destination: str) -> None: ...

    @abstractmethod
    def chmod(self, path: str, mode: int) -> None:
        """Set POSIX permission bits (e.g. 0o444 read-only)."""

    def mode(self, path: str) -> int | None:
        """The file's POSIX permission bits, or None where the element keeps none it can
        tell (what a consumer changing some bits only needs to read first)."""
        return None

    @abstractmethod
    def usage(self) -> SpaceUsage: ...

    def close(self) -> None:  # noqa: B027 - most back-ends hold nothing to release
        """Release connections; the element may not be used afterwards."""
