"""The view builder: a dataset selection answered from the roottree and its shards.

1. One query reads the roottree entries matching the selected attributes with the
   writers' delta rows for them summed beside (``entries``; over the query language, two
   queries), folded into each entry's summary; entries without files and entries whose
   production range misses the selection are dropped.
2. One ``selectattr_union`` reads the files of every remaining shard: the production filter
   pushed into each shard's branch, ordered and paged by the database (each branch cut to
   ``offset + limit`` rows first).
3. Totals come from the folded summaries. Only entries whose production range straddles a
   production filter are counted in their shards, all of them with one more union.

So a selection is one, two or three statements (two to four over the protocol) whatever
the number of files or matching combinations: the seed's "the average number of access
stays the same whatever is the dimension of DB", without its "many access" weakness.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bookkeeping.amga_adapter.bookkeeping import layout as BL
from bookkeeping.amga_adapter.bookkeeping.catalogue_io import rows
from bookkeeping.amga_adapter.bookkeeping.sessions import ReadSession
from bookkeeping.amga_adapter.bookkeeping.views import layout as V
from bookkeeping.amga_adapter.bookkeeping.views.entries import entry_rows
from bookkeeping.interface import DatasetPath, FileOrder, FileRecord


@dataclass(frozen=True)
class ViewSelection(DatasetPath):
    """A selection by any of the roottree's attributes: the bookkeeping path's levels and
    production filter, and what only the views record of a dataset: ``location`` (the
    site of its files' first copy), ``program`` (``Program0``: the name and version of the
    program that wrote them), ``input_file_type`` (``InputFile0``: the file type they were
    made from) and ``event_description``. ``None`` matches every value.

    The bookkeeping interface's calls take a ``DatasetPath``; a ``ViewSelection`` goes to
    ``views.selection`` directly (the warehouse has no notion of a first copy,
    so these selections are the views' own: ``bk views select``)."""

    location: str | None = None
    program: str | None = None
    input_file_type: str | None = None
    event_description: str | None = None


# selection field -> roottree attribute
_SELECTION = {
    "config_name": "CONFIG",
    "config_version": "CONFIGVERSION",
    "conditions": "DBVERSION",
    "processing_pass": "PROCESSINGPASS",
    "event_type": "EVENTTYPE",
    "file_type": "FILETYPE",
    "location": "LOCATION",
    "program": "Program0",
    "input_file_type": "InputFile0",
    "event_description": "EVENTDESCRIPTION",
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


# Inside ``shared_entries()``: matching_entries' answers by (selection, production filter).
_SHARED: ContextVar[dict[tuple[object, ...], list[Entry]] | None] = ContextVar(
    "shared_entries", default=None
)


@contextmanager
def shared_entries() -> Iterator[None]:
    """``Bookkeeping.shared_reads`` on the catalogue: within the block, this thread's (this
    context's) ``matching_entries`` calls for one selection read the roottree once. A
    dataset page makes four calls over the same entries (files, productions, DQ counts,
    storage share), each one or two statements; a writer's delta landing between them was already
    seen by some calls and not others, so one reading is no less consistent."""
    token = _SHARED.set({})
    try:
        yield
    finally:
        _SHARED.reset(token)


def matching_entries(session: ReadSession, path: DatasetPath) -> list[Entry]:
    """The roottree entries holding files of ``path`` (a ``DatasetPath`` or a
    ``ViewSelection``): one query in this process, two over the protocol (none when
    ``shared_entries`` holds them)."""
    parts = [
        f"{V.ROOTTREE}:{attribute} = {BL.literal(getattr(path, field))}"
        for field, attribute in _SELECTION.items()
        if getattr(path, field, None) is not None  # a DatasetPath has the levels only
    ]
    shared = _SHARED.get()
    key = (tuple(parts), path.production, path.production_range)
    if shared is not None and key in shared:
        return list(shared[key])
    entries = _read_entries(session, path, parts)
    if shared is not None:
        shared[key] = entries
    return list(entries)


def _read_entries(session: ReadSession, path: DatasetPath, parts: list[str]) -> list[Entry]:
    prepared = getattr(session, "prepared", None)
    if prepared is not None:  # in this process: one statement, the deltas summed beside
        selection = {
            attribute: getattr(path, field)
            for field, attribute in _SELECTION.items()
            if getattr(path, field, None) is not None
        }
        found = entry_rows(prepared, selection)
    else:
        found = _entry_rows_by_text(session, parts)
    entries = []
    width = len(V.KEY_ATTRIBUTES)
    for values in found:
        key = values[0]
        combo = V.Combination.from_values(tuple(values[1 : 1 + width]))
        description, shard = values[1 + width], values[2 + width]
        summary = _summary(values[3 + width : 8 + width]).plus(_summary(values[8 + width :]))
        if summary.files and _overlaps(summary, path):
            entries.append(Entry(key, combo, description or "", shard, summary))
    return sorted(entries, key=lambda entry: entry.shard)


def _entry_rows_by_text(session: ReadSession, parts: list[str]) -> list[tuple[Any, ...]]:
    """``entries.entry_rows`` in the query language (over the protocol): the entries,
    then their deltas summed by combination (two statements)."""
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
    none = (None,) * 5
    return [(*values, *deltas.get(values[0], none)) for values in found]


def _deltas(session: ReadSession, selection: str) -> dict[str, tuple[Any, ...]]:
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
    return {values[0]: tuple(values[1:]) for values in rows(session, items, condition)}


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


def production_filter(path: DatasetPath) -> str:
    """The production part of ``path`` and its file filters over a shard's attributes (bare
    names: every branch of a union reads them from its own shard)."""
    parts = []
    if path.production is not None:
        parts.append(f"PRODUCTION = {BL.literal(path.production)}")
    if path.production_range is not None:
        first, last = path.production_range
        parts.append(f"PRODUCTION >= {BL.literal(first)}")
        parts.append(f"PRODUCTION <= {BL.literal(last)}")
    parts.extend(_file_filters(path))
    return " and ".join(parts)


# DatasetPath file filter -> shard attribute (every shard row carries them).
_FILTER_ATTRIBUTES = {
    "run_range": "RUN",
    "created_range": "WRITDAT",
    "events_range": "NBEVT",
    "size_range": "FSIZ",
}


def _file_filters(path: DatasetPath) -> list[str]:
    parts = []
    for name, attribute in _FILTER_ATTRIBUTES.items():
        bounds = getattr(path, name)
        if bounds is None:
            continue
        low, high = (_bound(value) for value in bounds)
        if low is not None:
            parts.append(f"{attribute} >= {low}")
        if high is not None:
            parts.append(f"{attribute} <= {high}")
        if low is None and high is None:
            parts.append(f"{attribute} is not null")
    if path.quality is not None:
        parts.append(f"QUALITY = {BL.literal(path.quality)}")
    return parts


def _bound(value: int | datetime | None) -> str | None:
    # A timestamp attribute reads an ISO string as that moment (docs/query-language.md).
    if value is None:
        return None
    return BL.literal(value.isoformat(sep=" ") if isinstance(value, datetime) else value)


def filtered(path: DatasetPath) -> bool:
    return (
        path.production is not None or path.production_range is not None
    ) or path.has_file_filters


def covered(entry: Entry, path: DatasetPath) -> bool:
    """Whether every file of ``entry`` meets the production filter of ``path`` (its summary
    then answers for it); entries missing it entirely were dropped by matching_entries."""
    if path.has_file_filters:
        return False  # the summaries count every file; the filters need the files counted
    low, high = entry.summary.min_production, entry.summary.max_production
    assert low is not None and high is not None
    if path.production is not None and not low == high == path.production:
        return False
    if path.production_range is not None:
        first, last = path.production_range
        return first <= low and high <= last
    return True


# --- totals and level values ----------------------------------------------------------


def shard_totals(
    session: ReadSession, entries: Sequence[Entry], path: DatasetPath, *, by_production: bool
) -> list[tuple[Entry, int | None, V.Summary]]:
    """(entry, production or None, totals) of the entries' files within ``path``: one
    statement for all the shards."""
    if not entries:
        return []
    grouped = ["PRODUCTION"] if by_production else []
    items = [*grouped, "count(FILE_ID)", "sum(NBEVT)", "sum(FSIZ)"]
    by_shard = {entry.shard: entry for entry in entries}
    stream = session.selectattr_union(
        list(by_shard), items, production_filter(path), with_directory=True
    )
    result = []
    for shard, *values in _closing(stream):
        production = int(values[0]) if by_production else None
        files, events, size = values[-3:]
        if files:
            summary = V.Summary(int(files), int(events or 0), int(size or 0))
            result.append((by_shard[str(shard)], production, summary))
    return result


def shard_quality_counts(
    session: ReadSession, entries: Sequence[Entry], path: DatasetPath
) -> dict[str, int]:
    """Files of the entries within ``path`` per data-quality flag (files without one left
    out): one statement for all the shards, grouped by flag."""
    counts: dict[str, int] = {}
    if not entries:
        return counts
    shards = sorted({entry.shard for entry in entries})
    stream = session.selectattr_union(
        shards, ["QUALITY", "count(FILE_ID)"], production_filter(path), with_directory=True
    )
    for _shard, flag, files in _closing(stream):
        if flag is not None and files:
            counts[str(flag)] = counts.get(str(flag), 0) + int(files)
    return counts


# --- files ----------------------------------------------------------------------------


def order_clause(order_by: FileOrder, descending: bool) -> str:
    """The interface's order over shard attributes: the value (missing runs last in both
    directions, through RUNMISSING), then the file id."""
    direction = " desc" if descending else ""
    order = f"{_ORDER_ATTRIBUTES[order_by]}{direction}, FILE_ID"
    if order_by == "run":
        order = f"RUNMISSING, {order}"
    return f"order by {order}"


def shard_records(
    session: ReadSession,
    entries: Sequence[Entry],
    path: DatasetPath,
    order_by: FileOrder,
    descending: bool,
    offset: int = 0,
    limit: int | None = None,
) -> Iterator[FileRecord]:
    """The files of ``entries`` within ``path``, in order, paged: one statement."""
    if not entries or limit == 0:
        return
    modifiers = [order_clause(order_by, descending)]
    if limit is not None:
        modifiers.append(f"limit {int(limit)}")
    if offset:
        modifiers.append(f"offset {int(offset)}")
    # When every entry lies within the production filter, so do all their files: the
    # filter would only keep the planner from the order index (SQLite then scans the
    # production index and sorts every branch).
    pushed = "" if all(covered(entry, path) for entry in entries) else production_filter(path)
    condition = " ".join([pushed, *modifiers]).strip()
    combinations = {entry.shard: entry.combination for entry in entries}
    stream = session.selectattr_union(
        list(combinations), list(_RECORD_ATTRIBUTES), condition, with_directory=True
    )
    for shard, *values in _closing(stream):
        yield _record(values, combinations[str(shard)])


def _closing(stream: Iterator[tuple[object, ...]]) -> Iterator[tuple[Any, ...]]:
    """The rows of ``stream``; its cursor and connection released even when the consumer
    stops early."""
    try:
        yield from stream
    finally:
        close = getattr(stream, "close", None)
        if close is not None:
            close()


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
