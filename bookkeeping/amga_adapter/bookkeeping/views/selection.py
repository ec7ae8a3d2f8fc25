"""The bookkeeping interface's dataset calls (``files``, ``iter_files``,
``level_values``) answered by the view builder.

Statements per call in this process (the catalogue session's own login lookup aside): the
roottree read with its delta rows summed beside and the schema version read along (one;
over the protocol, three), then for ``files`` the union of the shards (one) and for
``level_values`` nothing more, except one union of per-shard totals when a production
filter or the production level needs files counted in shards whose summary cannot answer
(an entry spanning several productions).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import replace

from bookkeeping.amga_adapter.bookkeeping.sessions import ReadSession
from bookkeeping.amga_adapter.bookkeeping.views import layout as V
from bookkeeping.amga_adapter.bookkeeping.views.builder import (
    Entry,
    covered,
    matching_entries,
    shard_quality_counts,
    shard_records,
    shard_totals,
)
from bookkeeping.interface import DatasetPath, FileOrder, FileRecord, FilesPage, Level, LevelValue

_LEVEL_FIELDS = {
    Level.CONFIG_NAME: "config",
    Level.CONFIG_VERSION: "config_version",
    Level.CONDITIONS: "conditions",
    Level.PROCESSING_PASS: "processing_pass",
    Level.EVENT_TYPE: "event_type",
    Level.FILE_TYPE: "file_type",
}


def view_files(
    session: ReadSession,
    path: DatasetPath,
    offset: int,
    limit: int | None,
    order_by: FileOrder,
    descending: bool,
) -> FilesPage:
    entries = matching_entries(session, path)
    page = tuple(shard_records(session, entries, path, order_by, descending, offset, limit))
    total = _total(session, entries, path)
    return FilesPage(page, total.files, total.events, total.bytes, offset, limit)


def view_quality_counts(
    session: ReadSession, path: DatasetPath, flags: Sequence[str]
) -> dict[str, int]:
    """``quality_counts`` from the shards: one grouped union (the roottree's summaries do
    not split by flag)."""
    base = replace(path, quality=None)
    found = shard_quality_counts(session, matching_entries(session, base), base)
    return {flag: found.get(flag, 0) for flag in flags}


def view_iter_files(
    session: ReadSession, path: DatasetPath, order_by: FileOrder, descending: bool
) -> Iterator[FileRecord]:
    entries = matching_entries(session, path)
    yield from shard_records(session, entries, path, order_by, descending)


def _total(session: ReadSession, entries: list[Entry], path: DatasetPath) -> V.Summary:
    total = V.Summary()
    partial = []
    for entry in entries:
        if covered(entry, path):
            total = total.plus(entry.summary)  # the roottree knows: no shard is read
        else:
            partial.append(entry)
    for _, _, part in shard_totals(session, partial, path, by_production=False):
        total = total.plus(part)
    return total


def _parts(
    session: ReadSession, entries: list[Entry], path: DatasetPath, by_production: bool
) -> list[tuple[Entry, int | None, V.Summary]]:
    """(entry, production or None, totals within ``path``) for every entry, from the
    summaries where they answer, from one union over the other entries' shards."""
    parts: list[tuple[Entry, int | None, V.Summary]] = []
    counted = []
    for entry in entries:
        summary = entry.summary
        single = summary.min_production == summary.max_production
        if covered(entry, path) and (single or not by_production):
            production = summary.min_production if by_production else None
            parts.append((entry, production, summary))
        else:
            counted.append(entry)
    parts.extend(shard_totals(session, counted, path, by_production=by_production))
    return parts


def view_level_values(session: ReadSession, level: Level, path: DatasetPath) -> list[LevelValue]:
    entries = matching_entries(session, path)
    by_production = level is Level.PRODUCTION
    totals: dict[int | str, V.Summary] = defaultdict(V.Summary)
    descriptions: dict[int | str, str] = {}
    for entry in entries:  # descriptions in shard order, as before: the first one wins
        if not by_production:
            descriptions.setdefault(
                getattr(entry.combination, _LEVEL_FIELDS[level]), entry.description
            )
    for entry, production, part in _parts(session, entries, path, by_production):
        if by_production:
            assert production is not None
            value: int | str = production
        else:
            value = getattr(entry.combination, _LEVEL_FIELDS[level])
        totals[value] = totals[value].plus(part)
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
