"""What ``DatasetPath``'s filters mean on one file, and the storage share of a selection.

The reference meaning, written once: the warehouse's SQL and the catalogue's shards compute
the same, the catalogue applies ``meets_copy_filters`` to the copies it reads, and the
tests compare both implementations with these functions.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:  # the interface imports this module
    from bookkeeping.interface import DatasetPath, FileRecord, Replica

StorageFilter = Literal["disk", "tape", "recalled"]
STORAGE_FILTERS: tuple[StorageFilter, ...] = ("disk", "tape", "recalled")
AVAILABLE = "available"


def storage_kinds(copies: Sequence[Replica]) -> frozenset[StorageFilter]:
    """Which of ``STORAGE_FILTERS`` a file with these copies meets (available ones only)."""
    return kinds_of_classes({copy.storage_class for copy in copies if copy.status == AVAILABLE})


def kinds_of_classes(classes: Collection[str]) -> frozenset[StorageFilter]:
    """Which of ``STORAGE_FILTERS`` a file meets whose available copies are of these storage
    classes: "tape" only when no disk or recalled copy is available."""
    kinds: set[StorageFilter] = set()
    if "disk" in classes:
        kinds.add("disk")
    if "recall" in classes:
        kinds.add("recalled")
    if "tape" in classes and not {"disk", "recall"} & set(classes):
        kinds.add("tape")
    return frozenset(kinds)


def meets_copy_filters(path: DatasetPath, copies: Sequence[Replica]) -> bool:
    """The meaning of ``DatasetPath.site`` and ``.storage`` on one file's copies (what the
    warehouse's SQL computes; the catalogue applies it to the copies it reads)."""
    if path.site is not None and not any(
        copy.site == path.site and copy.status == AVAILABLE for copy in copies
    ):
        return False
    return path.storage is None or path.storage in storage_kinds(copies)


@dataclass(frozen=True)
class StorageShare:
    """Where the files of a (filtered) selection are: all of them, those with an available
    disk copy, those only on tape, those recalled (the last three may overlap: a file
    can be on disk and recalled), and per site those with an available copy there."""

    files: int
    bytes: int
    disk_files: int
    disk_bytes: int
    tape_files: int
    tape_bytes: int
    recalled_files: int
    recalled_bytes: int
    # Files with an available disk or recall copy (disk and recalled overlap, so this is
    # not their sum): the page's "with a disk or recalled copy", as the per-file badges.
    disk_or_recalled_files: int
    sites: tuple[SiteShare, ...] = ()


@dataclass(frozen=True, order=True)
class SiteShare:
    site: str
    files: int
    bytes: int


# The DatasetPath fields that filter files (not levels of the path), each with the
# FileRecord attribute it tests; ranges are tuples (low, high), the quality an equality.
FILE_FILTERS: dict[str, str] = {
    "run_range": "run",
    "created_range": "creation_time",
    "events_range": "events",
    "size_range": "size",
    "quality": "quality",
}


def meets_file_filters(path: DatasetPath, record: FileRecord) -> bool:
    """The meaning of ``DatasetPath``'s file filters on one record (what the SQL of both
    implementations computes; also the reference of the tests)."""
    for name, attribute in FILE_FILTERS.items():
        wanted = getattr(path, name)
        if wanted is None:
            continue
        value = getattr(record, attribute)
        if name == "quality":
            if value != wanted:
                return False
            continue
        low, high = wanted
        if (
            value is None
            or (low is not None and value < low)
            or (high is not None and value > high)
        ):
            return False
    return True
