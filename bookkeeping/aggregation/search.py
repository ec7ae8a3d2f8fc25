"""A search compiled to the bookkeeping interface, and its response and checksum.

The path filters (configuration, conditions, processing pass, event type, file type,
production range) and the dataset filters (run, date, data quality, events, size) become a
``DatasetPath`` that both implementations answer alike, in SQL, through ``iter_files``;
visibility is tested on each streamed ``FileRecord``, and the copy filters (site, storage
element, disk or tape) on ``replicas_of`` a chunk of files at a time. Only ``Bookkeeping``
methods are called, so a search answers identically on the warehouse and on the catalogue.

The response lists the matching visible files ordered by LFN; its checksum is the MD5 of
one ``lfn<TAB>size<TAB>adler32<LF>`` line per file, so a client can verify a cached answer
against a fresh one and a delivery against the search.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from typing import Any

from bookkeeping.aggregation.filters import LARGEST_PRODUCTION, SearchFilter
from bookkeeping.interface import Bookkeeping, DatasetPath, FileRecord, Replica

REPLICA_CHUNK = 500
DISK_CLASSES = ("disk", "recall")


@dataclass(frozen=True)
class MatchedFile:
    lfn: str
    size: int
    adler32: str

    def line(self) -> str:
        return f"{self.lfn}\t{self.size}\t{self.adler32}\n"


@dataclass(frozen=True)
class SearchResponse:
    files: tuple[MatchedFile, ...]
    total_bytes: int
    total_events: int
    checksum: str

    @property
    def total(self) -> int:
        return len(self.files)


def _range(low: Any, high: Any) -> tuple[Any, Any] | None:
    return None if low is None and high is None else (low, high)


def dataset_path(search: SearchFilter) -> DatasetPath:
    """The search as a ``DatasetPath``: the path's levels, the production range and the
    dataset filters (run, creation date, events, size, DQ flag), which both implementations
    answer in SQL, so only matching files are streamed."""
    production_range = None
    if search.production_min is not None or search.production_max is not None:
        production_range = (
            search.production_min or 0,
            LARGEST_PRODUCTION if search.production_max is None else search.production_max,
        )
    return DatasetPath(
        config_name=search.config_name,
        config_version=search.config_version,
        conditions=search.conditions,
        processing_pass=search.processing_pass,
        event_type=search.event_type,
        file_type=search.file_type,
        production_range=production_range,
        run_range=_range(search.run_min, search.run_max),
        created_range=_range(search.date_from, search.date_to),
        events_range=_range(search.events_min, search.events_max),
        size_range=_range(search.size_min, search.size_max),
        quality=search.dq_flag,
    )


def _within(value: object, low: object, high: object) -> bool:
    if low is None and high is None:
        return True
    if value is None:
        return False
    return (low is None or low <= value) and (high is None or value <= high)  # type: ignore[operator]


def record_matches(search: SearchFilter, record: FileRecord) -> bool:
    """The search's meaning on one file (visible, every filter met). ``dataset_path``
    already selects by all but visibility; checking again costs nothing and keeps a cached
    answer's meaning independent of the SQL."""
    return (
        record.visible
        and _within(record.run, search.run_min, search.run_max)
        and _within(record.creation_time, search.date_from, search.date_to)
        and _within(record.events, search.events_min, search.events_max)
        and _within(record.size, search.size_min, search.size_max)
        and (search.dq_flag is None or record.quality == search.dq_flag)
    )


def replicas_match(search: SearchFilter, copies: Iterable[Replica]) -> bool:
    """Some available copy is at the site, on the storage element and of the storage asked."""
    for copy in copies:
        if copy.status != "available":
            continue
        if search.site is not None and copy.site != search.site:
            continue
        if search.se is not None and getattr(copy, "se", "") != search.se:
            continue
        if search.storage == "disk" and copy.storage_class not in DISK_CLASSES:
            continue
        if search.storage == "tape" and copy.storage_class != "tape":
            continue
        return True
    return False


def iter_matching(reader: Bookkeeping, search: SearchFilter) -> Iterator[FileRecord]:
    """Every matching file, ordered by LFN, streamed."""
    records = (r for r in reader.iter_files(dataset_path(search)) if record_matches(search, r))
    if not search.needs_replicas:
        yield from records
        return
    while chunk := list(islice(records, REPLICA_CHUNK)):
        copies = reader.replicas_of([record.file_id for record in chunk])
        yield from (r for r in chunk if replicas_match(search, copies.get(r.file_id, ())))


def run_search(reader: Bookkeeping, search: SearchFilter) -> SearchResponse:
    digest = hashlib.md5(usedforsecurity=False)
    matched: list[MatchedFile] = []
    total_bytes = total_events = 0
    for record in iter_matching(reader, search):
        found = MatchedFile(record.lfn, record.size, record.checksum)
        digest.update(found.line().encode())
        matched.append(found)
        total_bytes += record.size
        total_events += record.events
    return SearchResponse(tuple(matched), total_bytes, total_events, digest.hexdigest())


def response_checksum(files: Iterable[MatchedFile]) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    for found in files:
        digest.update(found.line().encode())
    return digest.hexdigest()
