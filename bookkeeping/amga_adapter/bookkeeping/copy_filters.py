"""``DatasetPath``'s copy filters (``site``, ``storage``) and ``storage_share`` on the
catalogue.

A file's copies live in the site directories; the roottree's shards and the bookkeeping
directories hold none. So the files that the path's other levels and filters select are
read as without copy filters (those pushed into each shard's branch of the union, or the
directories read whole without views), in order, and their copies are looked up
``CHUNK`` files at a time (``replicas_of``: one union over the site directories per chunk);
the copy filters are then applied to each file's copies (``meets_copy_filters``, the
meaning the warehouse's SQL also has). The cost grows with the files the other filters
leave, not with the files kept.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import replace

from bookkeeping.chunking import chunked
from bookkeeping.interface import (
    AVAILABLE,
    DatasetPath,
    FileRecord,
    JobRecord,
    Level,
    LevelValue,
    Replica,
    SiteShare,
    StorageShare,
    meets_copy_filters,
    storage_kinds,
)

CHUNK = 500

CopiesOf = Callable[[Sequence[int]], dict[int, tuple[Replica, ...]]]


def without_copy_filters(path: DatasetPath) -> DatasetPath:
    return replace(path, site=None, storage=None)


def with_copies(
    records: Iterable[FileRecord], copies_of: CopiesOf
) -> Iterator[tuple[FileRecord, tuple[Replica, ...]]]:
    for chunk in chunked(records, CHUNK):
        copies = copies_of([record.file_id for record in chunk])
        for record in chunk:
            yield record, copies.get(record.file_id, ())


def kept(
    path: DatasetPath, records: Iterable[FileRecord], copies_of: CopiesOf
) -> Iterator[FileRecord]:
    """The records (in their order) whose copies meet the path's copy filters."""
    for record, copies in with_copies(records, copies_of):
        if meets_copy_filters(path, copies):
            yield record


def share(path: DatasetPath, records: Iterable[FileRecord], copies_of: CopiesOf) -> StorageShare:
    """``storage_share`` over the records of ``path`` without its copy filters."""
    counts = {"all": [0, 0], "disk": [0, 0], "tape": [0, 0], "recalled": [0, 0]}
    disk_or_recalled = 0
    sites: dict[str, list[int]] = {}
    for record, copies in with_copies(records, copies_of):
        if not meets_copy_filters(path, copies):
            continue
        kinds = storage_kinds(copies)
        for key in ("all", *kinds):
            counts[key][0] += 1
            counts[key][1] += record.size
        disk_or_recalled += bool(kinds & {"disk", "recalled"})
        for site in {copy.site for copy in copies if copy.status == AVAILABLE}:
            total = sites.setdefault(site, [0, 0])
            total[0] += 1
            total[1] += record.size
    return StorageShare(
        files=counts["all"][0], bytes=counts["all"][1],
        disk_files=counts["disk"][0], disk_bytes=counts["disk"][1],
        tape_files=counts["tape"][0], tape_bytes=counts["tape"][1],
        recalled_files=counts["recalled"][0], recalled_bytes=counts["recalled"][1],
        disk_or_recalled_files=disk_or_recalled,
        sites=tuple(SiteShare(site, files, size) for site, (files, size) in sorted(sites.items())),
    )  # fmt: skip


_RECORD_LEVELS = {
    Level.EVENT_TYPE: "event_type",
    Level.FILE_TYPE: "file_type",
    Level.PRODUCTION: "production",
}
_JOB_LEVELS = {
    Level.CONFIG_NAME: "config_name",
    Level.CONFIG_VERSION: "config_version",
    Level.CONDITIONS: "conditions",
    Level.PROCESSING_PASS: "processing_pass",
}


def level_values(
    level: Level,
    records: Iterable[FileRecord],
    job_of: Callable[[int], JobRecord | None],
    descriptions: dict[int, str],
) -> list[LevelValue]:
    """Level values counted over ``records`` (the files the copy filters kept); the levels
    above the file come from each file's job (read once per job)."""
    jobs: dict[int, JobRecord | None] = {}
    totals: dict[str | int, list[int]] = defaultdict(lambda: [0, 0, 0])
    for record in records:
        if level in _RECORD_LEVELS:
            value: str | int = getattr(record, _RECORD_LEVELS[level])
        else:
            if record.job_id not in jobs:
                jobs[record.job_id] = job_of(record.job_id)
            job = jobs[record.job_id]
            assert job is not None, record.job_id  # every recorded file has its job
            value = getattr(job, _JOB_LEVELS[level])
        total = totals[value]
        total[0] += 1
        total[1] += record.events
        total[2] += record.size
    return [
        LevelValue(value, files, events, size, descriptions.get(value))  # type: ignore[arg-type]
        for value, (files, events, size) in sorted(totals.items())
    ]
