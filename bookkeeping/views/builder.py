"""The view builder: a dataset selection answered from the roottree and its shards.

1. One query reads the roottree entries matching the selected attributes, one more the
   writers' delta rows for them (folded into each entry's summary); entries without files
   and entries whose production range misses the selection are dropped.
2. Each remaining shard is asked for its part, filters (production) pushed down, already
   ordered and cut to ``offset + limit`` rows; the shards' ordered streams are merged.

The number of queries depends on the number of matching combinations, never on the number
of files: the seed's "the average number of access stays the same whatever is the
dimension of DB". The catalogue's query language has no UNION, so the UNION ALL of the
shards is this merge of per-shard streams.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import total_ordering
from typing import Any

from bookkeeping.amga_adapter.bookkeeping import layout as BL
from bookkeeping.amga_adapter.bookkeeping.catalogue_io import rows
from bookkeeping.amga_adapter.session import CatalogueSession
from bookkeeping.interface import DatasetPath, FileOrder, FileRecord
from bookkeeping.views import layout as V

_SELECTION = {
    "config_name": "CONFIG",
    "config_version": "CONFIGVERSION",
    "conditions": "DBVERSION",
    "processing_pass": "PROCESSINGPASS",
    "event_type": "EVENTTYPE",
    "file_type": "FILETYPE",
}
_ORDER_ATTRIBUTES = {
    "lfn": "FILNAM",
    "size": "FSIZ",
    "events": "NBEVT",
    "run": "RUN",
    "production": "PRODUCTION",
    "creation": "WRITDAT",
    "file_id": "FILE_ID",
}
_RECORD_ATTRIBUTES = (
    "FILE_ID", "FILNAM", "GUID", "FSIZ", "NBEVT", "CHECKSUM", "JOBID", "PRODUCTION", "RUN",
    "WRITDAT", "VISIBLE", "QUALITY",
)  # fmt: skip


@dataclass(frozen=True)
class Entry:
    """A roottree entry with its summary folded."""

    key: str
    combination: V.Combination
    description: str
    shard: str
    summary: V.Summary


def matching_entries(session: CatalogueSession, path: DatasetPath) -> list[Entry]:
    """The roottree entries holding files of ``path`` (two queries)."""
    parts = [
        f"{V.ROOTTREE}:{attribute} = {BL.literal(getattr(path, field))}"
        for field, attribute in _SELECTION.items()
        if getattr(path, field) is not None
    ]
    items = [
        f"{V.ROOTTREE}:FILE",
        *(f"{V.ROOTTREE}:{a}" for a in V.KEY_ATTRIBUTES),
        f"{V.ROOTTREE}:EVENTDESCRIPTION",
        f"{V.ROOTTREE}:SHARD",
        *(f"{V.ROOTTREE}:{a}" for a in V.SUMMARY_ATTRIBUTES),
    ]
    found = rows(session, items, " and ".join(parts))
    if not found:
        return []
    deltas = _deltas(session, " and ".join(parts))
    entries = []
    width = len(V.KEY_ATTRIBUTES)
    for values in found:
        key = values[0]
        combo = V.Combination.from_values(tuple(values[1 : 1 + width]))
        description, shard = values[1 + width], values[2 + width]
        summary = _summary(values[3 + width :]).plus(deltas.get(key, V.Summary()))
        if summary.files and _overlaps(summary, path):
            entries.append(Entry(key, combo, description or "", shard, summary))
    return sorted(entries, key=lambda entry: entry.shard)


def _deltas(session: CatalogueSession, selection: str) -> dict[str, V.Summary]:
    """The writers' delta rows of the selected entries, summed by combination."""
    d = V.DELTAS
    items = [
        f"{d}:COMBINATION",
        f"sum({d}:FILES)",
        f"sum({d}:NBEVENTS)",
        f"sum({d}:BYTES)",
        f"min({d}:MINPRODUCTION)",
        f"max({d}:MAXPRODUCTION)",
    ]
    condition = f"{d}:COMBINATION = {V.ROOTTREE}:FILE"
    if selection:
        condition += f" and {selection}"
    return {values[0]: _summary(values[1:]) for values in rows(session, items, condition)}


def _summary(values: Sequence[Any]) -> V.Summary:
    files, events, size, low, high = values
    return V.Summary(
        int(files or 0),
        int(events or 0),
        int(size or 0),
        None if low is None else int(low),
        None if high is None else int(high),
    )


def _overlaps(summary: V.Summary, path: DatasetPath) -> bool:
    low, high = summary.min_production, summary.max_production
    assert low is not None and high is not None
    if path.production is not None and not low <= path.production <= high:
        return False
    if path.production_range is not None:
        first, last = path.production_range
        return not (high < first or low > last)
    return True


def production_filter(shard: str, path: DatasetPath) -> str:
    parts = []
    if path.production is not None:
        parts.append(f"{shard}:PRODUCTION = {BL.literal(path.production)}")
    if path.production_range is not None:
        first, last = path.production_range
        parts.append(f"{shard}:PRODUCTION >= {BL.literal(first)}")
        parts.append(f"{shard}:PRODUCTION <= {BL.literal(last)}")
    return " and ".join(parts)


def filtered(path: DatasetPath) -> bool:
    return path.production is not None or path.production_range is not None


# --- totals and level values ----------------------------------------------------------


def shard_totals(
    session: CatalogueSession, entry: Entry, path: DatasetPath, *, by_production: bool
) -> list[tuple[int | None, V.Summary]]:
    """(production or None, totals) of the entry's files within ``path``."""
    s = entry.shard
    grouped = [f"{s}:PRODUCTION"] if by_production else []
    items = [*grouped, f"count({s}:FILE_ID)", f"sum({s}:NBEVT)", f"sum({s}:FSIZ)"]
    result = []
    for values in rows(session, items, production_filter(s, path)):
        production = int(values[0]) if by_production else None
        files, events, size = values[-3:]
        if files:
            result.append((production, V.Summary(int(files), int(events or 0), int(size or 0))))
    return result


# --- files ----------------------------------------------------------------------------


@total_ordering
class _Key:
    """The interface's order as one comparable key: missing values last, the value
    ascending or descending, file id ascending."""

    __slots__ = ("missing", "value", "file_id", "descending")

    def __init__(self, value: Any, file_id: int, descending: bool) -> None:
        self.missing = value is None
        self.value = value
        self.file_id = file_id
        self.descending = descending

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Key) and (self.value, self.file_id) == (
            other.value,
            other.file_id,
        )

    def __lt__(self, other: _Key) -> bool:
        if self.missing != other.missing:
            return other.missing
        if not self.missing and self.value != other.value:
            return (self.value > other.value) if self.descending else (self.value < other.value)
        return self.file_id < other.file_id


_RECORD_FIELDS = {
    "lfn": "lfn",
    "size": "size",
    "events": "events",
    "run": "run",
    "production": "production",
    "creation": "creation_time",
    "file_id": "file_id",
}


def shard_records(
    session: CatalogueSession,
    entry: Entry,
    path: DatasetPath,
    order_by: FileOrder,
    descending: bool,
    limit: int | None,
) -> list[FileRecord]:
    """The entry's files within ``path``, in order, at most ``limit``."""
    s = entry.shard
    attribute = _ORDER_ATTRIBUTES[order_by]
    direction = " desc" if descending else ""
    order = f"{s}:{attribute}{direction}, {s}:FILE_ID"
    if order_by == "run":
        order = f"{s}:RUNMISSING, {order}"
    modifiers = f"order by {order}" + ("" if limit is None else f" limit {limit}")
    condition = f"{production_filter(s, path)} {modifiers}".strip()
    combo = entry.combination
    return [
        _record(values, combo)
        for values in rows(session, [f"{s}:{a}" for a in _RECORD_ATTRIBUTES], condition)
    ]


def _record(values: Sequence[Any], combo: V.Combination) -> FileRecord:
    file_id, lfn, guid, size, events, checksum, job, production, run, created, visible, q = values
    return FileRecord(
        file_id=int(file_id),
        lfn=lfn,
        guid=guid,
        size=int(size),
        events=int(events),
        checksum=checksum,
        file_type=combo.file_type,
        event_type=int(combo.event_type),
        job_id=int(job),
        production=int(production),
        run=None if run is None else int(run),
        creation_time=created,
        visible=bool(visible),
        quality=q,
    )


def merged(
    parts: Sequence[list[FileRecord]], order_by: FileOrder, descending: bool
) -> Iterator[FileRecord]:
    """The UNION ALL of the shards' ordered parts, in the interface's order."""
    field = _RECORD_FIELDS[order_by]
    return heapq.merge(
        *parts, key=lambda record: _Key(getattr(record, field), record.file_id, descending)
    )
