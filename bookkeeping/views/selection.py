"""The bookkeeping interface's dataset calls (``files``, ``iter_files``,
``level_values``) answered by the view builder."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from itertools import islice

from bookkeeping.amga_adapter.session import CatalogueSession
from bookkeeping.interface import DatasetPath, FileOrder, FileRecord, FilesPage, Level, LevelValue
from bookkeeping.views import layout as V
from bookkeeping.views.builder import (
    Entry,
    filtered,
    matching_entries,
    merged,
    shard_records,
    shard_totals,
)

_LEVEL_FIELDS = {
    Level.CONFIG_NAME: "config",
    Level.CONFIG_VERSION: "config_version",
    Level.CONDITIONS: "conditions",
    Level.PROCESSING_PASS: "processing_pass",
    Level.EVENT_TYPE: "event_type",
    Level.FILE_TYPE: "file_type",
}


def view_files(
    session: CatalogueSession,
    path: DatasetPath,
    offset: int,
    limit: int | None,
    order_by: FileOrder,
    descending: bool,
) -> FilesPage:
    entries = matching_entries(session, path)
    wanted = None if limit is None else offset + limit
    parts = [shard_records(session, e, path, order_by, descending, wanted) for e in entries]
    page = tuple(islice(merged(parts, order_by, descending), offset, wanted))
    total = _total(session, entries, path)
    return FilesPage(page, total.files, total.events, total.bytes, offset, limit)


def view_iter_files(
    session: CatalogueSession, path: DatasetPath, order_by: FileOrder, descending: bool
) -> Iterator[FileRecord]:
    entries = matching_entries(session, path)
    parts = [shard_records(session, e, path, order_by, descending, None) for e in entries]
    yield from merged(parts, order_by, descending)


def _total(session: CatalogueSession, entries: list[Entry], path: DatasetPath) -> V.Summary:
    total = V.Summary()
    for entry in entries:
        if not filtered(path):
            total = total.plus(entry.summary)  # the roottree knows: no shard is read
            continue
        for _, part in shard_totals(session, entry, path, by_production=False):
            total = total.plus(part)
    return total


def view_level_values(
    session: CatalogueSession, level: Level, path: DatasetPath
) -> list[LevelValue]:
    entries = matching_entries(session, path)
    totals: dict[int | str, V.Summary] = defaultdict(V.Summary)
    descriptions: dict[int | str, str] = {}
    for entry in entries:
        if level is Level.PRODUCTION or filtered(path):
            by_production = level is Level.PRODUCTION
            parts = shard_totals(session, entry, path, by_production=by_production)
        else:
            parts = [(None, entry.summary)]
        for production, part in parts:
            if level is Level.PRODUCTION:
                assert production is not None
                value: int | str = production
            else:
                value = getattr(entry.combination, _LEVEL_FIELDS[level])
            totals[value] = totals[value].plus(part)
            descriptions.setdefault(value, entry.description)
    described = level is Level.EVENT_TYPE
    return [
        LevelValue(
            value,
            total.files,
            total.events,
            total.bytes,
            descriptions[value] if described else None,
        )
        for value, total in sorted(totals.items())
    ]
