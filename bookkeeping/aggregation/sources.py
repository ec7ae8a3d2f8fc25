"""Where a delivery's bytes come from: the storage elements the bookkeeping names.

``storage.transfer.get_file`` picks the best available copy (disk, then recalled, then
tape), reads it through the storage API and checks its size and adler32 against the
bookkeeping. Files only on tape are first recalled to a disk area by a ``Recaller`` when the
service has one (the data-handling recall daemon's client, ``bookkeeping.aggregation_recall``,
handed in by whoever assembles the service: the import contracts keep the aggregation and
data-handling packages independent of each other); without one they are read from the tape
element directly (the emulated library mounts and seeks).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from bookkeeping.aggregation.errors import PreparationFailed
from bookkeeping.errors import BookkeepingError
from bookkeeping.interface import Bookkeeping
from bookkeeping.storage.registry import StorageRegistry
from bookkeeping.storage.transfer import get_file, ranked_replicas

DISK_CLASSES = ("disk", "recall")


class Recaller(Protocol):
    """Brings files only on tape to a disk recall area before they are copied, in one
    request (the recall daemon reads a cartridge once for all its files)."""

    def recall(self, lfns: Sequence[str], keep_alive: Callable[[], bool]) -> dict[str, str]:
        """Wait until every file is recalled (or failed); ``keep_alive()`` is called while
        waiting and ``False`` from it stops the wait. Returns {lfn: why} of the failed."""
        ...

    def release(self) -> None:
        """The recalled copies are no longer needed (their pins go)."""
        ...


@dataclass(frozen=True)
class Fetched:
    source: str  # "SE:path"
    size: int
    adler32: str
    from_tape: bool


class StorageSource:
    """``FileSource`` over the bookkeeping's copies and the SE registry."""

    def __init__(self, reader: Bookkeeping, registry: StorageRegistry) -> None:
        self.reader = reader
        self.registry = registry

    def tape_only(self, lfn: str) -> bool:
        """The file's only readable copies are on tape."""
        return self._tape_only(lfn)

    def _tape_only(self, lfn: str) -> bool:
        record = self.reader.file_by_lfn(lfn)
        if record is None:
            return False
        ranked = ranked_replicas(self.registry, self.reader.replicas(record.file_id))
        return bool(ranked) and all(r.storage_class not in DISK_CLASSES for r, _ in ranked)

    def fetch(self, lfn: str, destination: Path) -> Fetched:
        try:
            tape_only = self._tape_only(lfn)
            got = get_file(self.reader, self.registry, lfn, destination)
        except BookkeepingError as exc:
            raise PreparationFailed(f"{lfn}: {exc}") from exc
        return Fetched(f"{got.se}:{got.path}", got.size, got.adler32, tape_only)
